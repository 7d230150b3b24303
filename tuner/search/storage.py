"""A `StudyLocation` -> Optuna's RDB storage (SQLite with WAL and a busy timeout, or PostgreSQL)."""

from __future__ import annotations

import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import URL

from tuner.errors import TunerError
from tuner.search.location import StudyLocation

SQLITE_BUSY_TIMEOUT_S = 60
# Tries to open a storage whose schema other processes may be making at the same moment.
SCHEMA_ATTEMPTS = 5


def open_storage(
    location: StudyLocation, *, create: bool = True, heartbeat_interval: int | None = None
) -> optuna.storages.RDBStorage:
    """Open (and with `create`, make) the storage at `location`.

    With `heartbeat_interval`, a trial whose process stopped beating for twice that long
    is failed by the next worker, and re-queued once.
    """
    parsed = location.url
    engine_kwargs: dict = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
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
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **heartbeat)
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
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    return TunerError(f"{location}: cannot open storage: {reason}")


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
