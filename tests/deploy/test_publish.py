"""Export's swap: readers see a whole bundle, old or new; exporters take turns; no leftovers."""

import json
import multiprocessing
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tuner.deploy.bundle import METADATA_FILE, MODEL_FILE
from tuner.deploy.manifest import MANIFEST_FILE, parse_manifest, verify_files
from tuner.deploy.publish import publish, read_pinned, staging_folder


def _export(out: Path, version: str) -> None:
    staging = staging_folder(out)
    (staging / MODEL_FILE).write_bytes(version.encode() * 20_000)
    (staging / "saved_model").mkdir()
    (staging / "saved_model" / "x").write_text(version)
    (staging / METADATA_FILE).write_text(json.dumps({"version": version}))
    publish(staging, out)


def _read(folder: Path) -> str:
    version = json.loads((folder / METADATA_FILE).read_text())["version"]
    model = (folder / MODEL_FILE).read_bytes()
    assert model == version.encode() * 20_000, "a bundle mixed from two exports"
    return version


EXPORTS = 40  # by each exporter


def _exporter(out: str, name: str, reads) -> None:
    """`EXPORTS` exports, each followed by a whole read begun once it was in place: the
    reader sees the bundle change that often, however the processes are scheduled."""
    turn, began, ended = reads
    for i in range(EXPORTS):
        _export(Path(out), f"{name}-{i:03d}")
        with turn:
            after = began.value
            assert turn.wait_for(lambda after=after: ended.value > after, timeout=120), "no read"


def _reader(out: str, stop, seen, reads) -> None:
    turn, began, ended = reads
    try:
        while not stop.is_set():
            with turn:
                began.value += 1
            seen.append(read_pinned(out, _read))
            with turn:
                ended.value += 1
                turn.notify_all()
    finally:  # a reader that failed holds no exporter back
        with turn:
            ended.value = 2**31 - 1
            turn.notify_all()


def test_concurrent_exporters_and_a_reader(tmp_path):
    out = tmp_path / "best"
    _export(out, "first-000")
    context = multiprocessing.get_context("spawn")
    counts = (context.Value("i", 0, lock=False) for _ in range(2))
    reads = (context.Condition(), *counts)  # a turn, reads begun, reads ended
    with context.Manager() as manager:
        stop, seen = manager.Event(), manager.list()
        reader = context.Process(target=_reader, args=(str(out), stop, seen, reads))
        reader.start()
        exporters = [
            context.Process(target=_exporter, args=(str(out), f"w{i}", reads)) for i in range(3)
        ]
        for p in exporters:
            p.start()
        for p in exporters:
            p.join(timeout=300)
        stop.set()
        reader.join(timeout=60)
        versions = list(seen)
    assert reader.exitcode == 0, "the reader failed (its error is above)"
    assert [p.exitcode for p in exporters] == [0, 0, 0]
    # Each export of an exporter is followed by a read begun after it: that read sees a
    # bundle published after the previous such read ended.
    assert len(set(versions)) >= EXPORTS
    assert os.listdir(tmp_path) == ["best"]  # no staging, retired or lock leftovers
    assert _read(out).endswith(f"-{EXPORTS - 1:03d}")


def test_a_bundle_is_readable_like_any_other_output(tmp_path):
    previous = os.umask(0o027)
    try:
        _export(tmp_path / "best", "a")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "best").stat().st_mode)
    assert mode == 0o750
    assert stat.S_IMODE((tmp_path / "best" / MODEL_FILE).stat().st_mode) == 0o640


def test_a_replaced_bundle_leaves_nothing_behind(tmp_path):
    _export(tmp_path / "best", "a")
    _export(tmp_path / "best", "b")
    assert os.listdir(tmp_path) == ["best"] and _read(tmp_path / "best") == "b"


def test_reading_a_missing_folder_is_one_line(tmp_path):
    from tuner.errors import TunerError

    with pytest.raises(TunerError, match="no such folder"):
        read_pinned(tmp_path / "none", _read)


def test_publishing_records_the_checksum_of_every_file_whatever_they_are(tmp_path):
    out = tmp_path / "best"
    staging = staging_folder(out)
    written = {
        MODEL_FILE: b"keras",
        "model.onnx": b"onnx",
        "saved_model/1/saved_model.pb": b"pb",
        "saved_model/1/variables/variables.data-00000-of-00001": b"w" * 3000,
        "a name with spaces.txt": b"",
    }
    for name, data in written.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(data)
    publish(staging, out)
    listed = parse_manifest((out / MANIFEST_FILE).read_bytes(), source=MANIFEST_FILE)
    assert set(listed) == set(written)
    assert verify_files(out) == {name: len(data) for name, data in written.items()}
    if shutil.which("sha256sum"):  # the coreutils tool reads it as its own
        subprocess.run(["sha256sum", "--check", "--quiet", MANIFEST_FILE], cwd=out, check=True)
