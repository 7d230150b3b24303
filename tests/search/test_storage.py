"""Opening a study's storage: nothing is made by a reader, SQLite in WAL mode with one writer
at a time, a database lost during a run is noticed, and the study asked for (or the only
one) is found."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import optuna
import pytest

from tests.heartbeats import age_heartbeat
from tests.waiting import until
from tuner.errors import TunerError
from tuner.search.location import StudyLocation
from tuner.search.storage import DatabaseFile, load_study, open_storage, stale_after

ROOT = Path(__file__).parents[2]


def _at(url: str) -> StudyLocation:
    return StudyLocation.of(url, None, environ={})


def test_reading_a_missing_sqlite_file_creates_nothing(tmp_path):
    with pytest.raises(TunerError, match="no study database here"):
        open_storage(_at(f"sqlite:///{tmp_path / 'none.db'}"), create=False)
    assert not any(tmp_path.iterdir())


def test_a_new_sqlite_file_is_in_wal_mode(tmp_path):
    storage = open_storage(_at(f"sqlite:///{tmp_path / 'sub' / 'tuner.db'}"))
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    storage.engine.dispose()


def test_a_database_deleted_or_replaced_during_a_run_is_lost(tmp_path):
    location = _at(f"sqlite:///{tmp_path / 'tuner.db'}")
    open_storage(location).engine.dispose()
    database = DatabaseFile.of(location)
    assert database.lost() is None
    os.rename(tmp_path / "tuner.db", tmp_path / "moved.db")
    (tmp_path / "tuner.db").write_bytes(b"")
    path = tmp_path / "tuner.db"
    assert database.lost() == f"{path}: the study database was replaced during the run"
    (tmp_path / "tuner.db").unlink()
    assert database.lost() == f"{path}: the study database was deleted during the run"
    assert DatabaseFile.of(_at("sqlite:///:memory:")) is None
    assert DatabaseFile.of(_at("postgresql://user@127.0.0.1/tuner")) is None


@pytest.mark.parametrize("silent", [-2, 2])
def test_a_trial_is_stale_once_silent_for_its_grace_and_not_before(tmp_path, silent):
    """The grace is `stale_after` to the second: the tests that age a dead worker's
    heartbeat rather than wait it out lean on this one."""
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    storage = open_storage(_at(url), heartbeat_interval=30)
    study = optuna.create_study(storage=storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a heartbeat outside `optimize`, and experimental
        trial = study.ask()
        storage.record_heartbeat(trial._trial_id)
        age_heartbeat(url, trial._trial_id, stale_after(30, 0.0) + silent)
        optuna.storages.fail_stale_trials(study)
    state = study.get_trials(deepcopy=False)[0].state
    assert state == (
        optuna.trial.TrialState.FAIL if silent > 0 else optuna.trial.TrialState.RUNNING
    )


def test_with_no_name_the_storage_s_only_study_is_read(tmp_path):
    storage = open_storage(_at(f"sqlite:///{tmp_path / 'tuner.db'}"))
    with pytest.raises(TunerError, match="which study\\? give --study: it holds none"):
        load_study(storage)
    optuna.create_study(study_name="sales-lstm_baseline", storage=storage)
    assert load_study(storage).study_name == "sales-lstm_baseline"
    optuna.create_study(study_name="beijing-lstm_baseline", storage=storage)
    with pytest.raises(TunerError, match="it holds beijing-lstm_baseline, sales-lstm_baseline$"):
        load_study(storage)
    assert load_study(storage, "beijing-lstm_baseline").study_name == "beijing-lstm_baseline"
    with pytest.raises(TunerError, match="no study 'other' in this storage"):
        load_study(storage, "other")


def _operational(message: str, sqlstate: str | None = None) -> Exception:
    import sqlalchemy

    class DriverError(Exception):
        pass

    orig = DriverError(message)
    orig.sqlstate = sqlstate
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, orig)


@pytest.fixture
def patient(tmp_path, monkeypatch):
    """A PatientStorage (on an SQLite file: the waiting is the same for any server) that
    waits 1 s, trying again every 0.01 s."""
    from tuner.search import patient as module

    monkeypatch.setattr(module, "RETRY_FIRST_DELAY_S", 0.01)
    monkeypatch.setattr(module, "RETRY_MAX_DELAY_S", 0.01)
    return module.PatientStorage(f"sqlite:///{tmp_path / 'db'}", wait=1.0)


def test_an_outage_shorter_than_the_wait_is_ridden_out(patient):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise _operational("connection refused")
        return "answered"

    assert patient._patiently(flaky) == "answered" and len(calls) == 3


def test_a_longer_outage_is_one_error_that_says_how_long_it_waited(patient):
    from tuner.search.failures import STORAGE_ERRORS, stop_reason
    from tuner.search.storage import StorageUnreachable

    def away():
        raise _operational("connection refused\nIs the server running?")

    with pytest.raises(StorageUnreachable) as raised:
        patient._patiently(away)
    assert isinstance(raised.value, STORAGE_ERRORS)  # stops the run, never fails a trial
    assert stop_reason(raised.value) == (
        "storage lost: StorageUnreachable: no answer from the database for 1 s (connection refused)"
    )


def test_a_wrong_request_is_not_waited_for(patient):
    import sqlalchemy

    calls = []

    def wrong():
        calls.append(1)
        raise sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(sqlalchemy.exc.IntegrityError):
        patient._patiently(wrong)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("message", "sqlstate"),
    [
        ("connection failed: FATAL:  sorry, too many clients already", None),
        ('too many connections for role "tuner"', "53300"),
        ("remaining connection slots are reserved for roles with SUPERUSER", None),
        ("(1040, 'Too many connections')", None),
    ],
)
def test_a_server_out_of_connections_is_one_line_with_the_budget_at_once(
    patient, message, sqlstate
):
    from tuner.search.storage import CONNECTION_LIMIT, ConnectionLimitReached

    calls = []

    def full():
        calls.append(1)
        raise _operational(message, sqlstate)

    with pytest.raises(ConnectionLimitReached, match="connection limit is reached") as raised:
        patient._patiently(full)
    assert len(calls) == 1 and str(raised.value) == CONNECTION_LIMIT
    assert "2 × (--jobs + 1)" in CONNECTION_LIMIT


def test_a_call_inside_a_patient_call_does_not_wait_again(patient):
    """Optuna's cache calls `create_new_trial`, which calls `_create_new_trial`: both are
    patient, and the outer one alone waits."""
    inner_calls = []

    def inner():
        inner_calls.append(1)
        raise _operational("connection refused")

    def outer():
        return patient._patiently(inner)

    with pytest.raises(Exception, match="no answer from the database"):
        patient._patiently(outer)
    assert len(inner_calls) > 1  # each outer attempt reaches the driver once


@pytest.mark.parametrize("heartbeat", [None, 30])
@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study")
def test_a_trial_starts_running_with_its_first_beat_on_record(tmp_path, heartbeat):
    """Optuna's stale check passes over a running trial with no beat on record, so a worker
    stopped by an outage before its first beat landed would leave the trial RUNNING for
    good. Made or popped, a trial starts with its beat in the same transaction, and is
    stale once that beat is older than the grace. Without heartbeats, no beat is written."""
    from tuner.search.patient import PatientStorage

    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    storage = PatientStorage(url, heartbeat_interval=heartbeat, grace_period=60)
    study = optuna.create_study(storage=storage)
    made = study.ask()
    study.enqueue_trial({"x": 1.0})
    popped = study.ask()
    assert popped.suggest_float("x", 0.0, 2.0) == 1.0  # the enqueued one
    trials = [made, popped]
    with storage.engine.connect() as connection:
        beats = {i for (i,) in connection.exec_driver_sql("SELECT trial_id FROM trial_heartbeats")}
    assert beats == (set() if heartbeat is None else {t._trial_id for t in trials})
    if heartbeat is not None:
        assert storage._get_stale_trial_ids(study._study_id) == []
        for trial in trials:
            age_heartbeat(url, trial._trial_id, 61)
        assert sorted(storage._get_stale_trial_ids(study._study_id)) == sorted(
            t._trial_id for t in trials
        )
    storage.engine.dispose()


def test_a_beat_that_meets_an_outage_is_skipped_and_a_wrong_request_raised(patient, monkeypatch):
    """A trial's first beat is on record from its start; a later one that meets an outage
    is not tried again (the next comes on time, and the grace allows for the ones an outage
    takes), and raises nothing in the heartbeat's thread. A wrong request is raised."""
    import sqlalchemy

    calls = []

    def away(self, trial_id):
        calls.append(trial_id)
        raise _operational("connection refused")

    monkeypatch.setattr(optuna.storages.RDBStorage, "record_heartbeat", away)
    assert patient.record_heartbeat(7) is None
    assert calls == [7]

    def refused(self, trial_id):
        raise sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("foreign key"))

    monkeypatch.setattr(optuna.storages.RDBStorage, "record_heartbeat", refused)
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        patient.record_heartbeat(7)


_POP = """
import os, sys, time, optuna
from pathlib import Path
from tuner.search.location import StudyLocation
from tuner.search.storage import open_storage
optuna.logging.set_verbosity(optuna.logging.ERROR)
storage = open_storage(StudyLocation.of(sys.argv[1], None, environ={}))
study = optuna.load_study(study_name="queue", storage=storage)
go = Path(sys.argv[3])
Path(sys.argv[4]).touch()  # the study loaded: ready to pop when told
while not go.exists():  # both start popping at once
    time.sleep(0.01)
for _ in range(int(sys.argv[2])):
    trial = study.ask()
    print(trial.suggest_int("i", 0, 10**6), flush=True)
    study.tell(trial, 0.0)
"""


def test_two_processes_never_pop_the_same_enqueued_trial(tmp_path):
    """Optuna pops a waiting trial (a replicate, a re-queued one) by reading that it waits,
    then marking it running; SQLite ignores the lock Optuna asks for between the two, so
    without a write lock taken as each transaction begins, two workers could train the same
    trial and the second's result be refused ("Cannot tell a COMPLETE trial")."""
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    storage = open_storage(_at(url))
    study = optuna.create_study(study_name="queue", storage=storage)
    queued = 150
    for i in range(queued):
        study.enqueue_trial({"i": i})
    storage.engine.dispose()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    go = tmp_path / "go"
    command = [sys.executable, "-c", _POP, url, str(queued // 2), str(go)]
    workers = [
        subprocess.Popen(
            [*command, str(tmp_path / f"ready-{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(2)
    ]
    try:
        for i, worker in enumerate(workers):
            until((tmp_path / f"ready-{i}").exists, worker, f"worker {i} ready to pop")
        go.touch()
        outputs = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, (err.strip().splitlines() or [worker.returncode])[-1]
    popped = [int(line) for out, _ in outputs for line in out.split()]
    assert sorted(popped) == list(range(queued))


def test_a_session_left_mid_transaction_by_a_broken_connection_is_started_afresh(patient):
    """SQLAlchemy refuses a session whose connection broke inside a transaction until it is
    rolled back: the retry starts a new session rather than stopping the run."""
    import sqlalchemy

    session = patient.scoped_session()
    calls = []

    def stuck():
        calls.append(patient.scoped_session())
        if len(calls) == 1:
            raise sqlalchemy.exc.PendingRollbackError("Can't reconnect until invalid transaction")
        return "answered"

    assert patient._patiently(stuck) == "answered"
    assert calls[0] is session and calls[1] is not session
