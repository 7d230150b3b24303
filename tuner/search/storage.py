"""A `StudyLocation` -> Optuna's RDB storage: SQLite with WAL, a busy timeout and one
writer at a time, or a database server whose restarts a run rides out."""

from __future__ import annotations

import functools
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import URL

from tuner.errors import TunerError
from tuner.search.failures import storage_cause
from tuner.search.location import StudyLocation
from tuner.search.patient import (
    CONNECTION_LIMIT,
    CONNECTIONS_PER_PROCESS,
    RETRY_MAX_DELAY_S,
    STORAGE_WAIT_S,
    ConnectionLimitReached,
    PatientStorage,
    StorageUnreachable,
    connection_limit,
)

__all__ = ["STORAGE_WAIT_S", "ConnectionLimitReached", "PatientStorage", "StorageUnreachable"]

SQLITE_BUSY_TIMEOUT_S = 60
# Tries to open a storage whose schema other processes may be making at the same moment.
SCHEMA_ATTEMPTS = 5


def open_storage(
    location: StudyLocation,
    *,
    create: bool = True,
    heartbeat_interval: int | None = None,
    wait: float = STORAGE_WAIT_S,
) -> optuna.storages.RDBStorage:
    """Open (and with `create`, make) the storage at `location`.

    With `heartbeat_interval`, a trial whose process stopped beating for `stale_after`
    seconds is failed by the next worker, and re-queued once. A database server that
    restarts is waited for `wait` seconds, here (a worker may start meanwhile) and at
    each call (`PatientStorage`).
    """
    parsed = location.url
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and location.sqlite_file is not None:
        path = location.sqlite_file
        if not create and not path.is_file():
            raise TunerError(f"{path}: no study database here; run 'tuner run' first")
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(parsed)
    if sqlite:
        make = optuna.storages.RDBStorage
        engine_kwargs: dict = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    else:
        make = functools.partial(PatientStorage, wait=wait)
        # The pool never holds more than a process uses at once, so that the budget the
        # connection-limit message gives is the real one.
        engine_kwargs = {"pool_pre_ping": True, "pool_size": CONNECTIONS_PER_PROCESS}
        engine_kwargs["max_overflow"] = 0
    heartbeat = _heartbeat(heartbeat_interval, 0.0 if sqlite else wait)
    url = parsed.render_as_string(hide_password=False)
    deadline = time.monotonic() + (0.0 if sqlite else wait)
    attempt = 1
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = make(url, engine_kwargs=engine_kwargs, **heartbeat)
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
            if not (_restarting(e) and time.monotonic() < deadline):
                raise _cannot_open(location, e) from e
            time.sleep(RETRY_MAX_DELAY_S / 4)  # a worker started while the server restarts


def _restarting(error: BaseException) -> bool:
    """A server that refuses or drops connections, or says it is starting or stopping: what
    a restart looks like to a process that opens the storage then. A name that does not
    resolve or a login refused is not waited for."""
    cause = storage_cause(error)
    if getattr(cause, "sqlstate", None) in ("57P01", "57P02", "57P03"):
        return True
    text = str(cause).lower()
    return any(
        words in text
        for words in ("connection refused", "server closed the connection", "timeout expired")
    )


def stale_after(heartbeat_interval: int, wait: float) -> float:
    """Seconds without a heartbeat after which a trial is failed as stale.

    Twice the interval, as Optuna's default, plus the time a worker waits out an outage:
    a worker waiting within `wait` skips its beats, and its live trial must outlast that
    (a SQLite file has no outage: `wait` 0).
    """
    return 2 * heartbeat_interval + wait


def _heartbeat(interval: int | None, wait: float) -> dict:
    if interval is None:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
    return {
        "heartbeat_interval": interval,
        "grace_period": stale_after(interval, wait),
        "heartbeat_stale_trial_callback": retry,
    }


def stale_grace(study: optuna.Study) -> float:
    """How long `study`'s stale check lets a trial go without a heartbeat (0 without one)."""
    storage = getattr(study._storage, "_backend", study._storage)
    return float(getattr(storage, "grace_period", None) or 0)


def _cannot_open(location: StudyLocation, error: Exception) -> TunerError:
    if connection_limit(error):
        return ConnectionLimitReached(f"{location}: {CONNECTION_LIMIT}")
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    return TunerError(f"{location}: cannot open storage: {reason}")


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
