"""optuna-dashboard on the study storage, with the artifact store so saved models show."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING

from optuna.storages import BaseStorage

from tuner.search import attrs
from tuner.search.artifacts import beside_database, open_store, store_to_read
from tuner.search.storage import open_storage

if TYPE_CHECKING:
    from bottle import Bottle

DEFAULT_HOST = "127.0.0.1"  # optuna-dashboard has no login: loopback unless asked
DEFAULT_PORT = 8080


def serve(
    storage_url: str,
    artifacts: Path | None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    read_only: bool = False,
) -> None:
    """Serve the dashboard until interrupted.

    Args:
        storage_url: the study storage, as given to `tuner run`.
        artifacts: the artifact store folder, so that trial models can be downloaded; by
            default the one beside an SQLite database, else the one the studies recorded.
            Without one, the dashboard shows the studies without their models.
        host, port: where to listen.
        read_only: refuse every request that could change a study (anything but GET and
            HEAD), since optuna-dashboard itself has no such mode.
    """
    import bottle

    bottle.run(make_app(storage_url, artifacts, read_only=read_only), host=host, port=port)


def make_app(storage_url: str, artifacts: Path | None, *, read_only: bool = False) -> Bottle:
    """optuna-dashboard's WSGI application on the study storage; see `serve`."""
    from optuna_dashboard import wsgi

    storage = open_storage(storage_url, create=False)
    folder = _find_store(storage, storage_url, artifacts)
    store = open_store(folder, create=False) if folder is not None else None
    app = wsgi(storage, artifact_store=store)
    if read_only:
        app.add_hook("before_request", _refuse_writes)
    return app


def exposure_warning(host: str) -> str | None:
    """The line to print when the dashboard listens beyond this machine: it has no login."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        loopback = False
    if loopback:
        return None
    return (
        f"warning: listening on {host}: optuna-dashboard has no login, and anyone who reaches "
        "it can change and delete studies (--read-only prevents that)"
    )


def _refuse_writes() -> None:
    import bottle

    if bottle.request.method not in ("GET", "HEAD"):
        raise bottle.HTTPResponse("this dashboard is read-only (tuner dashboard --read-only)", 403)


def _find_store(storage: BaseStorage, storage_url: str, given: Path | None) -> Path | None:
    """`given`, else beside the database, else the one folder all recorded studies share."""
    recorded = {s.user_attrs.get(attrs.ARTIFACTS) for s in storage.get_all_studies()}
    shared = recorded.pop() if len(recorded) == 1 else None
    return store_to_read(given, shared, beside_database(storage_url))
