"""optuna-dashboard on the study storage, with the artifact store so saved models show."""

from __future__ import annotations

from pathlib import Path

from tuner.search.artifacts import open_store
from tuner.search.storage import open_storage

DEFAULT_HOST = "127.0.0.1"  # optuna-dashboard has no login: loopback unless asked
DEFAULT_PORT = 8080


def serve(
    storage_url: str, artifacts: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> None:
    """Serve the dashboard until interrupted.

    Args:
        storage_url: the study storage, as given to `tuner run`.
        artifacts: the artifact store folder, so that trial models can be downloaded.
        host, port: where to listen.
    """
    from optuna_dashboard import run_server

    storage = open_storage(storage_url, create=False)
    run_server(storage, host=host, port=port, artifact_store=open_store(artifacts))
