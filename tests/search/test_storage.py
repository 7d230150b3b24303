"""Storage URLs: which one is used, and which are refused before anything is opened."""

import pytest

from tuner.errors import TunerError
from tuner.search.storage import DEFAULT_STORAGE, open_storage, parse_url, storage_url


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
