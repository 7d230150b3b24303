"""The artifact store: opened to read it creates nothing; one that cannot be written is one line."""

import pytest

from tuner.errors import TunerError
from tuner.search.artifacts import open_store


def test_opening_to_read_creates_nothing(tmp_path):
    with pytest.raises(TunerError, match="no artifact store here"):
        open_store(tmp_path / "artifacts", create=False)
    assert not any(tmp_path.iterdir())


def test_a_store_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(TunerError, match="cannot write the artifact store: Not a directory"):
        open_store(tmp_path / "file" / "artifacts")
