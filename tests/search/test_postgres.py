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


def test_two_workers_share_a_postgres_study(postgres, tmp_path):
    args = ["--storage", postgres, "--space", str(FAST_SPACE), "--max-epochs", "1"]
    run = tuner("run", *args, "--trials", "4", "--jobs", "2", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    study = optuna.load_study(study_name="beijing-fast_space", storage=postgres)
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") + states.count("PRUNED") == 4 and "RUNNING" not in states
    assert study.user_attrs["baseline_val_rmse"] == pytest.approx(24.863, abs=1e-3)
    started = sorted(t.datetime_start for t in study.trials)
    assert started[1] < min(t.datetime_complete for t in study.trials)  # two at once
    best = tuner("best", "--json", *args[:4], cwd=tmp_path)
    assert best.returncode == 0 and '"complete"' in best.stdout
