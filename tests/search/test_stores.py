"""The artifact store's address and opening: a folder or a bucket, each refused in one line
when it cannot be used. A real S3-compatible server is in tests/search/test_machines.py."""

from pathlib import Path

import pytest

from tuner.errors import TunerError
from tuner.search.stores import Bucket, is_here, open_store, parse_store, same_store, settled


def test_opening_to_read_creates_nothing(tmp_path):
    with pytest.raises(TunerError, match="no artifact store here"):
        open_store(tmp_path / "artifacts", create=False)
    assert not any(tmp_path.iterdir())


def test_a_store_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(TunerError, match="cannot write the artifact store: Not a directory"):
        open_store(tmp_path / "file" / "artifacts")


@pytest.mark.parametrize(
    ("text", "bucket"),
    [
        ("s3://models", Bucket("models")),
        ("s3://models/", Bucket("models")),
        ("s3://models/tuner", Bucket("models", "tuner")),
        ("s3://my.models-1/team/tuner/", Bucket("my.models-1", "team/tuner")),
    ],
)
def test_an_s3_url_is_a_bucket_and_a_prefix(text, bucket):
    assert parse_store(text) == bucket
    assert parse_store(str(bucket)) == bucket  # what a study records reads back the same


def test_a_key_goes_under_the_prefix():
    assert Bucket("models", "team/tuner").key("abc") == "team/tuner/abc"
    assert Bucket("models").key("abc") == "abc"


@pytest.mark.parametrize("text", ["s3://", "s3:///tuner", "s3://Models/x", "s3://a/x", "s3://-x-/"])
def test_a_bad_bucket_name_is_refused(text):
    with pytest.raises(TunerError, match="not an S3 bucket name"):
        parse_store(text)


@pytest.mark.parametrize("text", ["gs://models/tuner", "http://host/x", "file:///tmp/x"])
def test_an_unknown_scheme_is_refused_not_taken_for_a_folder(text):
    with pytest.raises(TunerError, match="unknown artifact store"):
        parse_store(text)


def test_anything_else_is_a_folder(tmp_path):
    assert parse_store("results/artifacts") == Path("results/artifacts")
    assert parse_store(tmp_path) == tmp_path
    assert is_here(tmp_path) and not is_here(tmp_path / "absent")
    assert is_here(Bucket("models"))  # reached from any machine


def test_the_same_store_however_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert same_store(Path("a"), tmp_path / "a")
    assert not same_store(Path("a"), Bucket("a"))
    assert same_store(Bucket("models", "p"), parse_store("s3://models/p/"))
    assert settled(Path("a")) == tmp_path / "a"
    assert settled(Bucket("models")) == Bucket("models")
