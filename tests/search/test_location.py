"""Where a study lives: which storage and artifact store are used, and which are refused
before anything is opened."""

import re
import sys
from pathlib import Path

import pytest

from tuner.cli import main
from tuner.errors import TunerError
from tuner.search.location import DEFAULT_STORAGE, StudyLocation, parse_url


def _at(url: str, artifacts=None) -> StudyLocation:
    return StudyLocation.of(url, artifacts, environ={})


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
    assert str(StudyLocation.of(given, None, environ)) == expected


@pytest.mark.parametrize(
    ("given", "environ", "expected"),
    [
        (None, {}, None),
        ("a", {"TUNER_ARTIFACTS": "b"}, Path("a")),
        (None, {"TUNER_ARTIFACTS": "b"}, Path("b")),
        (None, {"TUNER_ARTIFACTS": ""}, None),
    ],
)
def test_artifacts_flag_then_variable(given, environ, expected):
    assert StudyLocation.of(None, given, environ).artifacts == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://localhost/0", "unknown storage scheme 'redis'"),
        ("::", "the storage is not a URL"),
        ("::secret@", "^the storage is not a URL"),
    ],
)
def test_unknown_urls_are_refused(url, message):
    with pytest.raises(TunerError, match=message):
        parse_url(url)


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
    assert str(_at("postgresql://tuner:s3cret@db.example:5432/studies")) == (
        "postgresql://tuner:***@db.example:5432/studies"
    )
    assert str(_at("sqlite:///results/tuner.db")) == "sqlite:///results/tuner.db"


@pytest.mark.parametrize(
    ("url", "database", "beside"),
    [
        ("sqlite:///results/tuner.db", Path("results/tuner.db"), Path("results/artifacts")),
        ("sqlite:////srv/studies/a.db", Path("/srv/studies/a.db"), Path("/srv/studies/artifacts")),
        ("sqlite:///:memory:", None, None),
        ("sqlite://", None, None),
        ("postgresql://u@127.0.0.1/db", None, None),
    ],
)
def test_the_database_file_and_the_store_beside_it(url, database, beside):
    assert (_at(url).sqlite_file, _at(url).beside) == (database, beside)


def test_the_command_line_reaches_the_study_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _at("sqlite:///results/tuner.db").command_line() == (
        f"--storage sqlite:///{tmp_path}/results/tuner.db"
    )
    assert _at("postgresql://me:secret@db/tuner").command_line() == (
        "--storage 'postgresql://me:***@db/tuner'"
    )


def test_reading_prefers_the_flag_then_the_record_then_beside_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    recorded, beside = tmp_path / "recorded", tmp_path / "artifacts"
    beside.mkdir()
    given = tmp_path / "given"
    assert _at(url, given).store_to_read(str(recorded)) == given
    assert _at(url).store_to_read(str(recorded)) == beside  # the record is stale
    recorded.mkdir()
    assert _at(url).store_to_read(str(recorded)) == recorded
    beside.rmdir()
    assert _at(url).store_to_read(None) is None


def test_a_run_keeps_the_study_s_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    recorded, beside = tmp_path / "recorded", tmp_path / "artifacts"
    assert _at(url).store_to_write(None) == beside
    assert _at(url, tmp_path / "given").store_to_write(str(recorded)) == tmp_path / "given"
    recorded.mkdir()
    assert _at(url).store_to_write(str(recorded)) == recorded
    assert _at("postgresql://u@h/db", recorded).store_to_write(str(recorded)) == recorded
    with pytest.raises(TunerError, match=f"keeps its models in {recorded}; give that or none"):
        _at(url, tmp_path / "other").store_to_write(str(recorded))


def test_a_study_outside_sqlite_needs_a_folder(tmp_path):
    with pytest.raises(TunerError, match="needs an artifact store"):
        _at("postgresql://u@h/db").store_to_write(None)
    with pytest.raises(TunerError, match="artifact store is not a folder here"):
        _at("postgresql://u@h/db").store_to_write(str(tmp_path / "unmounted"))


def test_a_bucket_from_the_flag_or_the_environment(tmp_path):
    from tuner.search.stores import Bucket

    given = StudyLocation.of("sqlite:///x.db", "s3://models/team/tuner", environ={})
    assert given.artifacts == Bucket("models", "team/tuner")
    from_env = StudyLocation.of("sqlite:///x.db", environ={"TUNER_ARTIFACTS": "s3://models"})
    assert from_env.artifacts == Bucket("models")
    with pytest.raises(TunerError, match="unknown artifact store 'gs://'"):
        StudyLocation.of("sqlite:///x.db", "gs://models/tuner", environ={})


def test_a_recorded_bucket_is_reached_from_any_machine(tmp_path):
    from tuner.search.stores import Bucket

    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    (tmp_path / "artifacts").mkdir()  # beside the database, but the study recorded a bucket
    assert _at(url).store_to_read("s3://models/tuner") == Bucket("models", "tuner")
    assert _at("postgresql://u@h/db").store_to_write("s3://models/tuner/") == Bucket(
        "models", "tuner"
    )
    with pytest.raises(TunerError, match="keeps its models in s3://models/tuner; give that"):
        _at("postgresql://u@h/db", tmp_path / "folder").store_to_write("s3://models/tuner")
