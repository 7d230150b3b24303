"""Where a study's models live: beside its SQLite database, or where its run was told."""

from pathlib import Path

import pytest

from tuner.errors import TunerError
from tuner.search.artifacts import beside_database, open_store, store_to_read, store_to_write


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///results/tuner.db", Path("results/artifacts")),
        ("sqlite:////srv/studies/a.db", Path("/srv/studies/artifacts")),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("postgresql://u@127.0.0.1/db", None),
    ],
)
def test_beside_the_database(url, expected):
    assert beside_database(url) == expected


def test_reading_prefers_the_flag_then_the_record_then_beside_the_database(tmp_path):
    recorded, beside = tmp_path / "recorded", tmp_path / "beside"
    beside.mkdir()
    assert store_to_read(tmp_path / "given", str(recorded), beside) == tmp_path / "given"
    assert store_to_read(None, str(recorded), beside) == beside  # the record is stale
    recorded.mkdir()
    assert store_to_read(None, str(recorded), beside) == recorded
    assert store_to_read(None, None, tmp_path / "none") is None


def test_a_run_keeps_the_study_s_store(tmp_path):
    recorded, beside = tmp_path / "recorded", tmp_path / "beside"
    assert store_to_write(None, None, beside) == beside
    assert store_to_write(tmp_path / "given", str(recorded), beside) == tmp_path / "given"
    recorded.mkdir()
    assert store_to_write(None, str(recorded), beside) == recorded
    assert store_to_write(recorded, str(recorded), None) == recorded
    with pytest.raises(TunerError, match=f"keeps its models in {recorded}; give that or none"):
        store_to_write(tmp_path / "other", str(recorded), beside)


def test_a_study_outside_sqlite_needs_a_folder(tmp_path):
    with pytest.raises(TunerError, match="needs --artifacts"):
        store_to_write(None, None, None)
    with pytest.raises(TunerError, match="artifact store is not a folder here"):
        store_to_write(None, str(tmp_path / "unmounted"), None)


def test_opening_to_read_creates_nothing(tmp_path):
    with pytest.raises(TunerError, match="no artifact store here"):
        open_store(tmp_path / "artifacts", create=False)
    assert not any(tmp_path.iterdir())


def test_a_store_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(TunerError, match="cannot write the artifact store: Not a directory"):
        open_store(tmp_path / "file" / "artifacts")
