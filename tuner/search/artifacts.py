"""Trial models in Optuna's artifact store: saved when a trial becomes the best, fetched by id."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.artifacts import FileSystemArtifactStore, download_artifact, upload_artifact
from optuna.trial import TrialState

from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.storage import parse_url

if TYPE_CHECKING:
    import keras

ARTIFACTS_FOLDER = "artifacts"  # beside an SQLite database: results/tuner.db -> results/artifacts


def beside_database(storage_url: str) -> Path | None:
    """The store's folder beside an SQLite database file; None for other storages."""
    parsed = parse_url(storage_url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).parent / ARTIFACTS_FOLDER


def store_to_read(given: Path | None, recorded: str | None, beside: Path | None) -> Path | None:
    """Where `export` and the dashboard find a study's models: `--artifacts`, else the folder
    the study recorded, else the one beside its SQLite database; None when none is a folder.

    The recorded folder comes before the one beside the database since `--artifacts` may
    have put it elsewhere; after it, since a study folder that was moved leaves a stale
    record.
    """
    if given is not None:
        return given
    for candidate in (recorded, beside):
        if candidate is not None and Path(candidate).is_dir():
            return Path(candidate)
    return None


def store_to_write(given: Path | None, recorded: str | None, beside: Path | None) -> Path:
    """Where `tuner run` keeps a study's models, refused in one line when it cannot say.

    A study keeps one store: its best model must be where export will look. Storages other
    than SQLite have no folder of their own, so a new study there needs `--artifacts`.
    """
    kept = Path(recorded) if recorded is not None and Path(recorded).is_dir() else None
    if given is not None:
        if kept is not None and kept.resolve() != given.resolve():
            raise TunerError(f"{given}: this study keeps its models in {kept}; give that or none")
        return given
    if kept is not None:
        return kept
    if beside is not None:
        return beside
    if recorded is not None:
        raise TunerError(f"{recorded}: the study's artifact store is not a folder here")
    raise TunerError("a study outside SQLite needs --artifacts: a folder every worker reaches")


def open_store(path: str | Path, *, create: bool = True) -> FileSystemArtifactStore:
    """The store in `path`; with `create`, made and checked writable, else it must exist."""
    path = Path(path)
    if not create:
        if not path.is_dir():
            raise TunerError(f"{path}: no artifact store here; give --artifacts")
        return FileSystemArtifactStore(str(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()  # as a real write: root passes os.access
    except OSError as e:
        raise TunerError(f"{path}: cannot write the artifact store: {e.strerror}") from e
    return FileSystemArtifactStore(str(path))


def beats_best(study: optuna.Study, value: float) -> bool:
    """True when `value` is better than every completed trial of `study` (minimising)."""
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return not completed or value < study.best_value


def save_model(store: FileSystemArtifactStore, trial: optuna.Trial, model: keras.Model) -> str:
    """Upload `model` as a `.keras` file attached to `trial`; record and return its id."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"trial-{trial.number}.keras"
        model.save(path)
        artifact_id = upload_artifact(
            artifact_store=store, file_path=str(path), study_or_trial=trial
        )
    trial.set_user_attr(attrs.ARTIFACT_ID, artifact_id)
    return artifact_id


def load_model(store: FileSystemArtifactStore, artifact_id: str) -> keras.Model:
    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        try:
            download_artifact(artifact_store=store, file_path=str(path), artifact_id=artifact_id)
        except Exception as e:  # the store raises backend-specific errors
            raise TunerError(f"artifact {artifact_id}: cannot fetch the model ({e})") from e
        return keras.saving.load_model(path, safe_mode=True)
