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

if TYPE_CHECKING:
    import keras


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
