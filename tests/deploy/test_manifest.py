"""SHA256SUMS: written as sha256sum writes it, read back strictly, and every file checked."""

import hashlib
import shutil
import subprocess

import pytest

from tuner.deploy.manifest import MANIFEST_FILE, parse_manifest, verify_files, write_manifest
from tuner.errors import TunerError

DIGEST = "0" * 64


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"weights")
    (tmp_path / "saved_model" / "1").mkdir(parents=True)
    (tmp_path / "saved_model" / "1" / "saved_model.pb").write_bytes(b"graph")
    write_manifest(tmp_path)
    return tmp_path


def test_every_file_is_listed_with_its_sha256_and_verifies(folder):
    listed = parse_manifest((folder / MANIFEST_FILE).read_bytes(), source="m")
    assert listed == {
        "model.keras": hashlib.sha256(b"weights").hexdigest(),
        "saved_model/1/saved_model.pb": hashlib.sha256(b"graph").hexdigest(),
    }
    assert verify_files(folder) == {"model.keras": 7, "saved_model/1/saved_model.pb": 5}


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils' sha256sum")
def test_sha256sum_checks_it_too(folder):
    check = subprocess.run(["sha256sum", "-c", MANIFEST_FILE], cwd=folder, capture_output=True)
    assert check.returncode == 0, check.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: (f / "model.keras").write_bytes(b"other"), "changed or damaged since export"),
        (lambda f: (f / "model.keras").unlink(), "model.keras is listed in SHA256SUMS but missing"),
        (lambda f: (f / "extra.txt").write_text("x"), "extra.txt: not listed in SHA256SUMS"),
        (lambda f: (f / MANIFEST_FILE).unlink(), "no SHA256SUMS, so its files cannot be verified"),
    ],
    ids=["changed", "missing", "unlisted", "no-manifest"],
)
def test_a_bundle_that_is_not_as_exported_is_refused_in_one_line(folder, change, message):
    change(folder)
    with pytest.raises(TunerError, match=message) as error:
        verify_files(folder)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{DIGEST}  ../outside\n", "line 1: not '<sha256>  <path in the bundle>'"),
        (f"{DIGEST}  /etc/passwd\n", "line 1: not '<sha256>"),
        (f"{DIGEST[:-1]}  model.keras\n", "line 1: not '<sha256>"),
        (f"{DIGEST}  a\n{DIGEST}  a\n", "line 2: 'a' listed twice"),
    ],
)
def test_a_manifest_line_of_any_other_form_is_refused(text, message):
    with pytest.raises(TunerError, match=message):
        parse_manifest(text.encode(), source="m")


def test_a_manifest_that_is_not_utf8_is_refused():
    with pytest.raises(TunerError, match="not UTF-8 text"):
        parse_manifest(b"\xff\xfe", source="m")
