"""Storage URL -> Optuna's RDB storage (SQLite with WAL and a busy timeout, or PostgreSQL)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import URL, make_url

from tuner.errors import TunerError

DEFAULT_STORAGE = "sqlite:///results/tuner.db"
SUPPORTED = ("sqlite", "postgresql", "mysql")
SQLITE_BUSY_TIMEOUT_S = 60
# The pip requirement that provides each driver module SQLAlchemy may ask for.
DRIVER_PACKAGES = {
    "psycopg": "'tuner[postgres]'",  # what a plain postgresql:// uses in SQLAlchemy 2
    "psycopg2": "psycopg2-binary",
    "pymysql": "PyMySQL",
    "MySQLdb": "mysqlclient",
}
# Read in this order when no URL is given; Optuna's own CLI reads the second.
STORAGE_VARIABLES = ("TUNER_STORAGE", "OPTUNA_STORAGE")


def storage_url(url: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """`url`, else the first of `STORAGE_VARIABLES` that is set, else `DEFAULT_STORAGE`."""
    for candidate in (url, *(environ.get(name) for name in STORAGE_VARIABLES)):
        if candidate:
            return candidate
    return DEFAULT_STORAGE


def printable_url(url: str) -> str:
    """The URL as a message may show it: a password in it is masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def parse_url(url: str) -> URL:
    """The URL, refused in one line unless its scheme is supported and its driver installed."""
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError as e:
        raise TunerError(f"{url}: not a storage URL (e.g. {DEFAULT_STORAGE})") from e
    if parsed.get_backend_name() not in SUPPORTED:
        raise TunerError(
            f"{url}: unknown storage scheme '{parsed.get_backend_name()}' "
            f"(use one of: {', '.join(SUPPORTED)})"
        )
    _check_driver(parsed)
    return parsed


def _check_driver(parsed: URL) -> None:
    """Import the URL's database driver now, so that a missing one is a line, not a traceback.

    SQLAlchemy imports it only when the engine is made, deep inside Optuna, which reports it
    as an ImportError with a traceback.
    """
    try:
        parsed.get_dialect().import_dbapi()
    except sqlalchemy.exc.NoSuchModuleError as e:
        raise TunerError(
            f"{parsed.render_as_string()}: unknown driver '{parsed.get_driver_name()}'"
        ) from e
    except ImportError as e:
        module = (e.name or parsed.get_driver_name()).split(".")[0]
        package = DRIVER_PACKAGES.get(module, module)
        raise TunerError(
            f"{parsed.render_as_string()}: the database driver '{module}' is not installed "
            f"(pip install {package})"
        ) from e


def open_storage(
    url: str, *, create: bool = True, heartbeat_interval: int | None = None
) -> optuna.storages.RDBStorage:
    """Open (and with `create`, make) the storage behind `url`.

    With `heartbeat_interval`, a trial whose process stopped beating for twice that long
    is failed by the next worker, and re-queued once.
    """
    parsed = parse_url(url)
    engine_kwargs: dict = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        engine_kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
        database = parsed.database
        if database and database != ":memory:":
            path = Path(database)
            if not create and not path.is_file():
                raise TunerError(f"{path}: no study database here; run 'tuner run' first")
            path.parent.mkdir(parents=True, exist_ok=True)
            _enable_wal(parsed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            heartbeat = {}
            if heartbeat_interval is not None:
                heartbeat = {
                    "heartbeat_interval": heartbeat_interval,
                    "grace_period": 2 * heartbeat_interval,
                    "heartbeat_stale_trial_callback": (
                        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
                    ),
                }
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **heartbeat)
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as e:
        reason = str(getattr(e, "orig", None) or e).splitlines()[0]
        raise TunerError(f"{parsed.render_as_string()}: cannot open storage: {reason}") from e


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
    def of(cls, url: str) -> DatabaseFile | None:
        """The file behind `url` now; None for other storages and in-memory SQLite."""
        parsed = parse_url(url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        path = Path(parsed.database)
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


def load_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    names = [s.study_name for s in storage.get_all_studies()]
    if name not in names:
        known = ", ".join(names) or "none"
        raise TunerError(f"no study '{name}' in this storage (studies: {known})")
    return optuna.load_study(study_name=name, storage=storage)
