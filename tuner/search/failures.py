"""The failure policy, in one place: which errors fail one trial, and which stop the run.

A configuration can fail on its own: out of memory at a large batch, an XLA or Keras error
for one shape. That trial is failed with its reason and the search goes on, as KerasTuner's
`FailedTrialError` does. An error of the run's surroundings (the storage lost, the data or
the artifact folder unreadable or full, an interrupt) would fail every later trial the same
way, so it stops the run, as KerasTuner's `FatalError` does. A bucket that refuses a model
after its retries fails that trial only (`ModelNotSaved`) and queues its configuration
once more (`RetryUnsavedModel`): the store may be back by then. Anything else is a bug: it
stops the run and keeps its traceback. A curve that turns NaN is not an error: the pruner
stops it as "diverged".
"""

from __future__ import annotations

from types import TracebackType

import optuna
import sqlalchemy
from optuna.trial import FrozenTrial, TrialState

from tuner.errors import TunerError
from tuner.search import attrs

# Libraries whose errors belong to the configuration being trained.
TRAINING_LIBRARIES = frozenset({"keras", "jax", "jaxlib", "tensorflow", "optree", "ml_dtypes"})
STORAGE_ERRORS = (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError)
# Checked first: such an error stops the run even when it surfaces inside Keras (a model
# saved to a full disk raises OSError from Keras's own code).
STOPS_RUN: tuple[type[BaseException], ...] = (
    KeyboardInterrupt,
    TunerError,
    OSError,
    *STORAGE_ERRORS,
)
MAX_CONSECUTIVE_FAILURES = 5


class TrialFailed(Exception):
    """A configuration's own error, already recorded as the trial's `fail_reason`.

    It is the only exception `study.optimize(catch=CATCH)` lets Optuna record as FAIL and
    go on from.
    """


CATCH = (TrialFailed,)


class ModelNotSaved(Exception):
    """The artifact store did not take a trial's model, after its own retries."""


class RunStopped(TunerError):
    """An error that every later trial would meet too: the run stops, in one line.

    Its exit code is a stopped run's, 1, where bad input's is 2.
    """

    exit_code = 1


def fails_trial(error: BaseException) -> bool:
    """True when `error` is the configuration's own: the trial fails and the search goes on."""
    if isinstance(error, STOPS_RUN):
        return False
    if isinstance(error, (MemoryError, ArithmeticError, ModelNotSaved)):
        return True
    defined_in = {cls.__module__.split(".")[0] for cls in type(error).__mro__}
    return bool(defined_in & TRAINING_LIBRARIES) or _raised_in(error.__traceback__)


def _raised_in(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of `tb` is training-library code (Keras raises builtins)."""
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__", "").split(".")[0] in TRAINING_LIBRARIES


def describe(error: BaseException) -> str:
    """The one line a trial's `fail_reason` or a stopped run shows: type and first line."""
    return attrs.error_reason(type(error).__name__, str(error))


def _reported(error: BaseException) -> BaseException:
    """A storage error as a stopped run names it: tuner's own says what it waited for."""
    return error if type(error).__module__.startswith("tuner.") else storage_cause(error)


def storage_cause(error: BaseException) -> BaseException:
    """The innermost error behind a storage error: the driver's, which says what happened
    (Optuna's own says only that a commit failed)."""
    while (inner := getattr(error, "orig", None) or error.__cause__) is not None:
        error = inner
    return error


def storage_error_behind(error: BaseException) -> BaseException | None:
    """The storage error `error` was raised while handling, if any, or `error` itself.

    Optuna's own bookkeeping after a trial reads the storage again when telling it failed,
    and with the storage gone raises an UnboundLocalError of its own from there: the error
    to report is the storage's.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, STORAGE_ERRORS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def stop_reason(error: BaseException) -> str:
    """What a stopped run says about `error`, naming the storage for a storage error."""
    if isinstance(error, TunerError):
        return str(error)
    if isinstance(error, STORAGE_ERRORS):
        return f"storage lost: {describe(_reported(error))}"
    return describe(error)


class StopAfterFailures:
    """Optuna callback: a worker's `limit` failed trials in a row stop the run.

    The same error in every configuration is not a configuration's error; without this, a
    study whose trials all fail would never reach its count of finished trials.
    """

    def __init__(self, limit: int = MAX_CONSECUTIVE_FAILURES) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit=}")
        self._limit, self._in_a_row = limit, 0

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._in_a_row = self._in_a_row + 1 if trial.state == TrialState.FAIL else 0
        if self._in_a_row >= self._limit:
            reason = attrs.fail_detail(trial.user_attrs)
            raise RunStopped(f"{self._limit} trials in a row failed, the last with {reason}")


class RetryUnsavedModel:
    """Optuna callback: a trial failed by `ModelNotSaved` is queued once more, as a trial
    failed by its heartbeat is (Optuna's `RetryFailedTrialCallback`, whose system
    attributes it writes), so that a store's outage costs the study a trial's time, not
    the trial. The copy carries the configuration only, none of the failed trial's reasons.
    """

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state != TrialState.FAIL:
            return
        if attrs.fail_reason(trial.user_attrs) != ModelNotSaved.__name__:
            return
        if trial.system_attrs.get("retry_history"):  # already a retry: once is enough
            return
        study.add_trial(
            optuna.create_trial(
                state=TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                system_attrs={"failed_trial": trial.number, "retry_history": [trial.number]},
            )
        )
