"""Read-only and full disks, a missing folder, a database deleted mid-run: one line, no trace.

Root ignores file modes, and tests run as root in CI: the commands run here without the
capabilities that let it (CAP_DAC_OVERRIDE and its kin), so that a folder of mode 0555 is
read-only to them as to anyone else. A full disk is a tmpfs of a few megabytes, mounted
where `mount` is allowed.
"""

import hashlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import optuna
import pytest

from tests.conftest import FAST_SPACE, TUNER, cli_env
from tests.test_cli import _snapshot
from tests.test_e2e import _longer_trials, _wait_for_running_trial
from tuner.deploy.manifest import verify_files
from tuner.search import attrs

pytestmark = pytest.mark.e2e
STUDY = "beijing-lstm_baseline"
# util-linux's setpriv drops them from the bounding set and runs the command, so that no
# Python runs between fork and exec in this process, which JAX has made multithreaded.
_AS_ANYONE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def _as_anyone(command: list[str]) -> list[str]:
    """`command` without the capabilities that let root ignore file modes."""
    return [*_AS_ANYONE, *command] if os.geteuid() == 0 else command


def _tuner(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """The real CLI in its own process, as a user whom file modes hold."""
    return subprocess.run(
        _as_anyone([*TUNER, *args]),
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_line(result: subprocess.CompletedProcess, code: int, message: str) -> None:
    err = result.stderr
    assert result.returncode == code, (result.returncode, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err


def _after_progress(result: subprocess.CompletedProcess, code: int, message: str) -> None:
    """Export's progress lines (one per member trained), then one error line."""
    *progress, error, end = result.stderr.split("\n")
    assert result.returncode == code and end == "", (result.returncode, result.stderr)
    assert progress and all(line.startswith("training ") for line in progress), progress
    assert error.startswith("error: ") and message in error, error


@pytest.fixture
def read_only(tmp_path) -> Path:
    """An empty folder of mode 0555 that the commands here cannot write to."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    probe = subprocess.run(_as_anyone(["touch", str(folder / "probe")]), capture_output=True)
    if probe.returncode == 0:
        os.unlink(folder / "probe")
        pytest.skip("cannot make a folder read-only here (root without CAP_SETPCAP?)")
    yield folder
    folder.chmod(0o755)


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A 4 MiB tmpfs, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(bytes(1 << 16))
                f.flush()
        except OSError as e:
            assert e.errno == 28  # ENOSPC


@pytest.fixture
def workspace(trained, tmp_path) -> Path:
    """A copy of the trained workspace whose study keeps its models in the copy."""
    copy = tmp_path / "workspace"
    shutil.copytree(trained / "results", copy / "results")
    storage = f"sqlite:///{copy / 'results' / 'tuner.db'}"
    study = optuna.load_study(study_name=STUDY, storage=storage)
    study.set_user_attr(attrs.ARTIFACTS, str((copy / "results" / "artifacts").resolve()))
    return copy


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_run_with_a_read_only_artifact_folder(read_only, tmp_path):
    result = _tuner(
        "run", "--space", str(FAST_SPACE), "--trials", "1", "--artifacts", str(read_only),
        cwd=tmp_path,
    )  # fmt: skip
    _one_line(result, 2, f"{read_only}: cannot write the artifact store: Permission denied")
    assert not (tmp_path / "results").exists()


def test_run_in_a_read_only_folder(read_only):
    result = _tuner("run", "--space", str(FAST_SPACE), "--trials", "1", cwd=read_only)
    _one_line(result, 2, "results/artifacts: cannot write the artifact store: Permission denied")
    assert not any(read_only.iterdir())


def test_run_on_a_read_only_database(workspace):
    before = _snapshot(workspace)
    (workspace / "results" / "tuner.db").chmod(0o444)
    result = _tuner("run", "--trials", "5", "--max-epochs", "1", cwd=workspace)
    _one_line(result, 2, "cannot write the study: OperationalError: attempt to write a readonly")
    assert _snapshot(workspace) == before


def test_export_into_a_read_only_folder_keeps_the_bundle_there(workspace, read_only):
    read_only.chmod(0o755)
    shutil.copytree(workspace / "results" / "best", read_only / "best")
    read_only.chmod(0o555)
    bundle, before = _files(read_only), _snapshot(workspace)
    result = _tuner("export", "--out", str(read_only / "best"), cwd=workspace)
    _one_line(result, 2, f"{read_only / 'best'}: cannot write the bundle here: Permission denied")
    assert _files(read_only) == bundle and _snapshot(workspace) == before


@pytest.mark.parametrize("where", ["read-only", "missing"])
def test_predict_into_a_folder_it_cannot_write(trained, beijing_csv, read_only, where):
    folder = read_only if where == "read-only" else read_only.parent / "missing" / "folder"
    bundle = trained / "results" / "best"
    args = ["--model", str(bundle), "--data", str(beijing_csv), "--out", str(folder / "f.csv")]
    result = _tuner("predict", *args, cwd=read_only.parent)
    message = "Permission denied" if where == "read-only" else f"{folder}: no such folder"
    _one_line(result, 2, message)
    assert not folder.exists() or not any(folder.iterdir())


def test_export_to_a_full_disk_keeps_the_previous_bundle(workspace, small_disk):
    shutil.copytree(workspace / "results" / "best", small_disk / "best")
    bundle, before = _files(small_disk / "best"), _snapshot(workspace)
    _fill(small_disk)
    result = _tuner("export", "--out", str(small_disk / "best"), cwd=workspace)
    _after_progress(result, 2, "No space left on device")
    assert sorted(os.listdir(small_disk)) == ["best", "filler"]  # no staging folder left
    assert _files(small_disk / "best") == bundle and verify_files(small_disk / "best")
    assert _snapshot(workspace) == before


def test_a_run_whose_models_fill_the_disk_stops_in_one_line(tmp_path, small_disk):
    _fill(small_disk)
    result = _tuner(
        "run", "--space", str(FAST_SPACE), "--trials", "2", "--max-epochs", "1", "--jobs", "1",
        "--artifacts", str(small_disk / "artifacts"), "--quiet",
        cwd=tmp_path,
    )  # fmt: skip
    _one_line(result, 1, "trial 0: OSError: [Errno 28] No space left on device")
    study = optuna.load_study(
        study_name="beijing-fast_space", storage=f"sqlite:///{tmp_path / 'results' / 'tuner.db'}"
    )
    [trial] = study.trials
    assert trial.state.name == "FAIL" and trial.user_attrs[attrs.FAIL_REASON].startswith("OSError")


def test_a_database_on_a_full_disk_is_refused_before_anything_runs(tmp_path, small_disk):
    _fill(small_disk)
    storage = f"sqlite:///{small_disk / 'tuner.db'}"
    result = _tuner("run", "--space", str(FAST_SPACE), "--storage", storage, cwd=tmp_path)
    _one_line(result, 2, "database or disk is full")


def test_deleting_the_database_during_a_run_stops_it_in_one_line(tmp_path):
    process = subprocess.Popen(
        [*TUNER, "run", "--space", _longer_trials(tmp_path, 500), "--trials", "4", "--quiet"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_running_trial(tmp_path, process)
    for name in ("tuner.db", "tuner.db-wal", "tuner.db-shm"):
        (tmp_path / "results" / name).unlink(missing_ok=True)
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        raise
    assert process.returncode == 1, stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "results/tuner.db: the study database was deleted during the run" in stderr
