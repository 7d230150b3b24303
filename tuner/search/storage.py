"""A `StudyLocation` -> Optuna's RDB storage: SQLite with WAL, a busy timeout and one
writer at a time, or a database server whose restarts a run rides out."""

from __future__ import annotations

import functools
import random
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import URL

from tuner.errors import TunerError
from tuner.search.failures import STORAGE_ERRORS, storage_cause
from tuner.search.location import StudyLocation

SQLITE_BUSY_TIMEOUT_S = 60
# Tries to open a storage whose schema other processes may be making at the same moment.
SCHEMA_ATTEMPTS = 5
# How long a call waits for a database server that stopped answering (a restart, a
# failover) before it gives up; `tuner run --storage-wait` sets it for a run.
STORAGE_WAIT_S = 120.0
RETRY_FIRST_DELAY_S, RETRY_MAX_DELAY_S = 0.5, 8.0
# The connections a process holds at most: its main thread's and a trial's heartbeat's.
CONNECTIONS_PER_PROCESS = 2


def open_storage(
    location: StudyLocation,
    *,
    create: bool = True,
    heartbeat_interval: int | None = None,
    wait: float = STORAGE_WAIT_S,
) -> optuna.storages.RDBStorage:
    """Open (and with `create`, make) the storage at `location`.

    With `heartbeat_interval`, a trial whose process stopped beating for twice that long
    is failed by the next worker, and re-queued once. A database server that stops
    answering later is waited for `wait` seconds at each call (`PatientStorage`).
    """
    parsed = location.url
    storage_class: Callable[..., optuna.storages.RDBStorage] = functools.partial(
        PatientStorage, wait=wait
    )
    # The pool never holds more than a process uses at once, so that the budget the
    # connection-limit message gives is the real one.
    engine_kwargs: dict = {
        "pool_pre_ping": True,
        "pool_size": CONNECTIONS_PER_PROCESS,
        "max_overflow": 0,
    }
    if parsed.get_backend_name() == "sqlite":
        storage_class = optuna.storages.RDBStorage
        engine_kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
        path = location.sqlite_file
        if path is not None:
            if not create and not path.is_file():
                raise TunerError(f"{path}: no study database here; run 'tuner run' first")
            path.parent.mkdir(parents=True, exist_ok=True)
            _enable_wal(parsed)
    heartbeat = {}
    if heartbeat_interval is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
        heartbeat = {
            "heartbeat_interval": heartbeat_interval,
            "grace_period": 2 * heartbeat_interval,
            "heartbeat_stale_trial_callback": retry,
        }
    url = parsed.render_as_string(hide_password=False)
    attempt = 1
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = storage_class(url, engine_kwargs=engine_kwargs, **heartbeat)
            if create and location.sqlite_file is not None:
                _one_writer_at_a_time(storage.engine)
            return storage
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as e:
            # Processes that find a fresh database at once all make its schema; those that
            # lose the race find it made when they look again.
            if attempt == SCHEMA_ATTEMPTS:
                raise _cannot_open(location, e) from e
            attempt += 1
            time.sleep(random.uniform(0.05, 0.5))
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as e:
            raise _cannot_open(location, e) from e


def _cannot_open(location: StudyLocation, error: Exception) -> TunerError:
    if _connection_limit(error):
        return ConnectionLimitReached(f"{location}: {CONNECTION_LIMIT}")
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    return TunerError(f"{location}: cannot open storage: {reason}")


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


def _connection_limit(error: BaseException) -> bool:
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


def _outage(error: BaseException) -> bool:
    """Whether `error` says the server is away (refused, reset, shutting down), not that the
    request was wrong: only an outage is worth waiting for."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    while error is not None:
        if isinstance(error, sqlalchemy.exc.OperationalError):
            return True
        error = error.__cause__
    return False


class PatientStorage(optuna.storages.RDBStorage):
    """Optuna's RDB storage whose calls wait out a database server that restarts.

    A call that meets an outage is tried again, after 0.5, 1, 2 ... 8 s, for `wait`
    seconds; then it raises `StorageUnreachable`, which stops the run in one line with
    every finished trial stored. A server out of connections is not waited for
    (`ConnectionLimitReached`). A missed heartbeat is skipped, not waited for: the trial is
    failed only after twice the heartbeat interval without one.

    A write whose commit reached the server just before the connection broke is made a
    second time when tried again; for the calls a search makes during a trial (intermediate
    values, attributes) that is harmless.
    """

    def __init__(self, *args, wait: float = STORAGE_WAIT_S, **kwargs) -> None:
        self._wait = wait
        self._inside = threading.local()  # a patient call made by another waits only once
        super().__init__(*args, **kwargs)

    def record_heartbeat(self, trial_id: int) -> None:
        try:
            super().record_heartbeat(trial_id)
        except STORAGE_ERRORS as e:
            if not _outage(e):
                raise

    def _patiently(self, call: Callable, *args, **kwargs):
        if getattr(self._inside, "active", False):
            return call(*args, **kwargs)
        self._inside.active = True
        try:
            deadline = time.monotonic() + self._wait
            delay = RETRY_FIRST_DELAY_S
            while True:
                try:
                    return call(*args, **kwargs)
                except STORAGE_ERRORS as e:
                    if _connection_limit(e):
                        raise ConnectionLimitReached(CONNECTION_LIMIT) from e
                    if not _outage(e):
                        raise
                    if time.monotonic() + delay > deadline:
                        reason = str(storage_cause(e)).strip().splitlines()[0]
                        raise StorageUnreachable(
                            f"no answer from the database for {self._wait:.0f} s ({reason})"
                        ) from e
                time.sleep(delay)
                delay = min(2 * delay, RETRY_MAX_DELAY_S)
        finally:
            self._inside.active = False


def _wait_for_outages(name: str) -> None:
    method = getattr(optuna.storages.RDBStorage, name)

    @functools.wraps(method)
    def patient(self: PatientStorage, *args, **kwargs):
        return self._patiently(method, self, *args, **kwargs)

    setattr(PatientStorage, name, patient)


# Every call Optuna's study and its cache make (BaseStorage's methods, and the private ones
# `_CachedStorage` calls); `record_heartbeat` is above.
for _name in (
    "create_new_study",
    "delete_study",
    "set_study_user_attr",
    "set_study_system_attr",
    "get_study_id_from_name",
    "get_study_name_from_id",
    "get_study_directions",
    "get_study_user_attrs",
    "get_study_system_attrs",
    "get_all_studies",
    "create_new_trial",
    "_create_new_trial",
    "set_trial_param",
    "_set_trial_param",
    "get_trial_param",
    "get_trial_id_from_study_id_trial_number",
    "set_trial_state_values",
    "set_trial_intermediate_value",
    "set_trial_user_attr",
    "set_trial_system_attr",
    "get_trial",
    "get_all_trials",
    "_get_trials",
    "get_best_trial",
    "_get_best_trial_id",
    "_get_stale_trial_ids",
):
    _wait_for_outages(_name)


def _one_writer_at_a_time(engine: sqlalchemy.Engine) -> None:
    """Each transaction on the SQLite file takes its write lock as it begins.

    Optuna pops a waiting trial (a replicate, a trial re-queued after its worker died) by
    reading that it waits and then marking it running, and asks for a row lock in between
    that SQLite does not have: two workers could pop the same trial, and the second's
    result would be refused. SQLAlchemy's recipe for pysqlite: the driver's own deferred
    BEGIN off, `BEGIN IMMEDIATE` instead. Only writers (`create`) take it, so that a
    reader of a read-only file still reads.
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # the connections opened before the listeners


def _enable_wal(parsed: URL) -> None:
    """WAL lets readers (the dashboard, `tuner best`) and workers share the file."""
    engine = sqlalchemy.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    except sqlalchemy.exc.SQLAlchemyError as e:
        raise TunerError(f"{parsed.database}: cannot open as SQLite: {e.orig}") from e
    finally:
        engine.dispose()


@dataclass(frozen=True)
class DatabaseFile:
    """An SQLite study's file, as it was when a run opened it.

    SQLite goes on writing to a file that was deleted while it is open, so a run would
    finish as if nothing happened and its trials would be gone; `lost` says so instead.
    """

    path: Path
    device: int
    inode: int

    @classmethod
    def of(cls, location: StudyLocation) -> DatabaseFile | None:
        """The file of `location` now; None for other storages and in-memory SQLite."""
        path = location.sqlite_file
        if path is None:
            return None
        info = path.stat()
        return cls(path, info.st_dev, info.st_ino)

    def lost(self) -> str | None:
        """Why the file at `path` is no longer the study's, or None while it is."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return f"{self.path}: the study database was deleted during the run"
        if (info.st_dev, info.st_ino) != (self.device, self.inode):
            return f"{self.path}: the study database was replaced during the run"
        return None


def load_study(storage: optuna.storages.BaseStorage, name: str | None = None) -> optuna.Study:
    """The study `name`; with no name, the storage's only study."""
    names = sorted(s.study_name for s in storage.get_all_studies())
    if name is None:
        if len(names) != 1:
            held = f"it holds {', '.join(names)}" if names else "it holds none; run 'tuner run'"
            raise TunerError(f"which study? give --study: {held}")
        name = names[0]
    if name not in names:
        known = ", ".join(names) or "none"
        raise TunerError(f"no study '{name}' in this storage (studies: {known})")
    return optuna.load_study(study_name=name, storage=storage)
