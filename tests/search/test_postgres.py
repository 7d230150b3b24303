"""Two workers on one study in a real PostgreSQL server, started here on loopback (the
many-machines tests, with an object store and faults, are in test_machines.py)."""

import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.conftest import FAST_SPACE, cli_env, tuner
from tests.waiting import until

pytestmark = pytest.mark.e2e


def test_a_new_study_outside_sqlite_needs_an_artifact_folder(postgres, tmp_path):
    storage = postgres.url
    args = ["--storage", storage, "--space", str(FAST_SPACE), "--study", "no-folder"]
    run = tuner("run", *args, "--trials", "1", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "needs an artifact store (--artifacts or $TUNER_ARTIFACTS)" in run.stderr
    assert "no-folder" not in [s.study_name for s in optuna.get_all_study_summaries(storage)]
    assert not any(tmp_path.iterdir())


def _at_once(script: str, url: str, folder: Path) -> None:
    """`script` run by 6 processes on `url`, each let go at the same moment once all are
    ready (its arguments: the URL, the file that lets it go, the file it makes when ready);
    every one must succeed."""
    go = folder / "go"
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, str(go), str(folder / f"ready-{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for i in range(6)
    ]
    for i, process in enumerate(starters):
        until((folder / f"ready-{i}").exists, process, f"process {i} ready")
    go.touch()
    results = [(p.wait(timeout=120), p.stderr.read()) for p in starters]
    assert all(code == 0 for code, _ in results), [err for code, err in results if code]


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
    url = postgres.new_database()
    _at_once(OPEN_AT_ONCE, url, tmp_path)
    assert optuna.get_all_study_names(url) == []


ENQUEUE_AT_ONCE = """
import sys, time
from pathlib import Path
import optuna
from tuner.search import attrs
from tuner.search.location import StudyLocation
from tuner.search.storage import open_storage
study = optuna.load_study(study_name="s", storage=open_storage(StudyLocation.of(sys.argv[1])))
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.001)
for original in (0, 1, 2):
    study.enqueue_trial({"x": original}, user_attrs={attrs.REPLICATE_OF: original})
"""


def test_machines_that_enqueue_the_replicates_at_once_make_each_once(postgres, tmp_path):
    """As every machine does once it has its trials: a replicate already waiting, running
    or finished is not made again; one whose run failed is."""
    from tuner.search import attrs
    from tuner.search.location import StudyLocation
    from tuner.search.storage import open_storage

    url = postgres.new_database()
    storage = open_storage(StudyLocation.of(url))
    study = optuna.create_study(study_name="s", storage=storage)
    failed = study.ask()
    failed.set_user_attr(attrs.REPLICATE_OF, 2)
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    _at_once(ENQUEUE_AT_ONCE, url, tmp_path)
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert sorted(t.user_attrs[attrs.REPLICATE_OF] for t in waiting) == [0, 1, 2]
    storage.engine.dispose()
