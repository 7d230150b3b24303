"""Two workers on one study in a real PostgreSQL server, started here on loopback."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest

from tests.conftest import FAST_SPACE, tuner
from tuner.search import attrs

pytestmark = pytest.mark.e2e


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")), None)
    assert found, f"{name} not found: install PostgreSQL's server (Debian: postgresql)"
    return found


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root: use the postgres account there."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres():
    # Not under pytest's tmp_path, whose parents the postgres account may not enter.
    folder = Path(tempfile.mkdtemp(prefix="tuner-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        _as_postgres([_pg_bin("initdb"), "-D", str(data), "-U", "tuner", "--auth=trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    subprocess.run(
        _as_postgres(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "start",
                "-l",
                str(folder / "log"),
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        # The plain form, as the README shows it: SQLAlchemy picks the `postgres` extra's driver.
        yield f"postgresql://tuner@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_a_new_study_outside_sqlite_needs_an_artifact_folder(postgres, tmp_path):
    args = ["--storage", postgres, "--space", str(FAST_SPACE), "--study", "no-folder"]
    run = tuner("run", *args, "--trials", "1", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "needs an artifact store (--artifacts or $TUNER_ARTIFACTS)" in run.stderr
    assert "no-folder" not in [s.study_name for s in optuna.get_all_study_summaries(postgres)]
    assert not any(tmp_path.iterdir())


def test_two_workers_share_a_postgres_study(postgres, tmp_path):
    args = ["--storage", postgres, "--space", str(FAST_SPACE), "--max-epochs", "1"]
    store = tmp_path / "shared" / "artifacts"
    run = tuner(
        "run",
        *args,
        "--artifacts",
        str(store),
        "--trials",
        "4",
        "--jobs",
        "2",
        "--quiet",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    study = optuna.load_study(study_name="beijing-fast_space", storage=postgres)
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") + states.count("PRUNED") == 4 and "RUNNING" not in states
    assert study.user_attrs[attrs.PERSISTENCE_VAL_RMSE] == pytest.approx(24.863, abs=1e-3)
    started = sorted(t.datetime_start for t in study.trials)
    assert started[1] < min(t.datetime_complete for t in study.trials)  # two at once
    assert study.user_attrs["artifacts"] == str(store)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    best = tuner("best", "--json", *args[:4], cwd=elsewhere)
    assert best.returncode == 0 and '"complete"' in best.stdout
    # Export finds the models through the study's record, from any folder.
    exported = tuner("export", *args[:4], "--out", str(tmp_path / "bundle"), cwd=elsewhere)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "bundle" / "model.keras").is_file() and not any(elsewhere.iterdir())
