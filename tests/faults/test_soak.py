"""The fault soak: `tuner run --jobs 2`, two runs at once on one PostgreSQL study whose models
go to an S3 bucket, each through a proxy: the database's loses the replies to COMMITs, drops
connections inside transactions, delays packets and refuses connections for a while; the
bucket's delays and refuses. On a seeded random schedule; then the study's invariants.
Heartbeats of 1 s: the stale check acts within the run. No fault here kills a worker or
outlasts an upload's tries, so no trial may fail.

The short form (one schedule, a few trials) runs in the e2e suite; `--soak N` runs the
longer one (more trials, replicates) over N schedules.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import optuna
import pytest

from tests.conftest import FAST_SPACE, TUNER, cli_env
from tests.faults.proxy import FaultProxy
from tests.faults.schedule import Injector, schedule
from tests.servers import BUCKET, S3Server, aws_environment
from tuner.search import attrs

pytestmark = pytest.mark.e2e

STUDY = "beijing-fast_space"
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
RUNS, JOBS = 2, 2
# (trials each run asks for, replicates, faults in the schedule)
FORMS = {"short": (3, 0, 8), "long": (10, 2, 40)}
# Longer than a fault and the next one with the gap between them (`schedule`).
STORAGE_WAIT_S = 30
PREFIX = "soak"


def _run(folder: Path, storage: str, store: str, trials: int, replicates: int) -> subprocess.Popen:
    folder.mkdir()
    return subprocess.Popen(
        [
            *TUNER,
            "run",
            *("--storage", storage, "--artifacts", f"s3://{BUCKET}/{PREFIX}"),
            *("--space", str(FAST_SPACE), "--max-epochs", "1", "--quiet"),
            *("--trials", str(trials), "--replicates", str(replicates), "--jobs", str(JOBS)),
            *("--heartbeat", "1", "--storage-wait", str(STORAGE_WAIT_S)),
        ],
        cwd=folder,
        env={**cli_env(), **aws_environment(store)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_runs_under_a_schedule_of_faults_leave_the_study_whole(postgres, s3, tmp_path, soak):
    form, seed = soak
    trials, replicates, count = FORMS[form]
    database = postgres.new_database()
    proxies = {"database": FaultProxy(postgres.port), "store": FaultProxy(s3.port, postgres=False)}
    through = database.replace(f":{postgres.port}/", f":{proxies['database'].port}/")
    store = f"http://127.0.0.1:{proxies['store'].port}"
    runs = [_run(tmp_path / f"run-{i}", through, store, trials, replicates) for i in range(RUNS)]
    injector = Injector(proxies, schedule(seed, count))
    try:
        ended = [run.communicate(timeout=1800) for run in runs]
    finally:
        injector.stop()
        for proxy in proxies.values():
            proxy.close()
    fired = {side: proxy.fired for side, proxy in proxies.items()}
    faults = f"seed {seed}, faults {injector.applied}, fired {fired}"
    assert injector.error is None, f"{faults}: {injector.error!r}"
    for run, (stdout, stderr) in zip(runs, ended, strict=True):
        assert run.returncode == 0, f"{faults}\n{stderr}"
        assert "Traceback" not in stderr and "Warning" not in stderr, f"{faults}\n{stderr}"
        lines = stdout.strip().splitlines()
        assert ", 0 failed (" in lines[0] and "worker(s) failed" not in lines[0], stdout
        assert lines[-1].startswith("next: tuner export "), stdout
    _check_study(database, s3, trials, replicates, faults)


def _check_study(database: str, s3: S3Server, trials: int, replicates: int, faults: str) -> None:
    study = optuna.load_study(study_name=STUDY, storage=database)
    all_trials = study.get_trials()
    states = [t.state.name for t in all_trials]
    assert [t.number for t in all_trials] == list(range(len(all_trials))), faults
    assert set(states) <= {"COMPLETE", "PRUNED"}, f"{faults}: {states}"  # none failed or left
    originals = [t for t in all_trials if attrs.REPLICATE_OF not in t.user_attrs]
    # Each run finishes what it lacks; runs checking at once overshoot by a worker each, and
    # a replicate phase only where a worker's look at the queue lost its pop to another
    # machine (`TrialBudget`): at most once a replicate for each run.
    most = trials + RUNS * JOBS - 1 + RUNS * RUNS * replicates
    assert trials <= len(originals) <= most, f"{faults}: {states}"
    replicated = [t.user_attrs[attrs.REPLICATE_OF] for t in all_trials if t not in originals]
    assert len(replicated) == len(set(replicated)), f"{faults}: {replicated}"  # once each
    assert len(replicated) <= replicates * RUNS, faults
    if replicates:
        assert replicated, f"{faults}: no replicate made"
    stored = {o["Key"] for o in s3.client().list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    best = None  # every trial that became the best, in the order they finished, has its model
    for trial in sorted(all_trials, key=lambda t: t.datetime_complete):
        if trial.state.name == "COMPLETE" and (best is None or trial.value < best):
            best = trial.value
            artifact = trial.user_attrs.get(attrs.ARTIFACT_ID)
            assert f"{PREFIX}/{artifact}" in stored, f"{faults}: trial {trial.number}"
