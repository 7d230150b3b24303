"""Two workers on one study in a real PostgreSQL server, started here on loopback (the
many-machines tests, with an object store and faults, are in test_machines.py)."""

import subprocess
import sys

import optuna
import pytest

from tests.conftest import FAST_SPACE, cli_env, tuner
from tests.servers import Postgres
from tests.waiting import until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def postgres():
    server = Postgres()
    try:
        yield server.url
    finally:
        server.close()


def test_a_new_study_outside_sqlite_needs_an_artifact_folder(postgres, tmp_path):
    args = ["--storage", postgres, "--space", str(FAST_SPACE), "--study", "no-folder"]
    run = tuner("run", *args, "--trials", "1", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "needs an artifact store (--artifacts or $TUNER_ARTIFACTS)" in run.stderr
    assert "no-folder" not in [s.study_name for s in optuna.get_all_study_summaries(postgres)]
    assert not any(tmp_path.iterdir())


OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from tuner.errors import TunerError
from tuner.search.location import StudyLocation
from tuner.search.storage import open_storage
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()  # imported, and ready to open the storage when told
while not go.exists():
    time.sleep(0.001)
try:
    open_storage(StudyLocation.of(sys.argv[1]))
except TunerError as e:
    sys.exit(f"error: {e}")
"""


def test_machines_that_open_a_fresh_database_at_once_all_open_it(postgres, tmp_path):
    """As a scheduler starts them: every process finds no schema and makes it at once."""
    import sqlalchemy

    admin = sqlalchemy.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("CREATE DATABASE fresh")
    admin.dispose()
    url = postgres.rsplit("/", 1)[0] + "/fresh"
    go = tmp_path / "go"
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, url, str(go), str(tmp_path / f"ready-{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for i in range(6)
    ]
    for i, process in enumerate(starters):
        until((tmp_path / f"ready-{i}").exists, process, f"process {i} ready")
    go.touch()
    results = [(p.wait(timeout=120), p.stderr.read()) for p in starters]
    assert all(code == 0 for code, _ in results), [err for code, err in results if code]
    assert optuna.get_all_study_names(url) == []
