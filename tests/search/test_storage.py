"""Storage URLs: which one is used, and which are refused before anything is opened."""

import os
import re
import sys

import pytest

from tuner.cli import main
from tuner.errors import TunerError
from tuner.search.storage import (
    DEFAULT_STORAGE,
    DatabaseFile,
    open_storage,
    parse_url,
    printable_url,
    storage_url,
)


@pytest.mark.parametrize(
    ("given", "environ", "expected"),
    [
        (None, {}, DEFAULT_STORAGE),
        ("sqlite:///a.db", {"TUNER_STORAGE": "sqlite:///b.db"}, "sqlite:///a.db"),
        (
            None,
            {"TUNER_STORAGE": "sqlite:///b.db", "OPTUNA_STORAGE": "sqlite:///c.db"},
            "sqlite:///b.db",
        ),
        (None, {"OPTUNA_STORAGE": "sqlite:///c.db"}, "sqlite:///c.db"),
        (None, {"TUNER_STORAGE": "", "OPTUNA_STORAGE": "sqlite:///c.db"}, "sqlite:///c.db"),
    ],
)
def test_storage_flag_then_tuner_then_optuna_variable(given, environ, expected):
    assert storage_url(given, environ) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [("redis://localhost/0", "unknown storage scheme 'redis'"), ("::", "not a storage URL")],
)
def test_unknown_urls_are_refused(url, message):
    with pytest.raises(TunerError, match=message):
        parse_url(url)


def test_reading_a_missing_sqlite_file_creates_nothing(tmp_path):
    with pytest.raises(TunerError, match="no study database here"):
        open_storage(f"sqlite:///{tmp_path / 'none.db'}", create=False)
    assert not any(tmp_path.iterdir())


def test_a_new_sqlite_file_is_in_wal_mode(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'sub' / 'tuner.db'}")
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    storage.engine.dispose()


@pytest.mark.parametrize(
    ("url", "hidden", "message"),
    [
        (
            "postgresql://u@127.0.0.1/db",
            "psycopg",
            "'psycopg' is not installed (pip install 'tuner[postgres]')",
        ),
        (
            "postgresql+psycopg2://u:secret@127.0.0.1/db",
            "psycopg2",
            "(pip install psycopg2-binary)",
        ),
        ("mysql+pymysql://u@127.0.0.1/db", "pymysql", "(pip install PyMySQL)"),
    ],
)
def test_a_missing_driver_is_one_line_naming_what_to_install(monkeypatch, url, hidden, message):
    monkeypatch.setitem(sys.modules, hidden, None)  # as if it were not installed
    with pytest.raises(TunerError, match=re.escape(message)) as error:
        parse_url(url)
    assert "secret" not in str(error.value) and "\n" not in str(error.value)


def test_an_unknown_driver_is_refused():
    with pytest.raises(TunerError, match="unknown driver 'nope'"):
        parse_url("postgresql+nope://127.0.0.1/db")


def test_run_with_a_missing_driver_exits_2_before_reading_data(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--storage", "postgresql://u@127.0.0.1/db", "--data", "none.csv"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "tuner[postgres]" in err, err
    assert not any(tmp_path.iterdir())


def test_a_printed_url_hides_its_password():
    url = "postgresql://tuner:s3cret@db.example:5432/studies"
    assert printable_url(url) == "postgresql://tuner:***@db.example:5432/studies"
    assert printable_url("sqlite:///results/tuner.db") == "sqlite:///results/tuner.db"


def test_a_database_deleted_or_replaced_during_a_run_is_lost(tmp_path):
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    open_storage(url).engine.dispose()
    database = DatabaseFile.of(url)
    assert database.lost() is None
    os.rename(tmp_path / "tuner.db", tmp_path / "moved.db")
    (tmp_path / "tuner.db").write_bytes(b"")
    path = tmp_path / "tuner.db"
    assert database.lost() == f"{path}: the study database was replaced during the run"
    (tmp_path / "tuner.db").unlink()
    assert database.lost() == f"{path}: the study database was deleted during the run"
    assert DatabaseFile.of("sqlite:///:memory:") is None
    assert DatabaseFile.of("postgresql://user@127.0.0.1/tuner") is None
