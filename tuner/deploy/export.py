"""Best trial -> a deployable bundle (`bundle.py`); the only reader of the test split.

The bundle is written in a hidden folder beside `out` and swapped into place at once
(`bundle.publish`), so that a failed export leaves the previous bundle as it was and a
reader never finds a half-written one.
"""

from __future__ import annotations

import math
import platform
import shutil
from importlib import metadata as importlib_metadata
from pathlib import Path

import keras
import numpy as np
import optuna
from optuna.trial import TrialState

from tuner.data.prepared import PreparedData, prepare
from tuner.data.sources import DataSpec, relocate
from tuner.deploy.bundle import (
    CARD_FILE,
    METADATA_FILE,
    MODEL_FILE,
    SAVED_MODEL_DIR,
    BundleMetadata,
    publish,
    staging_folder,
)
from tuner.errors import TunerError
from tuner.model.network import for_deployment
from tuner.model.params import ModelParams
from tuner.search import attrs
from tuner.search.artifacts import load_model, open_store


def export_best(study: optuna.Study, artifacts: Path | None, out: Path) -> BundleMetadata:
    """Write the best trial's bundle to `out` and return its metadata.

    Args:
        study: a study made by `tuner run` (its data and best model are found through it).
        artifacts: the folder of the artifact store the study's models were saved in.
        out: the bundle folder; an earlier bundle there is replaced.
    """
    out = Path(out)
    _check_replaceable(out)
    trial = _best_trial(study)
    if artifacts is None:
        raise TunerError(f"study '{study.study_name}': no artifact store found; give --artifacts")
    store = open_store(artifacts, create=False)
    spec = relocate(DataSpec(**study.user_attrs[attrs.DATA]))
    params = ModelParams(**trial.user_attrs[attrs.MODEL_PARAMS])
    data = prepare(spec, with_test=True)
    model = for_deployment(load_model(store, trial.user_attrs[attrs.ARTIFACT_ID]), data.prep)

    scores = {part: _score(model, data, part, params.seq_len) for part in ("val", "test")}
    meta = BundleMetadata(
        target=spec.target,
        horizon=spec.horizon,
        seq_len=params.seq_len,
        time_col=spec.time_col,
        features=data.prep.features,
        preprocessing=data.prep,
        hyperparameters=params,
        dataset={"name": spec.name, "file": Path(spec.path).name, "sha256": spec.sha256},
        split={"val_start": str(data.split.val_start), "test_start": str(data.split.test_start)},
        epochs=trial.user_attrs.get(attrs.EPOCHS),
        val_rmse=scores["val"]["rmse"],
        search_val_rmse=trial.value,
        test_rmse=scores["test"]["rmse"],
        persistence_val_rmse=study.user_attrs.get(attrs.BASELINE_VAL_RMSE),
        persistence_test_rmse=scores["test"]["persistence_rmse"],
        test_windows=int(scores["test"]["windows"]),
        study=study.study_name,
        trial=trial.number,
        backend=keras.backend.backend(),
        versions=_versions(),
    )

    try:
        staging = staging_folder(out)
    except OSError as e:
        raise TunerError(f"{out}: cannot write the bundle here: {e.strerror}") from e
    try:
        model.save(staging / MODEL_FILE)
        model.export(str(staging / SAVED_MODEL_DIR), format="tf_saved_model", verbose=False)
        (staging / METADATA_FILE).write_text(meta.to_json())
        (staging / CARD_FILE).write_text(model_card(meta))
        publish(staging, out)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise TunerError(f"{out}: cannot write the bundle: {e.strerror}") from e
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise TunerError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / METADATA_FILE).is_file():
        raise TunerError(f"{out}: a non-empty folder that is not an export; will not replace it")


def _best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TunerError(f"study '{study.study_name}' has no completed trial to export")
    trial = min(complete, key=lambda t: t.value)
    if attrs.ARTIFACT_ID not in trial.user_attrs:
        raise TunerError(f"trial {trial.number} of '{study.study_name}' has no saved model")
    return trial


def _score(model: keras.Model, data: PreparedData, part: str, seq_len: int) -> dict[str, float]:
    windows = data.raw_windows(part, seq_len)
    predicted = model.predict(windows.x, batch_size=1024, verbose=0).reshape(-1)
    actual = data.to_target_units(windows.y)
    return {
        "rmse": math.sqrt(float(np.mean((predicted - actual) ** 2))),
        "persistence_rmse": data.persistence_rmse(part),
        "windows": len(windows),
    }


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("tuner", "keras", "tensorflow", "jax", "optuna", "numpy", "pandas"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def model_card(meta: BundleMetadata) -> str:
    hp, dataset, split = meta.hyperparameters, meta.dataset, meta.split
    val = f"{meta.val_rmse:.3f} | {meta.persistence_val_rmse:.3f}"
    test = f"{meta.test_rmse:.3f} | {meta.persistence_test_rmse:.3f}"
    return f"""# {meta.study}, trial {meta.trial}

One LSTM({hp.units}) and one Dense(1), trained with Adam (learning rate
{hp.learning_rate:.3g}, batch {hp.batch_size}, {meta.epochs} epochs, {meta.backend}
backend) to forecast `{meta.target}` {meta.horizon} hour(s) ahead from the previous
{meta.seq_len} hours of the {dataset["name"]} data (sha256 {dataset["sha256"][:12]}…).

| split | RMSE | persistence RMSE |
| --- | --- | --- |
| validation (from {split["val_start"][:10]}) | {val} |
| test (from {split["test_start"][:10]}, scored once at export) | {test} |

## Inputs and outputs

`{MODEL_FILE}` and `{SAVED_MODEL_DIR}/` (signature `serve`) take float32 windows of shape
`(batch, {meta.seq_len}, {len(meta.features)})` in raw units, features in this order:
{", ".join(meta.features)}.
Text columns are one-hot (`column=value`, categories of the training rows); `hour_*` and
`doy_*` are sin/cos of hour of day and day of year; gaps are filled forward. Scaling is
inside the model, which returns `{meta.target}` in its own units. `tuner predict --model
DIR --data CSV` does all of this from a CSV.
"""
