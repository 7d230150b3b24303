"""Many machines: `tuner run` processes that share nothing but a PostgreSQL study and an S3
bucket, each in its own folder with its own home, and the faults such a setup meets.

Both servers are real and on loopback (`tests.servers`): PostgreSQL's own, and moto's
standalone S3 server, reached through the standard AWS variables only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import optuna
import pytest

from tests.conftest import FAST_SPACE, TUNER, cli_env, tuner
from tests.heartbeats import age_heartbeat, beating, caught
from tests.outages import Doorman
from tests.servers import BUCKET, Gate, S3Server, aws_environment, free_port
from tests.waiting import answering, reaped, until
from tuner.search import attrs
from tuner.search.storage import stale_after

pytestmark = pytest.mark.e2e

PREFIX = "team/tuner"
STORE = f"s3://{BUCKET}/{PREFIX}"
STUDY = "beijing-fast_space"
FINISHED = ("COMPLETE", "PRUNED")


def _objects(s3: S3Server) -> dict[str, bytes]:
    client = s3.client()
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def _machine(folder: Path, endpoint: str) -> tuple[Path, dict[str, str]]:
    """A folder and an environment of its own: a home, a JAX cache, the AWS variables."""
    (folder / "home").mkdir(parents=True)
    env = {
        **cli_env(),
        **aws_environment(endpoint),
        "HOME": str(folder / "home"),
        "JAX_COMPILATION_CACHE_DIR": str(folder / "jax-cache"),
    }
    return folder, env


def _start(folder: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*TUNER, "run", "--space", str(FAST_SPACE), "--quiet", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ended(process: subprocess.Popen, timeout: float = 600) -> tuple[str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return stdout, stderr


def _trials(storage: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name=STUDY, storage=storage).trials
    except KeyError:  # not made yet
        return []


def _states(storage: str) -> list[str]:
    return [t.state.name for t in _trials(storage)]


def _longer_trials(folder: Path, epochs: int) -> str:
    """The fast space with `epochs` epochs a trial and as much patience, same study name."""
    space = FAST_SPACE.read_text().replace("max_epochs = 3", f"max_epochs = {epochs}")
    space = space.replace("patience = 2", f"patience = {epochs}")
    path = folder / FAST_SPACE.name
    path.write_text(space)
    return str(path)


def test_two_machines_share_one_study_through_the_database_and_the_bucket(postgres, s3, tmp_path):
    storage = postgres.new_database()
    machines = [_machine(tmp_path / f"machine-{i}", s3.endpoint) for i in range(2)]
    # The command of docs/kubernetes.md and docs/slurm.md: the study's place from the
    # environment, a seed per machine. Started at the same moment, as a scheduler starts
    # them, on a database with no schema.
    runs = [
        _start(
            folder,
            {**env, "TUNER_STORAGE": storage, "TUNER_ARTIFACTS": STORE},
            *("--max-epochs", "1", "--trials", "8", "--jobs", "2", "--seed", str(i)),
        )
        for i, (folder, env) in enumerate(machines)
    ]
    for run in runs:
        _, stderr = _ended(run)
        assert run.returncode == 0, stderr

    trials = _trials(storage)
    states = [t.state.name for t in trials]
    finished = sum(s in FINISHED for s in states)
    # Each machine stops starting trials once the study has its 8; two that look at the same
    # moment can each start one: at most one trial over per worker beyond the first.
    assert 8 <= finished <= 8 + 3 and "RUNNING" not in states, states

    # One model per trial that became the best, under the prefix, and nothing else.
    objects = _objects(s3)
    saved = {
        t.number: t.user_attrs[attrs.ARTIFACT_ID]
        for t in trials
        if attrs.ARTIFACT_ID in t.user_attrs
    }
    assert set(objects) == {f"{PREFIX}/{artifact}" for artifact in saved.values()}
    best_so_far, became_best = float("inf"), []
    for t in sorted(
        (t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.datetime_complete
    ):
        if t.value < best_so_far:
            best_so_far = t.value
            became_best.append(t.number)
    assert set(became_best) <= set(saved), (became_best, saved)
    study = optuna.load_study(study_name=STUDY, storage=storage)
    assert study.user_attrs[attrs.ARTIFACTS] == STORE  # the URL alone: no endpoint, no key

    # A third machine, which shares nothing with the two but the servers.
    third, env = _machine(tmp_path / "third", s3.endpoint)
    exported = tuner(
        "export", "--single", "--storage", storage, "--out", "bundle", cwd=third, env=env
    )
    assert exported.returncode == 0, exported.stderr
    assert f"exported trial {study.best_trial.number}" in exported.stdout
    reported = tuner("report", "--storage", storage, cwd=third, env=env)
    assert reported.returncode == 0, reported.stderr
    page = optuna.load_study(study_name=STUDY, storage=storage).user_attrs[attrs.REPORT_ARTIFACT_ID]
    assert (
        _objects(s3)[f"{PREFIX}/{page}"]
        == (third / "results" / "report" / STUDY / "report.html").read_bytes()
    )

    port = free_port()
    dashboard = subprocess.Popen(
        [*TUNER, "dashboard", "--storage", storage, "--port", str(port), "--read-only"],
        cwd=third,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        answering(f"{base}/api/studies", dashboard)
        best = study.best_trial
        artifact = saved[best.number]
        path = f"{study._study_id}/{best._trial_id}/{artifact}"
        with urllib.request.urlopen(f"{base}/artifacts/{path}") as response:
            downloaded = response.read()
        assert downloaded == objects[f"{PREFIX}/{artifact}"]  # byte for byte
        for doomed in (f"/api/artifacts/{path}", f"/api/studies/{study._study_id}"):
            request = urllib.request.Request(base + doomed, method="DELETE")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request)
            assert refused.value.code == 403
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=30)
    assert _objects(s3).keys() >= {f"{PREFIX}/{a}" for a in saved.values()}
    assert len(_trials(storage)) == len(trials)

    # Objects lost from the store: export names the missing model, and changes nothing.
    s3.client().delete_object(Bucket=BUCKET, Key=f"{PREFIX}/{artifact}")
    before = (third / "bundle" / "model.keras").read_bytes()
    lost = tuner("export", "--single", "--storage", storage, "--out", "bundle", cwd=third, env=env)
    assert lost.returncode == 2 and lost.stderr.count("\n") == 1, lost.stderr
    assert f"trial {best.number}'s model (artifact {artifact}) is missing" in lost.stderr
    assert (third / "bundle" / "model.keras").read_bytes() == before


def test_a_bucket_that_is_not_there_is_refused_before_anything_is_stored(postgres, s3, tmp_path):
    storage = postgres.new_database()
    folder, env = _machine(tmp_path, s3.endpoint)
    run = _start(folder, env, "--storage", storage, "--artifacts", "s3://no-such-bucket/x")
    _, stderr = _ended(run)
    assert run.returncode == 2 and stderr.count("\n") == 1, stderr
    assert "s3://no-such-bucket/x: cannot write the artifact store: NoSuchBucket" in stderr
    assert _trials(storage) == []


HEARTBEAT = 60  # far beyond any delay a busy machine gives a live worker's beat (heartbeats.py)


def test_a_machine_killed_mid_trial_has_that_trial_failed_and_retried_once(postgres, s3, tmp_path):
    storage = postgres.new_database()
    space = _longer_trials(tmp_path, 6)
    args = ["--storage", storage, "--artifacts", STORE, "--space", space]
    args += ["--heartbeat", str(HEARTBEAT), "--storage-wait", "2", "--trials", "4", "--jobs", "1"]
    machines = [_machine(tmp_path / f"machine-{i}", s3.endpoint) for i in range(2)]
    doomed = _start(*machines[0], *args)
    with reaped(doomed):
        until(lambda: _trials(storage), doomed, "machine 0 made the study")
        workers = Path(f"/proc/{doomed.pid}/task/{doomed.pid}/children").read_text().split()
        pids = [doomed.pid, *map(int, workers)]
        # Machine 0 stopped inside a trial, read alone: the trial is its own.
        ((killed, (number, _)),) = caught(storage, pids, doomed, trials=1).items()
        survivor = _start(*machines[1], *args)
        with reaped(survivor):
            until(lambda: set(beating(storage)) - {killed}, survivor, "machine 1 training")
            # The machine goes, workers and all, without a word: no trial of it is told
            # anything.
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            doomed.communicate()
            age_heartbeat(storage, killed, stale_after(HEARTBEAT, 2) + 1)
            _, stderr = _ended(survivor)
    assert survivor.returncode == 0, stderr

    trials = _trials(storage)
    stale = [t for t in trials if t.state.name == "FAIL"]
    assert [t.number for t in stale] == [number], [t.state.name for t in trials]
    assert attrs.FAIL_REASON not in stale[0].user_attrs  # failed by the other machine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number
        retried = [t for t in trials if retry(t) == number]
    assert len(retried) == 1 and retried[0].state.name in FINISHED
    assert sum(t.state.name in FINISHED for t in trials) >= 4
    assert "RUNNING" not in [t.state.name for t in trials]


def _workers(process: subprocess.Popen) -> list[int]:
    """A run's worker processes (spawned by multiprocessing, not its resource tracker)."""
    workers = []
    for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(int(pid))
        except FileNotFoundError:
            continue
    return workers


def _reporting(storage: str) -> bool:
    return any(t.intermediate_values for t in _trials(storage) if t.state.name == "RUNNING")


def test_a_database_restart_during_a_run_is_ridden_out(postgres, tmp_path):
    storage = postgres.new_database()
    door = Doorman(postgres.port)
    space = _longer_trials(tmp_path, 6)
    run = _start(
        tmp_path,
        cli_env(),
        *("--storage", storage.replace(f":{postgres.port}/", f":{door.port}/")),
        *("--artifacts", "models", "--space", space, "--trials", "4", "--jobs", "2"),
    )
    with reaped(run), contextlib.closing(door):
        until(lambda: _reporting(storage), run, "a trial reporting its epochs")
        door.among = _workers(run)
        postgres.stop()
        try:  # away until each worker has come to it and been turned away, however long
            until(lambda: door.turned_away >= set(door.among), run, "every worker met it")
        finally:
            postgres.start()
        _, stderr = _ended(run)
    assert run.returncode == 0, stderr
    assert "Traceback" not in stderr
    states = _states(storage)
    assert sum(s in FINISHED for s in states) == 4 and "RUNNING" not in states, states


def _both_training(storage: str, folder: Path, epochs: int, wait: int) -> subprocess.Popen:
    """A run of 4 trials of `epochs` epochs, 2 workers, a 1 s heartbeat and `wait` s of
    storage wait, once both its workers are training."""
    space = _longer_trials(folder, epochs)
    run = _start(
        folder,
        cli_env(),
        *("--storage", storage, "--artifacts", "models", "--space", space),
        *("--trials", "4", "--jobs", "2", "--heartbeat", "1", "--storage-wait", str(wait)),
    )
    until(
        lambda: len([t for t in _trials(storage) if t.state.name == "RUNNING"]) == 2,
        run,
        "both workers training",
    )
    return run


def test_an_outage_longer_than_the_heartbeat_s_grace_within_the_wait_fails_no_live_trial(
    postgres, tmp_path
):
    """Twice the heartbeat is 2 s; the server is away 8 s of the 30 s a run waits: the
    workers skip their beats meanwhile, and neither fails the other's trial as stale."""
    storage = postgres.new_database()
    run = _both_training(storage, tmp_path, epochs=6, wait=30)
    postgres.stop()
    try:
        run.wait(timeout=8)
    except subprocess.TimeoutExpired:
        pass
    postgres.start()
    _, stderr = _ended(run)
    assert run.returncode == 0, stderr
    assert "Traceback" not in stderr
    states = _states(storage)
    assert sum(s in FINISHED for s in states) == 4 and set(states) <= set(FINISHED), states


def test_a_worker_whose_heartbeat_truly_expired_loses_that_trial_in_one_line_and_goes_on(
    postgres, tmp_path
):
    """A worker frozen (SIGSTOP) past its trial's grace: the other worker fails that trial
    as stale and it is re-queued; thawed, the frozen worker says so and takes the next."""
    storage = postgres.new_database()
    run = _both_training(storage, tmp_path, epochs=8, wait=1)
    frozen = _workers(run)[0]
    os.kill(frozen, signal.SIGSTOP)
    try:
        until(lambda: "FAIL" in _states(storage), run, "the frozen worker's trial failed")
    finally:
        os.kill(frozen, signal.SIGCONT)
    _, stderr = _ended(run)
    assert run.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.count("its trial was failed by another process") == 1, stderr
    states = _states(storage)
    assert states.count("FAIL") == 1 and "RUNNING" not in states, states
    assert sum(s in FINISHED for s in states) == 4, states


def test_a_long_database_outage_stops_the_run_in_one_line_and_loses_nothing(postgres, tmp_path):
    storage = postgres.new_database()
    space = _longer_trials(tmp_path, 6)
    args = ["--storage", storage, "--artifacts", "models", "--space", space]
    args += ["--heartbeat", str(HEARTBEAT), "--storage-wait", "4"]
    run = _start(tmp_path, cli_env(), *args, "--trials", "6")
    with reaped(run):
        until(lambda: FINISHED[0] in _states(storage), run, "a trial completed")
        kept = {t.number: t.value for t in _trials(storage) if t.state.name == "COMPLETE"}
        postgres.stop()
        try:
            _, stderr = _ended(run, timeout=300)
        finally:
            postgres.start()
    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "no answer from the database for 4 s" in stderr
    assert len(stderr.strip().splitlines()) <= 3, stderr  # a line per worker, at most
    after = {t.number: t.value for t in _trials(storage) if t.state.name == "COMPLETE"}
    assert after.items() >= kept.items()
    # The study resumes: the trials the outage left running are failed by their heartbeat,
    # silent for longer than its grace period.
    for trial in beating(storage):
        age_heartbeat(storage, trial, stale_after(HEARTBEAT, 4) + 1)
    resumed = tuner("run", *args, "--trials", "6", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    states = _states(storage)
    assert sum(s in FINISHED for s in states) == 6 and "RUNNING" not in states


def test_the_connection_limit_is_one_line_with_the_budget(postgres, tmp_path):
    import sqlalchemy

    storage = postgres.new_database()
    admin = sqlalchemy.create_engine(storage, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("CREATE ROLE limited LOGIN CONNECTION LIMIT 1")
        connection.exec_driver_sql(f"GRANT ALL ON DATABASE {storage.rsplit('/', 1)[1]} TO limited")
        connection.exec_driver_sql("GRANT ALL ON SCHEMA public TO limited")
    limited = storage.replace("tuner@", "limited@")
    holder = sqlalchemy.create_engine(limited)
    try:
        with holder.connect():  # the role's one connection, taken
            run = tuner("run", "--storage", limited, "--artifacts", "models", cwd=tmp_path)
    finally:
        holder.dispose()
        admin.dispose()
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "connection limit is reached" in run.stderr
    assert "a run needs 2 × (--jobs + 1)" in run.stderr


def test_a_store_that_goes_away_during_an_upload_fails_that_trial_runs_it_again_and_goes_on(
    postgres, s3, tmp_path
):
    storage = postgres.new_database()
    gate = Gate(s3.port)
    folder, env = _machine(tmp_path, f"http://127.0.0.1:{gate.port}")
    try:
        run = _start(
            folder,
            env,
            *("--storage", storage, "--artifacts", f"s3://{BUCKET}/gone-away"),
            *("--trials", "3", "--jobs", "1", "--max-epochs", "2"),
        )
        until(lambda: "RUNNING" in _states(storage), run, "the first trial running")
        gate.close()  # the store is unreachable when that trial's model is uploaded
        until(lambda: "FAIL" in _states(storage), run, "the trial that could not upload failed")
        gate.open()
        _, stderr = _ended(run)
    finally:
        gate.close()
    assert run.returncode == 0, stderr
    assert "Traceback" not in stderr
    trials = _trials(storage)
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(failed) == 1 and failed[0].number == 0
    assert (
        failed[0].user_attrs[attrs.FAIL_REASON].startswith("ModelNotSaved: the model upload failed")
    )
    assert sum(t.state.name in FINISHED for t in trials) == 3
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == 0]
    assert len(retries) == 1 and retries[0].params == failed[0].params  # trained again, once
    assert retries[0].state.name in FINISHED and attrs.FAIL_REASON not in retries[0].user_attrs
    best = optuna.load_study(study_name=STUDY, storage=storage).best_trial
    artifact = best.user_attrs[attrs.ARTIFACT_ID]
    assert f"gone-away/{artifact}" in _objects(s3)
    report = json.loads(tuner("best", "--json", "--storage", storage, cwd=folder, env=env).stdout)
    assert sum(n for reason, n in report["fail_reasons"].items() if "ModelNotSaved" in reason) == 1
