"""The study's schema: every user attribute tuner writes on studies and trials, and the
reasons a trial is pruned for.

The dashboard, `tuner best`, the progress display, the report and export read what the
search wrote; these names are the contract between them, spelled here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from tuner.data.sources import DataSpec
from tuner.errors import TunerError
from tuner.model.params import TrainingSettings

# On the study.
DATA = "data"  # the DataSpec as a dict: file, checksum, target, split, horizon
SPACE = "space"  # the search space's name
SPACE_PARAMS = "space_params"  # each parameter's kind, range, log scale, choices or fixed value
TRAINING = "training"  # the space's TrainingSettings as a dict: how its trials trained
PERSISTENCE_VAL_RMSE = "persistence_val_rmse"  # the persistence forecast on validation
BOOSTING_VAL_RMSE = "boosting_val_rmse"  # the gradient-boosting baseline on validation
ARTIFACTS = "artifacts"  # the artifact store's folder, absolute, where the study's models are
REPORT_ARTIFACT_ID = "report_artifact_id"  # the latest `tuner report` page in the artifact store

# On a trial.
MODEL_PARAMS = "model_params"  # the ModelParams as a dict, fixed parameters included
EPOCHS = "epochs"  # epochs trained
LEARNING_RATES = "learning_rates"  # the rate each epoch trained at, after the schedule
KEPT_EPOCH = "kept_epoch"  # from 1: the epoch whose weights the trial's model holds
EPOCH_SECONDS = "epoch_seconds"  # what each epoch cost, validation included
FINAL_LEARNING_RATE = "final_learning_rate"  # after the plateau schedule
RSS_MB = "rss_mb"  # the worker's resident memory after the trial
ARTIFACT_ID = "artifact_id"  # the saved model in the artifact store
PRUNED_REASON = "pruned_reason"  # a `PrunedReason`, or another pruner's class name
PRUNED_DETAIL = "pruned_detail"  # the figures behind the verdict
FAIL_REASON = "fail_reason"  # "interrupted", or the error's type and message
REPLICATE_OF = "replicate_of"  # the trial whose configuration this one trains again (replicates)

# The name studies made before tuner 0.1.0's schema gave the persistence baseline.
_LEGACY_PERSISTENCE_VAL_RMSE = "baseline_val_rmse"


class PrunedReason(StrEnum):
    """Why `NoiseAwarePruner` (or the fit itself, for `DIVERGED`) stopped a trial."""

    NOISE = "noise"
    BEHIND = "behind"
    DIVERGED = "diverged"


def persistence_val_rmse(study_attrs: Mapping[str, Any]) -> float | None:
    """The study's persistence baseline on validation, in target units; None if it has none.

    Studies made before the baseline had its present name are read too.
    """
    return _finite(study_attrs, PERSISTENCE_VAL_RMSE, _LEGACY_PERSISTENCE_VAL_RMSE)


def boosting_val_rmse(study_attrs: Mapping[str, Any]) -> float | None:
    """The study's gradient-boosting baseline on validation (`tuner.model.baseline`), in
    target units; None for a study made before tuner fitted one, or on data too short."""
    return _finite(study_attrs, BOOSTING_VAL_RMSE)


def _finite(study_attrs: Mapping[str, Any], *keys: str) -> float | None:
    """The first of `keys` that is set, if it holds a finite number."""
    for key in keys:
        value = study_attrs.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value) if math.isfinite(value) else None
    return None


def training_settings(study_attrs: Mapping[str, Any]) -> TrainingSettings | None:
    """How a study's trials were trained; None for a study made before tuner recorded it."""
    recorded = study_attrs.get(TRAINING)
    if not isinstance(recorded, dict):
        return None
    try:
        return TrainingSettings(**recorded)
    except (TypeError, ValueError):
        return None


def data_spec(study_attrs: Mapping[str, Any]) -> DataSpec | None:
    """The data a study was made on; None when it has no record tuner can read.

    A study made by another tool, or by a tuner whose DataSpec had other fields, has no
    data tuner can reopen.
    """
    recorded = study_attrs.get(DATA)
    if not isinstance(recorded, dict):
        return None
    try:
        return DataSpec(**recorded)
    except (TypeError, ValueError, TunerError):
        return None
