"""Trial models in the study's artifact store (`stores`): saved when a trial becomes the best,
fetched by id."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.artifacts import download_artifact, upload_artifact
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.trial import FrozenTrial, TrialState

from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.failures import ModelNotSaved
from tuner.search.stores import Store, describe_store_error, store_errors

if TYPE_CHECKING:
    import keras
    from optuna.artifacts._protocol import ArtifactStore


def beats_best(study: optuna.Study, value: float) -> bool:
    """True when `value` is better than every completed trial of `study` (minimising)."""
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return all(value < t.value for t in completed if t.value is not None)


def save_model(store: ArtifactStore, trial: optuna.Trial, model: keras.Model) -> str:
    """Upload `model` as a `.keras` file attached to `trial`; record and return its id.

    Raises:
        ModelNotSaved: a bucket that still refused it after its retries (`stores`).
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"trial-{trial.number}.keras"
        model.save(path)
        try:
            artifact_id = upload_artifact(
                artifact_store=store, file_path=str(path), study_or_trial=trial
            )
        except store_errors() as e:
            raise ModelNotSaved(f"the model upload failed: {describe_store_error(e)}") from e
    trial.set_user_attr(attrs.ARTIFACT_ID, artifact_id)
    return artifact_id


def load_model(store: ArtifactStore, trial: FrozenTrial, where: Store) -> keras.Model:
    """The model `trial` saved, from `store` (named `where` in messages)."""
    import keras

    artifact_id = trial.user_attrs.get(attrs.ARTIFACT_ID)
    if artifact_id is None:
        raise TunerError(f"trial {trial.number} saved no model")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        try:
            download_artifact(artifact_store=store, file_path=str(path), artifact_id=artifact_id)
        except ArtifactNotFound as e:
            raise TunerError(
                f"{where}: trial {trial.number}'s model (artifact {artifact_id}) is missing "
                "from the artifact store"
            ) from e
        except Exception as e:  # the store raises backend-specific errors
            raise TunerError(
                f"{where}: cannot fetch trial {trial.number}'s model (artifact {artifact_id}): "
                f"{describe_store_error(e)}"
            ) from e
        return keras.saving.load_model(path, safe_mode=True)
