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


def test_the_time_an_upload_holds_is_bounded_as_documented():
    from tuner.search import stores

    waits = 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 6.4
    expected = stores.UPLOAD_RETRIES * (stores.CONNECT_TIMEOUT_S + stores.READ_TIMEOUT_S) + waits
    assert stores.upload_bound_s() == pytest.approx(expected)


@pytest.fixture
def bucket_behind_a_proxy(monkeypatch):
    """moto's S3 server, reached through a fault proxy, with short timeouts and tries."""
    import boto3

    from tests.faults.proxy import FaultProxy
    from tests.servers import S3Server, aws_environment
    from tuner.search import stores

    for name, value in [
        ("CONNECT_TIMEOUT_S", 1),
        ("READ_TIMEOUT_S", 1),
        ("UPLOAD_RETRIES", 3),
        ("UPLOAD_FIRST_DELAY_S", 0.1),
        ("UPLOAD_MAX_DELAY_S", 0.2),
    ]:
        monkeypatch.setattr(stores, name, value)
    server = S3Server()
    proxy = FaultProxy(server.port, postgres=False)
    environment = aws_environment(f"http://127.0.0.1:{proxy.port}")
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3").create_bucket(Bucket="models")
    try:
        yield proxy, stores.open_store(stores.parse_store("s3://models/study"))
    finally:
        proxy.close()
        server.close()


@pytest.mark.e2e
@pytest.mark.parametrize("fault", ["stalled", "stopped"])
def test_an_upload_to_a_bucket_that_stopped_answering_fails_within_its_bound(
    bucket_behind_a_proxy, fault
):
    import io
    import time

    from tuner.search.stores import READ_TIMEOUT_S, UPLOAD_RETRIES, store_errors, upload_bound_s

    proxy, store = bucket_behind_a_proxy
    store.write("before", io.BytesIO(b"model"))  # the bucket answers
    proxy.refuse()  # the connections kept alive are broken
    if fault == "stalled":
        proxy.stall()  # accepts, and never answers
        proxy.accept()
    started = time.monotonic()
    with pytest.raises(store_errors()):
        store.write("during", io.BytesIO(b"model"))
    elapsed = time.monotonic() - started
    assert elapsed <= upload_bound_s() + 1.0
    if fault == "stalled":  # every try waited for its read timeout
        assert elapsed >= UPLOAD_RETRIES * READ_TIMEOUT_S
