"""Finding the built-in dataset: local copies, checksum, and download (served on loopback)."""

import dataclasses
import functools
import http.server
import io
import shutil
import threading
import zipfile

import pytest

from tuner.data import sources
from tuner.data.sources import BEIJING, resolve
from tuner.errors import TunerError


@pytest.fixture
def serve(tmp_path):
    """Serve files from a folder on 127.0.0.1; yields a function name -> URL."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, lambda name: f"http://127.0.0.1:{server.server_port}/{name}"
    server.shutdown()


def _zip(folder, name, member, payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, payload)
    (folder / name).write_bytes(buffer.getvalue())


def test_tuner_data_dir_then_the_cache_folder(tmp_path, beijing_csv):
    spec = resolve(
        "beijing", environ={"TUNER_DATA_DIR": str(beijing_csv.parent)}, data_dir=tmp_path
    )
    assert spec.path == str(beijing_csv) and spec.target == "pm2.5"
    cache = tmp_path / "cache" / "tuner" / "data"
    cache.mkdir(parents=True)
    shutil.copy(beijing_csv, cache / BEIJING.filename)
    spec = resolve("beijing", environ={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert spec.path == str(cache / BEIJING.filename)
    assert (spec.val_start, spec.test_start) == ("2013-01-01", "2014-01-01")


def test_a_path_to_the_builtin_file_is_the_builtin(beijing_csv):
    spec = resolve(str(beijing_csv))
    assert spec.name == "beijing" and spec.sha256 == BEIJING.sha256


def test_wrong_checksum_is_refused(tmp_path, beijing_csv):
    copy = tmp_path / BEIJING.filename
    copy.write_bytes(beijing_csv.read_bytes().replace(b"\r\n", b"\n"))
    with pytest.raises(TunerError, match="wrong checksum"):
        resolve("beijing", environ={"TUNER_DATA_DIR": str(tmp_path)}, data_dir=tmp_path / "x")
    with pytest.raises(TunerError, match="wrong checksum"):
        resolve(str(copy))


def test_download_verifies_and_caches(tmp_path, beijing_csv, serve, monkeypatch):
    www, url = serve
    _zip(www, "beijing.zip", BEIJING.filename, beijing_csv.read_bytes())
    monkeypatch.setitem(
        sources.BUILTINS, "beijing", dataclasses.replace(BEIJING, url=url("beijing.zip"))
    )
    cache = tmp_path / "data"
    spec = resolve("beijing", environ={}, data_dir=cache)
    assert spec.path == str(cache / BEIJING.filename)
    assert sources.sha256_of(cache / BEIJING.filename) == BEIJING.sha256


def test_download_with_wrong_bytes_caches_nothing(tmp_path, serve, monkeypatch):
    www, url = serve
    _zip(www, "bad.zip", BEIJING.filename, b"No,year\n1,2010\n")
    monkeypatch.setitem(
        sources.BUILTINS, "beijing", dataclasses.replace(BEIJING, url=url("bad.zip"))
    )
    with pytest.raises(TunerError, match="wrong checksum"):
        resolve("beijing", environ={}, data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_offline_names_the_three_ways(tmp_path, serve, monkeypatch):
    _, url = serve
    monkeypatch.setitem(
        sources.BUILTINS, "beijing", dataclasses.replace(BEIJING, url=url("missing.zip"))
    )
    with pytest.raises(TunerError) as error:
        resolve("beijing", environ={}, data_dir=tmp_path / "data")
    message = str(error.value)
    assert "--data PATH" in message and "TUNER_DATA_DIR" in message and "data" in message
    assert "\n" not in message


def test_a_csv_that_is_not_builtin_needs_a_target(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("ts,load\n2020-01-01 00:00,1\n")
    with pytest.raises(TunerError, match="--target"):
        resolve(str(path))
    assert resolve(str(path), target="load").name == "mine"
    with pytest.raises(TunerError, match="no such file"):
        resolve(str(tmp_path / "nope.csv"), target="load")


def test_the_unit_is_known_for_a_builtin_target_only(beijing_spec):
    assert sources.target_unit(beijing_spec) == "µg/m³"
    other_column = dataclasses.replace(beijing_spec, target="TEMP")
    assert sources.target_unit(other_column) is None
    same_name = dataclasses.replace(beijing_spec, sha256="0" * 64)  # a user's beijing.csv
    assert sources.target_unit(same_name) is None
