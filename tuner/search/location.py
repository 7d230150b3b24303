"""Where a study lives: its storage URL and its artifact store, worked out once from the
flags and the environment, then handed down to `run`, `best`, `export`, `report` and
`dashboard`.

The lookup order, the one every command follows:
- storage: `--storage`, else `$TUNER_STORAGE`, else `$OPTUNA_STORAGE` (Optuna's own CLI
  reads it), else `sqlite:///results/tuner.db`;
- artifact store, where trial models are (a folder or `s3://bucket/prefix`, `stores`):
  `--artifacts`, else `$TUNER_ARTIFACTS`, else the store the study recorded when its run
  started (a bucket, or a folder that exists here), else `artifacts/` beside an SQLite
  database. A run writes where a reader will look: a store given for a study that recorded
  another is refused, and a study outside SQLite needs one.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import URL, make_url

from tuner.errors import TunerError
from tuner.search.stores import Store, is_here, parse_store, same_store

DEFAULT_STORAGE = "sqlite:///results/tuner.db"
STORAGE_VARIABLES = ("TUNER_STORAGE", "OPTUNA_STORAGE")
ARTIFACTS_VARIABLE = "TUNER_ARTIFACTS"
ARTIFACTS_FOLDER = "artifacts"  # beside an SQLite database: results/tuner.db -> results/artifacts
SUPPORTED = ("sqlite", "postgresql", "mysql")
# The pip requirement that provides each driver module SQLAlchemy may ask for.
DRIVER_PACKAGES = {
    "psycopg": "'tuner[postgres]'",  # what a plain postgresql:// uses in SQLAlchemy 2
    "psycopg2": "psycopg2-binary",
    "pymysql": "PyMySQL",
    "MySQLdb": "mysqlclient",
}


@dataclass(frozen=True)
class StudyLocation:
    """A study's storage, parsed and its driver checked, and the artifact store given for it.

    `artifacts` is the store the user named, None to use the study's own (`store_to_read`,
    `store_to_write`).
    """

    url: URL
    artifacts: Store | None = None

    @classmethod
    def of(
        cls,
        storage: str | None = None,
        artifacts: str | Store | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> StudyLocation:
        """From what the user gave, then the environment, then the defaults (module doc)."""
        url = storage or next(
            (environ[name] for name in STORAGE_VARIABLES if environ.get(name)), DEFAULT_STORAGE
        )
        store = artifacts or environ.get(ARTIFACTS_VARIABLE) or None
        return cls(parse_url(url), parse_store(store) if store else None)

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of a local SQLite storage; None for servers and `:memory:`."""
        if self.url.get_backend_name() != "sqlite" or self.url.database in (None, "", ":memory:"):
            return None
        return Path(self.url.database)

    @property
    def beside(self) -> Path | None:
        """The artifact store beside an SQLite database file; None for other storages."""
        database = self.sqlite_file
        return None if database is None else database.parent / ARTIFACTS_FOLDER

    def __str__(self) -> str:
        """The URL as a message may show it: a password in it is masked."""
        return self.url.render_as_string(hide_password=True)

    def command_line(self) -> str:
        """`--storage URL` to reach this study from any folder; a password shows as ***."""
        url = self.url
        if self.sqlite_file is not None:
            url = url.set(database=str(self.sqlite_file.resolve()))
        return f"--storage {shlex.quote(url.render_as_string(hide_password=True))}"

    def store_to_read(self, recorded: str | None) -> Store | None:
        """Where a study's models are found: the store given, else the one the study
        recorded, else the one beside its database; None when none is reachable here.

        The recorded store comes before the one beside the database since the run may
        have been given another; after the given one, since a study folder that was moved
        leaves a stale record.
        """
        if self.artifacts is not None:
            return self.artifacts
        for candidate in (recorded, self.beside):
            if candidate is not None and is_here(store := parse_store(candidate)):
                return store
        return None

    def store_to_write(self, recorded: str | None) -> Store:
        """Where `tuner run` keeps a study's models, refused in one line when it cannot say.

        A study keeps one store: its best model must be where export will look. Storages
        other than SQLite have no folder of their own, so a new study there needs one.
        """
        kept = parse_store(recorded) if recorded is not None else None
        kept = kept if kept is not None and is_here(kept) else None
        if self.artifacts is not None:
            if kept is not None and not same_store(kept, self.artifacts):
                raise TunerError(
                    f"{self.artifacts}: this study keeps its models in {kept}; give that or none"
                )
            return self.artifacts
        if kept is not None:
            return kept
        if self.beside is not None:
            return self.beside
        if recorded is not None:
            raise TunerError(f"{recorded}: the study's artifact store is not a folder here")
        raise TunerError(
            "a study outside SQLite needs an artifact store (--artifacts or "
            f"${ARTIFACTS_VARIABLE}): a folder every worker reaches, or s3://BUCKET/PREFIX"
        )


def parse_url(url: str) -> URL:
    """The URL, refused in one line unless its scheme is supported and its driver installed."""
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError as e:  # not shown: it may hold a password
        raise TunerError(f"the storage is not a URL (e.g. {DEFAULT_STORAGE})") from e
    if parsed.get_backend_name() not in SUPPORTED:
        raise TunerError(
            f"{parsed.render_as_string()}: unknown storage scheme '{parsed.get_backend_name()}' "
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
