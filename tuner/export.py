"""Best trial -> a deployable bundle; the only reader of the test split (invariant 3).

The bundle: `model.keras` (raw features in, target units out), `saved_model/` (TensorFlow
SavedModel with a `serve` signature), `metadata.json` (everything `predict` must apply),
and a `README.md` model card. It is written in a temporary folder and renamed into place.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import tempfile
from dataclasses import asdict
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
from optuna.trial import TrialState

from tuner.artifacts import ARTIFACT_KEY, load_model
from tuner.dataset import PreparedData, prepare
from tuner.errors import TunerError
from tuner.model import for_deployment
from tuner.pruner import BASELINE_KEY
from tuner.sources import DataSpec, relocate
from tuner.space import ModelParams

METADATA = "metadata.json"
FORMAT_VERSION = 1


def export_best(study: optuna.Study, store: Any, out: Path) -> dict[str, Any]:
    """Write the best trial's bundle to `out` and return its metadata."""
    out = Path(out)
    _check_replaceable(out)
    trial = _best_trial(study)
    spec = relocate(DataSpec(**study.user_attrs["data"]))
    params = ModelParams(**trial.user_attrs["model_params"])
    data = prepare(spec, with_test=True)
    model = for_deployment(load_model(store, trial.user_attrs[ARTIFACT_KEY]), data.prep)

    scores = {part: _score(model, data, part, params.seq_len) for part in ("val", "test")}
    meta = _metadata(study, trial, spec, data, params, scores)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save(staging / "model.keras")
        model.export(str(staging / "saved_model"), format="tf_saved_model", verbose=False)
        (staging / METADATA).write_text(json.dumps(meta, indent=2) + "\n")
        (staging / "README.md").write_text(model_card(meta))
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise TunerError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / METADATA).is_file():
        raise TunerError(f"{out}: a non-empty folder that is not an export; will not replace it")


def _best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TunerError(f"study '{study.study_name}' has no completed trial to export")
    trial = min(complete, key=lambda t: t.value)
    if ARTIFACT_KEY not in trial.user_attrs:
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


def _metadata(
    study: optuna.Study,
    trial: optuna.trial.FrozenTrial,
    spec: DataSpec,
    data: PreparedData,
    params: ModelParams,
    scores: dict[str, dict[str, float]],
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "dataset": {"name": spec.name, "file": Path(spec.path).name, "sha256": spec.sha256},
        "target": spec.target,
        "horizon": spec.horizon,
        "seq_len": params.seq_len,
        "time_col": spec.time_col,
        "split": {"val_start": str(data.split.val_start), "test_start": str(data.split.test_start)},
        "features": list(data.prep.features),
        "preprocessing": data.prep.to_dict(),
        "hyperparameters": asdict(params),
        "epochs": trial.user_attrs.get("epochs"),
        "val_rmse": scores["val"]["rmse"],
        "search_val_rmse": trial.value,
        "test_rmse": scores["test"]["rmse"],
        "persistence_val_rmse": study.user_attrs.get(BASELINE_KEY),
        "persistence_test_rmse": scores["test"]["persistence_rmse"],
        "test_windows": scores["test"]["windows"],
        "study": study.study_name,
        "trial": trial.number,
        "backend": keras.backend.backend(),
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("tuner", "keras", "tensorflow", "jax", "optuna", "numpy", "pandas"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def _swap_into_place(staging: Path, out: Path) -> None:
    if out.exists():
        retired = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(retired)
        staging.rename(out)
        shutil.rmtree(retired)
    else:
        staging.rename(out)


def model_card(meta: dict[str, Any]) -> str:
    hp, dataset, split = meta["hyperparameters"], meta["dataset"], meta["split"]
    val = f"{meta['val_rmse']:.3f} | {meta['persistence_val_rmse']:.3f}"
    test = f"{meta['test_rmse']:.3f} | {meta['persistence_test_rmse']:.3f}"
    return f"""# {meta["study"]}, trial {meta["trial"]}

One LSTM({hp["units"]}) and one Dense(1), trained with Adam (learning rate
{hp["learning_rate"]:.3g}, batch {hp["batch_size"]}, {meta["epochs"]} epochs, {meta["backend"]}
backend) to forecast `{meta["target"]}` {meta["horizon"]} hour(s) ahead from the previous
{meta["seq_len"]} hours of the {dataset["name"]} data (sha256 {dataset["sha256"][:12]}…).

| split | RMSE | persistence RMSE |
| --- | --- | --- |
| validation (from {split["val_start"][:10]}) | {val} |
| test (from {split["test_start"][:10]}, scored once at export) | {test} |

## Inputs and outputs

`model.keras` and `saved_model/` (signature `serve`) take float32 windows of shape
`(batch, {meta["seq_len"]}, {len(meta["features"])})` in raw units, features in this order:
{", ".join(meta["features"])}.
Text columns are one-hot (`column=value`, categories of the training rows); `hour_*` and
`doy_*` are sin/cos of hour of day and day of year; gaps are filled forward. Scaling is
inside the model, which returns `{meta["target"]}` in its own units. `tuner predict --model
DIR --data CSV` does all of this from a CSV.
"""
