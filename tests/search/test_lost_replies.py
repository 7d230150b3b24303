"""A write whose commit landed but whose reply was lost (a broken connection during COMMIT:
the client cannot tell) is tried again by `PatientStorage` without landing twice: one
trial per creation, a popped trial kept by its worker, a trial told once.

The fault is made deterministic here: the real commit is carried out on a real SQLite file
or a real PostgreSQL server, then the reply is lost (an OperationalError raised after it,
as the driver raises it when the connection breaks). tests/faults/ loses it on the wire.
"""

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState


class LostReplies:
    """The next `lose` commits of `storage` land, and their replies are lost: the driver
    raises its own OperationalError after the real COMMIT, as on a broken connection."""

    def __init__(self, storage) -> None:
        self.lose = 0
        self.lost = 0
        dialect = storage.engine.dialect
        commit, error = dialect.do_commit, dialect.loaded_dbapi.OperationalError

        def commit_then_lose_the_reply(dbapi_connection) -> None:
            commit(dbapi_connection)
            if self.lose:
                self.lose -= 1
                self.lost += 1
                raise error("server closed the connection unexpectedly")

        dialect.do_commit = commit_then_lose_the_reply


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def storage(request, tmp_path, monkeypatch):
    from tuner.search import patient

    monkeypatch.setattr(patient, "RETRY_FIRST_DELAY_S", 0.01)
    monkeypatch.setattr(patient, "RETRY_MAX_DELAY_S", 0.01)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tuner.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    made = patient.PatientStorage(url, wait=5.0)
    yield made
    made.engine.dispose()


def _lost(faults: LostReplies, call, *args, **kwargs):
    """`call` with its first commit's reply lost; asserts that one was."""
    faults.lose, before = 1, faults.lost
    result = call(*args, **kwargs)
    assert faults.lost == before + 1, "no commit was made"
    return result


def test_a_study_made_and_searched_with_every_reply_lost_once_comes_out_whole(storage):
    faults = LostReplies(storage)
    study = _lost(faults, optuna.create_study, study_name="s", storage=storage)
    _lost(faults, study.enqueue_trial, {"x": 0.5})
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert len(waiting) == 1

    popped = _lost(faults, study.ask)  # the pop's reply lost: the worker keeps its trial
    assert popped.number == 0 and len(study.trials) == 1
    assert study.trials[0].state == TrialState.RUNNING
    assert _lost(faults, popped.suggest_float, "x", 0.0, 1.0) == 0.5
    _lost(faults, popped.report, 0.7, 0)
    _lost(faults, popped.set_user_attr, "note", "n")
    _lost(faults, study.tell, popped, 0.25)  # told once: no "Cannot tell a COMPLETE trial"

    created = _lost(faults, study.ask)  # a new trial: made once
    _lost(faults, study.tell, created, state=TrialState.PRUNED)
    failed = _lost(faults, study.ask)
    _lost(faults, study.tell, failed, state=TrialState.FAIL)

    trials = study.get_trials()
    assert [t.number for t in trials] == [0, 1, 2]
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL]
    assert trials[0].value == 0.25 and trials[0].params == {"x": 0.5}
    assert trials[0].intermediate_values == {0: 0.7} and trials[0].user_attrs == {"note": "n"}
    assert [s.study_name for s in storage.get_all_studies()] == ["s"]


def test_a_pop_that_another_worker_won_meanwhile_is_given_up(storage):
    """The retry of a pop whose commit did not land, the trial popped by another worker in
    between: not this worker's, so it is not kept (Optuna goes on to the next)."""
    study = optuna.create_study(study_name="s", storage=storage)
    study.enqueue_trial({"x": 0.5})
    trial_id = study.trials[0]._trial_id
    other = optuna.storages.RDBStorage(storage.url)
    calls = []
    real = storage._set_state_once

    def broken_then_real(*args):
        calls.append(args)
        if len(calls) == 1:  # not landed; meanwhile another worker pops it
            assert other.set_trial_state_values(trial_id, TrialState.RUNNING)
            raise sqlalchemy.exc.OperationalError("COMMIT", {}, ConnectionError("reset"))
        return real(*args)

    storage._set_state_once = broken_then_real
    assert storage.set_trial_state_values(trial_id, TrialState.RUNNING) is False
    assert len(calls) == 2
    other.engine.dispose()


def test_a_tell_that_did_not_land_on_a_trial_failed_meanwhile_is_refused(storage):
    """Only this call's own write counts as done: a trial failed as stale by another worker
    while this one waited is not taken for the COMPLETE it was setting."""
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()
    other = optuna.storages.RDBStorage(storage.url)
    real = storage._set_state_once
    tries = []

    def broken_then_real(*args):
        tries.append(args)
        if len(tries) == 1:
            other.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            raise sqlalchemy.exc.OperationalError("COMMIT", {}, ConnectionError("reset"))
        return real(*args)

    storage._set_state_once = broken_then_real
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        storage.set_trial_state_values(trial._trial_id, TrialState.COMPLETE, [1.0])
    assert storage.get_trial(trial._trial_id).state == TrialState.FAIL
    other.engine.dispose()
