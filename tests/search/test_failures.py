"""The failure policy: real errors of each kind, classified; a trial's own fails it alone."""

import math
import re

import optuna
import pytest
import sqlalchemy

from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.failures import (
    CATCH,
    STOPS_RUN,
    RetryUnsavedModel,
    RunStopped,
    StopAfterFailures,
    describe,
    fails_trial,
    stop_reason,
)
from tuner.search.progress import Progress
from tuner.search.workers import run_workers


def _raised(action) -> BaseException:
    try:
        action()
    except BaseException as e:  # the error is the test's subject
        return e
    raise AssertionError("nothing was raised")


def _keras_error():
    import keras

    keras.layers.LSTM(-1)  # Keras's own check raises a builtin ValueError


def _xla_out_of_memory():
    import jax

    raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 2.0GiB")


def _disk_full():
    with open("/dev/full", "w") as f:
        f.write("x")


def _storage_lost(tmp_path):
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'gone' / 'tuner.db'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("select 1")


def _bug():
    return len(3)


@pytest.mark.parametrize(
    ("action", "fails", "stops"),
    [
        (_keras_error, True, False),
        (_xla_out_of_memory, True, False),
        (lambda: bytearray(1 << 62), True, False),  # MemoryError, however small the machine
        (lambda: math.exp(1000), True, False),  # OverflowError
        (_disk_full, False, True),
        (lambda: (_ for _ in ()).throw(TunerError("data.csv: unreadable")), False, True),
        (lambda: (_ for _ in ()).throw(KeyboardInterrupt), False, True),
        (_bug, False, False),  # neither: a bug keeps its traceback
    ],
    ids=["keras", "xla-oom", "memory", "overflow", "disk-full", "data", "interrupt", "bug"],
)
def test_each_kind_of_error_is_classified(action, fails, stops):
    error = _raised(action)
    assert fails_trial(error) is fails
    assert isinstance(error, STOPS_RUN) is stops


def test_a_lost_storage_stops_the_run_and_says_so(tmp_path):
    error = _raised(lambda: _storage_lost(tmp_path))
    assert isinstance(error, sqlalchemy.exc.OperationalError)
    assert not fails_trial(error) and isinstance(error, STOPS_RUN)
    assert stop_reason(error).startswith("storage lost: OperationalError: unable to open")


def test_describe_is_one_line():
    assert describe(ValueError("first\nsecond")) == "ValueError: first"


def test_failures_in_a_row_stop_the_run_and_a_success_resets_the_count():
    study = optuna.create_study()
    stop = StopAfterFailures(limit=2)
    states = [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    for state in [*states, optuna.trial.TrialState.FAIL]:
        trial = study.ask()
        trial.set_user_attr(attrs.FAIL_REASON, "MemoryError: ")
        study.tell(trial, 1.0 if state == optuna.trial.TrialState.COMPLETE else None, state=state)
        stop(study, study.trials[-1])
    trial = study.ask()
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    with pytest.raises(RunStopped, match="2 trials in a row failed, the last with no reason"):
        stop(study, study.trials[-1])


def _stopping_worker(storage: str, worker) -> None:
    raise RunStopped(f"worker {worker.index}: storage lost: OperationalError: disk I/O error")


def test_a_worker_stopped_by_the_policy_prints_one_line_and_fails(tmp_path, capfd):
    storage = f"sqlite:///{tmp_path / 'tuner.db'}"
    study = optuna.create_study(storage=storage)
    interrupted, failed = run_workers(
        _stopping_worker, storage, 1, study, Progress(1, quiet=True), grace_period=0
    )
    err = capfd.readouterr().err
    assert (interrupted, failed) == (False, 1)
    assert err == "error: worker 0: storage lost: OperationalError: disk I/O error\n"


@pytest.fixture(scope="module")
def data(beijing_spec):
    from tuner.data.prepared import prepare

    return prepare(beijing_spec)


@pytest.fixture
def objective_with(data, monkeypatch, tmp_path):
    """A real Objective (fast space, one epoch) whose n-th build first runs injected[n]."""
    from dataclasses import replace

    from tests.conftest import FAST_SPACE
    from tuner.model import training as recipe
    from tuner.search import objective as module
    from tuner.search.space import load_space
    from tuner.search.stores import open_store

    def make(*injected):
        actions = iter(injected)
        real_build = recipe.build

        def build(*args, **kwargs):
            next(actions, lambda: None)()
            return real_build(*args, **kwargs)

        monkeypatch.setattr(recipe, "build", build)
        space = load_space(FAST_SPACE)
        training = replace(space.training, max_epochs=1, patience=1)
        return module.Objective(data, space, training, seed=0, store=open_store(tmp_path / "a"))

    return make


@pytest.mark.e2e
def test_a_configuration_s_own_errors_fail_its_trial_and_the_search_goes_on(objective_with):
    study = optuna.create_study()
    objective = objective_with(_keras_error, _xla_out_of_memory, lambda: bytearray(1 << 62))
    study.optimize(objective, n_trials=4, catch=CATCH, callbacks=[StopAfterFailures()])
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL", "FAIL", "COMPLETE"]
    reasons = [t.user_attrs[attrs.FAIL_REASON] for t in study.trials[:3]]
    assert reasons[0].startswith("ValueError: Received an invalid value for argument `units`")
    assert reasons[1].startswith("JaxRuntimeError: RESOURCE_EXHAUSTED")
    assert reasons[2].startswith("MemoryError")


def _data_gone():
    raise TunerError("data.csv: gone")


def _storage_error():
    raise optuna.exceptions.StorageInternalError("An exception is raised during commit.")


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("inject", "message", "reason"),
    [
        (_disk_full, "trial 0: OSError: [Errno 28] No space left on device", "OSError"),
        (_data_gone, "trial 0: data.csv: gone", "TunerError"),
        (_storage_error, "trial 0: storage lost: StorageInternalError: An exception", None),
    ],
    ids=["disk-full", "data", "storage"],
)
def test_an_error_of_the_surroundings_stops_the_run(objective_with, inject, message, reason):
    study = optuna.create_study()
    with pytest.raises(RunStopped, match=re.escape(message)):
        study.optimize(objective_with(inject), n_trials=3, catch=CATCH)
    [trial] = study.trials
    assert trial.state.name == "FAIL"
    assert trial.user_attrs.get(attrs.FAIL_REASON, "").split(":")[0] == (reason or "")


def test_the_storage_error_behind_optuna_s_own_error_is_the_one_reported():
    """Optuna reads the storage again when telling a trial failed, and then raises an
    UnboundLocalError of its own: the storage's error is what the run reports."""
    import optuna

    from tuner.search.failures import storage_error_behind

    lost = optuna.exceptions.StorageInternalError("commit failed")
    try:
        try:
            raise lost
        except Exception:
            raise UnboundLocalError("cannot access local variable 'updated_state'")  # noqa: B904
    except UnboundLocalError as e:
        assert storage_error_behind(e) is lost
    assert storage_error_behind(ValueError("a bug")) is None


def test_a_trial_whose_model_was_not_saved_is_queued_again_once_and_no_other_is():
    study = optuna.create_study()
    distributions = {"units": optuna.distributions.IntDistribution(8, 128)}

    def failed(reason: str | None) -> optuna.trial.FrozenTrial:
        trial = study.ask(distributions)
        if reason is not None:
            trial.set_user_attr(attrs.FAIL_REASON, reason)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return study.trials[trial.number]

    retry = RetryUnsavedModel()
    retry(study, failed("ModelNotSaved: the model upload failed: gone"))
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert len(waiting) == 1 and waiting[0].params == study.trials[0].params
    assert waiting[0].user_attrs == {}  # none of the failed trial's reasons
    again = study.ask()  # the copy is the next trial asked, and fails the same way
    assert again.params == study.trials[0].params
    again.set_user_attr(attrs.FAIL_REASON, "ModelNotSaved: gone again")
    study.tell(again, state=optuna.trial.TrialState.FAIL)
    retry(study, study.trials[again.number])
    for reason in ("MemoryError: out of memory", None, attrs.INTERRUPTED):
        retry(study, failed(reason))
    assert not study.get_trials(states=(optuna.trial.TrialState.WAITING,))
