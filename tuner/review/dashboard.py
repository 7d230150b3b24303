"""optuna-dashboard on the study storage, with the artifact store so saved models show."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from tuner.search import attrs
from tuner.search.location import StudyLocation
from tuner.search.storage import open_storage
from tuner.search.stores import open_store

if TYPE_CHECKING:
    from bottle import Bottle

DEFAULT_HOST = "127.0.0.1"  # optuna-dashboard has no login: loopback unless asked
DEFAULT_PORT = 8080


def serve(
    location: StudyLocation,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    read_only: bool = False,
) -> None:
    """Serve the dashboard until interrupted.

    Args:
        location: the study storage, and the artifact store so that trial models can be
            downloaded: the one given, else the one all its studies recorded, else the one
            beside an SQLite database. Without one, the dashboard shows the studies
            without their models.
        host, port: where to listen.
        read_only: refuse every request that could change a study (anything but GET and
            HEAD), since optuna-dashboard itself has no such mode.
    """
    import bottle

    bottle.run(make_app(location, read_only=read_only), host=host, port=port)


def make_app(location: StudyLocation, *, read_only: bool = False) -> Bottle:
    """optuna-dashboard's WSGI application on the study storage; see `serve`."""
    from optuna_dashboard import wsgi

    storage = open_storage(location, create=False)
    recorded = {s.user_attrs.get(attrs.ARTIFACTS) for s in storage.get_all_studies()} - {None}
    where = location.store_to_read(recorded.pop() if len(recorded) == 1 else None)
    store = open_store(where, create=False) if where is not None else None
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
