"""Opening a study's storage: nothing is made by a reader, SQLite in WAL mode, a database
lost during a run is noticed, and the study asked for (or the only one) is found."""

import os

import optuna
import pytest

from tuner.errors import TunerError
from tuner.search.location import StudyLocation
from tuner.search.storage import DatabaseFile, load_study, open_storage


def _at(url: str) -> StudyLocation:
    return StudyLocation.of(url, None, environ={})


def test_reading_a_missing_sqlite_file_creates_nothing(tmp_path):
    with pytest.raises(TunerError, match="no study database here"):
        open_storage(_at(f"sqlite:///{tmp_path / 'none.db'}"), create=False)
    assert not any(tmp_path.iterdir())


def test_a_new_sqlite_file_is_in_wal_mode(tmp_path):
    storage = open_storage(_at(f"sqlite:///{tmp_path / 'sub' / 'tuner.db'}"))
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    storage.engine.dispose()


def test_a_database_deleted_or_replaced_during_a_run_is_lost(tmp_path):
    location = _at(f"sqlite:///{tmp_path / 'tuner.db'}")
    open_storage(location).engine.dispose()
    database = DatabaseFile.of(location)
    assert database.lost() is None
    os.rename(tmp_path / "tuner.db", tmp_path / "moved.db")
    (tmp_path / "tuner.db").write_bytes(b"")
    path = tmp_path / "tuner.db"
    assert database.lost() == f"{path}: the study database was replaced during the run"
    (tmp_path / "tuner.db").unlink()
    assert database.lost() == f"{path}: the study database was deleted during the run"
    assert DatabaseFile.of(_at("sqlite:///:memory:")) is None
    assert DatabaseFile.of(_at("postgresql://user@127.0.0.1/tuner")) is None


def test_with_no_name_the_storage_s_only_study_is_read(tmp_path):
    storage = open_storage(_at(f"sqlite:///{tmp_path / 'tuner.db'}"))
    with pytest.raises(TunerError, match="which study\\? give --study: it holds none"):
        load_study(storage)
    optuna.create_study(study_name="sales-lstm_baseline", storage=storage)
    assert load_study(storage).study_name == "sales-lstm_baseline"
    optuna.create_study(study_name="beijing-lstm_baseline", storage=storage)
    with pytest.raises(TunerError, match="it holds beijing-lstm_baseline, sales-lstm_baseline$"):
        load_study(storage)
    assert load_study(storage, "beijing-lstm_baseline").study_name == "beijing-lstm_baseline"
    with pytest.raises(TunerError, match="no study 'other' in this storage"):
        load_study(storage, "other")
