"""optuna-dashboard on the study storage, with the artifact store so saved models show."""

from __future__ import annotations

from pathlib import Path

from tuner.artifacts import open_store
from tuner.storage import open_storage


def serve(storage_url: str, artifacts: Path, *, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Block serving the dashboard; bound to loopback unless `host` says otherwise."""
    from optuna_dashboard import run_server

    storage = open_storage(storage_url, create=False)
    run_server(storage, host=host, port=port, artifact_store=open_store(artifacts))
