"""Damaged and forged bundles through `tuner predict`: each refused in one line, exit 2.

Every bundle starts as a canary: sealed like an export, its model a Lambda layer that
creates a marker file when Keras runs it. A damaged bundle (changed after export) is left
as it is; a forged one is sealed again, as someone who knows the format would, so that the
check under test is the one that refuses it. No case may create the marker.
"""

import contextlib
import io
import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from tests.deploy.test_bundle import META
from tuner.cli import main
from tuner.deploy.bundle import CARD_FILE, METADATA_FILE, MODEL_FILE
from tuner.deploy.manifest import (
    MANIFEST_FILE,
    MAX_BUNDLE_BYTES,
    MAX_BUNDLE_ENTRIES,
    MAX_MANIFEST_BYTES,
    write_manifest,
)

SAVED = "saved_model"


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> tuple[Path, Path]:
    """(a sealed bundle whose model runs code, the marker that code would create)."""
    import keras

    folder = tmp_path_factory.mktemp("canary")
    marker, bundle = folder / "ran", folder / "bundle"
    (bundle / SAVED / "variables").mkdir(parents=True)
    touch = keras.layers.Lambda(
        lambda x, path: open(path, "w") and x, arguments={"path": str(marker)}
    )
    keras.Sequential([keras.Input((3,)), touch]).save(bundle / MODEL_FILE)
    marker.unlink(missing_ok=True)  # saving traced the function once
    (bundle / METADATA_FILE).write_text(META.to_json())
    (bundle / CARD_FILE).write_text("# a model card\n")
    (bundle / SAVED / "saved_model.pb").write_bytes(b"\x08\x01" * 64)
    (bundle / SAVED / "variables" / "variables.index").write_bytes(b"\x00" * 32)
    write_manifest(bundle)
    return bundle, marker


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def _metadata(b: Path, **changes) -> None:
    (b / METADATA_FILE).write_text(json.dumps({**json.loads(META.to_json()), **changes}))


def _manifest_line(b: Path, line: str) -> None:
    with (b / MANIFEST_FILE).open("a") as f:
        f.write(line + "\n")


def _symlink(path: Path, to: Path) -> None:
    path.unlink()
    path.symlink_to(to)


def _model_folder(b: Path) -> None:
    (b / MODEL_FILE).unlink()
    (b / MODEL_FILE).mkdir()
    (b / MODEL_FILE / "config.json").write_text("{}")


def _many_files(b: Path) -> None:
    (b / "many").mkdir()
    for i in range(MAX_BUNDLE_ENTRIES):
        (b / "many" / str(i)).touch()


def _nested(depth: int) -> str:
    return '{"format_version": 2, "target": ' + "[" * depth + "]" * depth + "}"


HASH = "0" * 64
# name: (damage(bundle), sealed again after the damage, what the one line says)
CASES = {
    "model changed": (lambda b: _flip_a_byte(b / MODEL_FILE), False, "model.keras: sha256 "),
    "model truncated": (
        lambda b: os.truncate(b / MODEL_FILE, 100),
        False,
        "changed or damaged since export",
    ),
    "metadata edited": (lambda b: _metadata(b, seq_len=12), False, "metadata.json: sha256 "),
    "metadata emptied": (lambda b: (b / METADATA_FILE).write_text(""), False, "metadata.json: "),
    "model card edited": (
        lambda b: (b / CARD_FILE).write_text("# trust me\n"),
        False,
        "README.md: sha256 ",
    ),
    "saved model changed": (
        lambda b: _flip_a_byte(b / SAVED / "saved_model.pb"),
        False,
        "saved_model/saved_model.pb: sha256 ",
    ),
    "a listed file missing": (
        lambda b: (b / SAVED / "variables" / "variables.index").unlink(),
        False,
        "saved_model/variables/variables.index is listed in SHA256SUMS but missing",
    ),
    "an unlisted file": (
        lambda b: (b / "evil.py").write_text("import os"),
        False,
        "evil.py: not listed in SHA256SUMS",
    ),
    "an unlisted hidden file in a subfolder": (
        lambda b: (b / SAVED / ".evil.so").write_bytes(b"\x7fELF"),
        False,
        r"saved_model/\.evil\.so: not listed",
    ),
    "no manifest": (lambda b: (b / MANIFEST_FILE).unlink(), False, "no SHA256SUMS, so its files"),
    "a bundle of format 1, before checksums": (
        lambda b: (_metadata(b, format_version=1), (b / MANIFEST_FILE).unlink()),
        False,
        "no SHA256SUMS",
    ),
    "manifest of another tool": (
        lambda b: (b / MANIFEST_FILE).write_text(f"MD5 ({MODEL_FILE}) = {HASH[:32]}\n"),
        False,
        "SHA256SUMS: line 1: not '<sha256>  <path in the bundle>'",
    ),
    "manifest naming a file outside": (
        lambda b: _manifest_line(b, f"{HASH}  ../outside"),
        False,
        "SHA256SUMS: line 6: not",
    ),
    "manifest naming an absolute path": (
        lambda b: _manifest_line(b, f"{HASH}  /etc/passwd"),
        False,
        "SHA256SUMS: line 6: not",
    ),
    "manifest listing a file twice": (
        lambda b: _manifest_line(b, f"{HASH}  {MODEL_FILE}"),
        False,
        "'model.keras' listed twice",
    ),
    "manifest not UTF-8": (
        lambda b: (b / MANIFEST_FILE).write_bytes(b"\xff\xfe" * 40),
        False,
        "SHA256SUMS: not UTF-8",
    ),
    "manifest too large": (
        lambda b: os.truncate(b / MANIFEST_FILE, MAX_MANIFEST_BYTES + 1),
        False,
        "SHA256SUMS: .* bytes, too large",
    ),
    "manifest a link": (
        lambda b: _symlink(b / MANIFEST_FILE, b / CARD_FILE),
        False,
        "SHA256SUMS: a symbolic link",
    ),
    "a link out of the bundle": (
        lambda b: _symlink(b / SAVED / "saved_model.pb", Path("/etc/passwd")),
        False,
        "saved_model.pb: a symbolic link; refused",
    ),
    "metadata a link inside the bundle": (
        lambda b: (
            shutil.copy(b / METADATA_FILE, b / "copy.json"),
            _symlink(b / METADATA_FILE, Path("copy.json")),
        ),
        False,
        "metadata.json: a symbolic link",
    ),
    "model a pipe": (
        lambda b: ((b / MODEL_FILE).unlink(), os.mkfifo(b / MODEL_FILE)),
        False,
        "model.keras: not a regular file",
    ),
    "model a folder": (_model_folder, True, "model.keras: not a file"),
    "files larger than a bundle can be": (
        lambda b: os.truncate(b / SAVED / "saved_model.pb", MAX_BUNDLE_BYTES),
        False,
        f"more than {MAX_BUNDLE_BYTES} bytes",
    ),
    "too many files": (_many_files, False, f"more than {MAX_BUNDLE_ENTRIES} entries"),
    "a file name with a line break": (
        lambda b: (b / "a\nb").touch(),
        False,
        "a file name 'a\\\\nb' a bundle cannot hold",
    ),
    "a file name that is not UTF-8": (
        lambda b: open(os.path.join(os.fsencode(b), b"\xff"), "w").close(),
        False,
        "a file name .* a bundle cannot hold",
    ),
    "metadata nested too deeply": (
        lambda b: (b / METADATA_FILE).write_text(_nested(100_000)),
        True,
        "not valid export metadata: nested too deeply",
    ),
    "a number beyond floating point": (
        lambda b: (b / METADATA_FILE).write_text(
            META.to_json().replace('"test_rmse": 20.4', '"test_rmse": 1' + "0" * 400)
        ),
        True,
        "test_rmse: expected a finite number",
    ),
    "a NaN score": (
        lambda b: (b / METADATA_FILE).write_text(
            META.to_json().replace('"val_rmse": 23.1', '"val_rmse": NaN')
        ),
        True,
        "val_rmse: expected a finite number, got nan",
    ),
    "metadata not UTF-8": (
        lambda b: (b / METADATA_FILE).write_bytes(b'{"target": "\xff"}'),
        True,
        "not valid export metadata: 'utf-8' codec",
    ),
    "the whole bundle forged, with a Lambda model": (
        lambda b: None,
        True,
        "model.keras: refused: .*Lambda",
    ),
}


def test_at_least_thirty_kinds():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_refused_in_one_line_with_nothing_run(name, canary, tmp_path):
    damage, seal, message = CASES[name]
    source, marker = canary
    bundle = tmp_path / "bundle"
    shutil.copytree(source, bundle, symlinks=True)
    damage(bundle)
    if seal:
        write_manifest(bundle)
    code, err = _predict(bundle)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not marker.exists()


def test_the_canary_runs_when_loaded_unsafely(canary):
    import keras

    bundle, marker = canary
    keras.saving.load_model(bundle / MODEL_FILE, safe_mode=False)
    assert marker.exists()  # so the marker's absence above means nothing ran
    marker.unlink()


def _predict(bundle: Path) -> tuple[int, str]:
    """`tuner predict` in this process, held to 60 s: a read that blocks fails the test."""

    def hung(*_):
        raise AssertionError("tuner predict blocked")

    err = io.StringIO()
    args = ["predict", "--verbose", "--model", str(bundle), "--data", str(bundle / "x.csv")]
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        with contextlib.redirect_stderr(err):  # --verbose: the process's stderr left alone
            code = main(args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()
