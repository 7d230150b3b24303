"""Optuna's RDB storage made patient: its calls wait out a database server that restarts,
and a write tried again never lands twice."""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import optuna
import sqlalchemy
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState

from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.failures import STORAGE_ERRORS, storage_cause

# How long a call waits for a database server that stopped answering (a restart, a
# failover) before it gives up; `tuner run --storage-wait` sets it for a run.
STORAGE_WAIT_S = 120.0
# Tries at most 2 s apart: a server that answers only now and then (a flapping network, a
# failover's first seconds) is met within the wait, at one connection a process every 2 s.
RETRY_FIRST_DELAY_S, RETRY_MAX_DELAY_S = 0.5, 2.0
# The connections a process holds at most: its main thread's and a trial's heartbeat's.
CONNECTIONS_PER_PROCESS = 2
# A trial's system attributes that name the call which made it, and the last call that
# changed its state, so that the same call tried again recognizes its own write.
CREATED_BY, STATE_SET_BY = "tuner:created_by", "tuner:state_set_by"
_NOT_LANDED = object()

CONNECTION_LIMIT = (
    "the database refused a connection: its connection limit is reached (max_connections, "
    "or the role's). "
    f"Each tuner process holds up to {CONNECTIONS_PER_PROCESS}: a run needs "
    f"{CONNECTIONS_PER_PROCESS} × (--jobs + 1), a dashboard or other command "
    f"{CONNECTIONS_PER_PROCESS}; run fewer workers or raise max_connections"
)


class ConnectionLimitReached(TunerError, optuna.exceptions.StorageInternalError):
    """The database server has no connection left for this process: refused at once, since
    waiting would only hold the connections this process has."""


class StorageUnreachable(optuna.exceptions.StorageInternalError):
    """The database server did not answer for as long as the run waits for it."""


def connection_limit(error: BaseException) -> bool:
    """PostgreSQL's "too many clients" (SQLSTATE 53300), MySQL's "Too many connections"."""
    cause = storage_cause(error)
    if getattr(cause, "sqlstate", None) == "53300":
        return True
    text = str(cause).lower()
    return (
        "too many clients" in text
        or "too many connections" in text
        or ("remaining connection slots are reserved" in text)
    )


def outage(error: BaseException) -> bool:
    """Whether `error` says the server is away (refused, reset, shutting down), not that the
    request was wrong: only an outage is worth waiting for."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    while error is not None:
        # A session whose connection broke mid-transaction refuses until rolled back.
        if isinstance(
            error, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.PendingRollbackError)
        ):
            return True
        error = error.__cause__
    return False


class PatientStorage(optuna.storages.RDBStorage):
    """Optuna's RDB storage whose calls wait out a database server that restarts.

    A call that meets an outage is tried again, after 0.5, 1, then every 2 s, for `wait`
    seconds; then it raises `StorageUnreachable`, which stops the run in one line with
    every finished trial stored. A server out of connections is not waited for
    (`ConnectionLimitReached`); a heartbeat is not waited for either (`record_heartbeat`).

    Every call is retried, and a write's commit may have landed when its reply was lost
    (the client cannot tell), so each retried write is safe to make again:
    - reads, and `record_heartbeat` (the time of the last beat), are idempotent;
    - attributes of a study or trial and intermediate values are upserts; a trial's
      parameter is inserted once (the repeat meets its unique key, which Optuna ignores);
    - a trial's creation writes a token of its own (`CREATED_BY`) in the same transaction:
      its retry looks for the token first and returns the trial it finds; a replicate
      already enqueued (by this call or another machine) is returned, not made again;
    - a state change (a pop of a waiting trial, a trial told or failed) writes its token
      (`STATE_SET_BY`) in the same transaction: a retry that finds it counts as done, so
      a pop keeps the trial it claimed and a trial is told once;
    - a trial that starts running (made or popped) writes its first heartbeat in the same
      transaction: Optuna's stale check never fails a trial with no beat on record;
    - a study's creation, tried again, finds the study by name; its deletion finds it gone.
    """

    def __init__(self, *args, wait: float = STORAGE_WAIT_S, **kwargs) -> None:
        self._wait = wait
        self._inside = threading.local()  # a patient call made by another waits only once
        super().__init__(*args, **kwargs)

    def record_heartbeat(self, trial_id: int) -> None:
        """A beat that meets an outage is skipped: the first is on record from the start."""
        try:
            super().record_heartbeat(trial_id)
        except STORAGE_ERRORS as e:
            if not outage(e):
                raise
            self.scoped_session.remove()

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        return self._create_new_trial(study_id, template_trial)._trial_id

    def _create_new_trial(
        self, study_id: int, template_trial: FrozenTrial | None = None
    ) -> FrozenTrial:
        token = uuid.uuid4().hex
        return self._patiently(
            functools.partial(self._create_once, study_id, template_trial, token),
            landed=functools.partial(self._created, study_id, token),
        )

    def _create_once(self, study_id: int, template: FrozenTrial | None, token: str) -> FrozenTrial:
        """Optuna's creation (the study's row locked while the number is counted), with
        the token; the template's copy carries it when there is one."""
        if template is not None:
            template = copy.deepcopy(template)
            template.system_attrs[CREATED_BY] = token
        with _create_scoped_session(self.scoped_session) as session:
            models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
            if (made := _replicate_made(session, study_id, template)) is not None:
                return self.get_trial(made)
            trial = self._get_prepared_new_trial(study_id, template, session)
            if template is None:
                self._set_trial_attr_without_commit(
                    session, models.TrialSystemAttributeModel, trial.trial_id, CREATED_BY, token
                )
            self._first_beat_without_commit(session, trial)
            trial_id = trial.trial_id
        return self.get_trial(trial_id)

    def _created(self, study_id: int, token: str) -> FrozenTrial | object:
        with _create_scoped_session(self.scoped_session) as session:
            found = (
                session.query(models.TrialSystemAttributeModel.trial_id)
                .join(models.TrialModel)
                .filter(models.TrialModel.study_id == study_id)
                .filter(models.TrialSystemAttributeModel.key == CREATED_BY)
                .filter(models.TrialSystemAttributeModel.value_json == json.dumps(token))
                .scalar()
            )
        return _NOT_LANDED if found is None else self.get_trial(found)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        token = uuid.uuid4().hex
        return self._patiently(
            functools.partial(self._set_state_once, trial_id, state, values, token),
            landed=functools.partial(self._state_set, trial_id, token),
        )

    def _set_state_once(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None, token: str
    ) -> bool:
        """Optuna's state change, with the token."""
        try:
            with _create_scoped_session(self.scoped_session) as session:
                trial = models.TrialModel.find_or_raise_by_id(trial_id, session, for_update=True)
                self.check_trial_is_updatable(trial_id, trial.state)
                if state == TrialState.RUNNING and trial.state != TrialState.WAITING:
                    return False
                for objective, value in enumerate(values or ()):
                    self._set_trial_value_without_commit(session, trial, objective, value)
                self._set_trial_attr_without_commit(
                    session, models.TrialSystemAttributeModel, trial_id, STATE_SET_BY, token
                )
                trial.state = state
                if state == TrialState.RUNNING:
                    trial.datetime_start = datetime.now()
                    self._first_beat_without_commit(session, trial)
                if state.is_finished():
                    trial.datetime_complete = datetime.now()
        except sqlalchemy.exc.IntegrityError:
            return False
        return True

    def _first_beat_without_commit(self, session, trial: models.TrialModel) -> None:
        """A running trial's first heartbeat, at the server's time (the stale check's)."""
        if self.heartbeat_interval is not None and trial.state == TrialState.RUNNING:
            session.add(models.TrialHeartbeatModel(trial_id=trial.trial_id))

    def _state_set(self, trial_id: int, token: str) -> bool | object:
        mine = self.get_trial_system_attrs(trial_id).get(STATE_SET_BY) == token
        return True if mine else _NOT_LANDED

    def create_new_study(self, directions, study_name: str | None = None) -> int:
        def found() -> int | object:
            try:
                return self.get_study_id_from_name(study_name)
            except KeyError:
                return _NOT_LANDED

        create = functools.partial(super().create_new_study, directions, study_name)
        return self._patiently(create, landed=found if study_name else None)

    def delete_study(self, study_id: int) -> None:
        def gone() -> None | object:
            names = {s._study_id for s in self.get_all_studies()}
            return None if study_id not in names else _NOT_LANDED

        self._patiently(functools.partial(super().delete_study, study_id), landed=gone)

    def _patiently(self, call: Callable, *args, landed: Callable | None = None, **kwargs):
        """`call`, tried again through an outage; before each retry, `landed()` says
        whether the failed try's write landed after all (its result), or `_NOT_LANDED`."""
        if getattr(self._inside, "active", False):
            return call(*args, **kwargs)
        self._inside.active = True
        try:
            deadline = time.monotonic() + self._wait
            delay, tried = RETRY_FIRST_DELAY_S, False
            while True:
                try:
                    if tried and landed is not None:
                        if (result := landed()) is not _NOT_LANDED:
                            return result
                    tried = True
                    return call(*args, **kwargs)
                except STORAGE_ERRORS as e:
                    if connection_limit(e):
                        raise ConnectionLimitReached(CONNECTION_LIMIT) from e
                    if not outage(e):
                        raise
                    self.scoped_session.remove()  # the next try starts a session afresh
                    if time.monotonic() + delay > deadline:
                        reason = str(storage_cause(e)).strip().splitlines()[0]
                        raise StorageUnreachable(
                            f"no answer from the database for {self._wait:.0f} s ({reason})"
                        ) from e
                time.sleep(delay)
                delay = min(2 * delay, RETRY_MAX_DELAY_S)
        finally:
            self._inside.active = False


def _replicate_made(session, study_id: int, template: FrozenTrial | None) -> int | None:
    """The replicate of the same original already waiting, running or finished, if any.

    Every machine of a study enqueues the replicates once it has its trials; the study's
    row, locked while a trial is made, makes the look and the creation one step, so the
    study gets each replicate once however many machines enqueue it.
    """
    original = template.user_attrs.get(attrs.REPLICATE_OF) if template else None
    if original is None:
        return None
    return (
        session.query(models.TrialUserAttributeModel.trial_id)
        .join(models.TrialModel)
        .filter(models.TrialModel.study_id == study_id)
        .filter(models.TrialModel.state != TrialState.FAIL)
        .filter(models.TrialUserAttributeModel.key == attrs.REPLICATE_OF)
        .filter(models.TrialUserAttributeModel.value_json == json.dumps(original))
        .limit(1)
        .scalar()
    )


def _wait_for_outages(name: str) -> None:
    method = getattr(optuna.storages.RDBStorage, name)

    @functools.wraps(method)
    def patient(self: PatientStorage, *args, **kwargs):
        return self._patiently(method, self, *args, **kwargs)

    setattr(PatientStorage, name, patient)


# The other calls Optuna's study and its cache make (BaseStorage's methods, and the
# private ones `_CachedStorage` calls): reads, and writes that are upserts.
for _name in (
    "set_study_user_attr set_study_system_attr get_study_id_from_name get_study_name_from_id "
    "get_study_directions get_study_user_attrs get_study_system_attrs get_all_studies "
    "set_trial_param _set_trial_param get_trial_param get_trial_id_from_study_id_trial_number "
    "set_trial_intermediate_value set_trial_user_attr set_trial_system_attr get_trial "
    "get_trial_user_attrs get_trial_system_attrs get_all_trials _get_trials get_best_trial "
    "_get_best_trial_id _get_stale_trial_ids"
).split():
    _wait_for_outages(_name)
