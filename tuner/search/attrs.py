"""The study's schema: every user attribute tuner writes on studies and trials, the reasons
a trial is pruned or fails for, and one reader for each.

The dashboard, `tuner best`, the progress display, the report and export read what the
search wrote; these names are the contract between them, spelled here and nowhere else,
and read through the functions below so that every count of a reason agrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pandas as pd

from tuner.data.grid import HOUR, parse_freq
from tuner.data.sources import DataSpec
from tuner.errors import TunerError
from tuner.model.params import ModelParams, TrainingSettings

# On the study.
DATA = "data"  # the DataSpec as a dict: file, checksum, target, split, horizon
SPACE = "space"  # the search space's name
SPACE_PARAMS = "space_params"  # each parameter's kind, range, log scale, choices or fixed value
TRAINING = "training"  # the space's TrainingSettings as a dict: how its trials trained
PERSISTENCE_VAL_RMSE = "persistence_val_rmse"  # the persistence forecast on validation
BOOSTING_VAL_RMSE = "boosting_val_rmse"  # the gradient-boosting baseline on validation
SEASONAL_VAL_RMSE = "seasonal_val_rmse"  # the seasonal naive forecast on validation
# {"persistence": [...], "seasonal": [...], "boosting": [...]}: each baseline's validation
# RMSE step by step, for a study of several steps (a baseline that cannot be computed is absent)
BASELINES_VAL_BY_STEP = "baselines_val_by_step"
FREQ = "freq"  # the series' step as a pandas alias (`grid.freq_alias`); absent: hourly
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
PRUNED_REASON = "pruned_reason"  # a `PrunedReason`, or another pruner's name (`pruner_name`)
PRUNED_DETAIL = "pruned_detail"  # the figures behind the verdict
FAIL_REASON = "fail_reason"  # `INTERRUPTED`, or an error's kind and first line (`error_reason`)
REPLICATE_OF = "replicate_of"  # the trial whose configuration this one trains again (replicates)
VAL_RMSE_BY_STEP = "val_rmse_by_step"  # a completed trial's val RMSE of each step (several)


# The name studies made before tuner 0.1.0's schema gave the persistence baseline.
_LEGACY_PERSISTENCE_VAL_RMSE = "baseline_val_rmse"


class PrunedReason(StrEnum):
    """Why `NoiseAwarePruner` (or the fit itself, for `DIVERGED`) stopped a trial."""

    NOISE = "noise"
    BEHIND = "behind"
    DIVERGED = "diverged"


# What tuner's earlier pruners recorded, counted as the reason that replaced both.
_EARLIER_PRUNED_REASONS = {
    "behind-best": PrunedReason.BEHIND,
    "worse-than-median": PrunedReason.BEHIND,
}
UNKNOWN_PRUNED_REASON = "unknown"  # a pruned trial that recorded no reason

# Why a trial failed, besides a configuration's own error (`error_reason`).
INTERRUPTED = "interrupted"  # the run was stopped while the trial trained
# A failed trial that recorded no reason: in tuner, one Optuna's heartbeat failed after its
# worker died (a live worker records every failure it meets).
NO_HEARTBEAT = "no heartbeat"
NO_FAIL_REASON = "no reason recorded"  # said of one such trial, where it is not counted
_MAX_FAIL_REASON = 500


def pruner_name(pruner: object) -> str:
    """The `pruned_reason` of a trial another pruner stopped (Optuna's `MedianPruner`),
    which gives no reason of its own."""
    return type(pruner).__name__


def pruned_reason(user_attrs: Mapping[str, Any]) -> str:
    """Why a pruned trial was stopped, as every count and colour reads it.

    A `PrunedReason` (an earlier pruner's reason as the one that replaced it), another
    pruner's name, or `UNKNOWN_PRUNED_REASON` when the trial recorded none. A reason is
    read whole, never by its first word, so that one of several words counts as itself.
    """
    recorded = user_attrs.get(PRUNED_REASON)
    if not isinstance(recorded, str) or not recorded:
        return UNKNOWN_PRUNED_REASON
    return str(_EARLIER_PRUNED_REASONS.get(recorded, recorded))


def error_reason(kind: str, message: str) -> str:
    """A trial's `fail_reason` for an error: its kind (the exception's type), then the
    first line of its message. `fail_reason` counts it by the kind."""
    first = message.strip().splitlines()
    return f"{kind}: {first[0] if first else ''}"[:_MAX_FAIL_REASON]


def fail_reason(user_attrs: Mapping[str, Any]) -> str:
    """Why a failed trial failed, as every count reads it: `INTERRUPTED`, an error's kind
    ("MemoryError"), or `NO_HEARTBEAT` when the trial recorded no reason."""
    recorded = user_attrs.get(FAIL_REASON)
    if not isinstance(recorded, str) or not recorded:
        return NO_HEARTBEAT
    return recorded.partition(":")[0].strip()


def fail_detail(user_attrs: Mapping[str, Any]) -> str:
    """A failed trial's whole recorded reason, for a message about that trial alone."""
    recorded = user_attrs.get(FAIL_REASON)
    return recorded if isinstance(recorded, str) and recorded else NO_FAIL_REASON


def model_params(user_attrs: Mapping[str, Any]) -> ModelParams | None:
    """The configuration a trial trained, fixed values included, as it recorded it; None
    for a trial that recorded none (waiting, or made before tuner recorded them) or one
    this tuner cannot read."""
    recorded = user_attrs.get(MODEL_PARAMS)
    if not isinstance(recorded, dict):
        return None
    if not all(isinstance(v, (int, float, str)) for v in recorded.values()):
        return None
    try:
        return ModelParams(**recorded)
    except TypeError:
        return None


def persistence_val_rmse(study_attrs: Mapping[str, Any]) -> float | None:
    """The study's persistence baseline on validation, in target units; None if it has none.

    Studies made before the baseline had its present name are read too.
    """
    return _finite(study_attrs, PERSISTENCE_VAL_RMSE, _LEGACY_PERSISTENCE_VAL_RMSE)


def boosting_val_rmse(study_attrs: Mapping[str, Any]) -> float | None:
    """The study's gradient-boosting baseline on validation (`tuner.model.baseline`), in
    target units; None for a study made before tuner fitted one, or on data too short."""
    return _finite(study_attrs, BOOSTING_VAL_RMSE)


def seasonal_val_rmse(study_attrs: Mapping[str, Any]) -> float | None:
    """The study's seasonal naive baseline on validation; None when the step has no cycle."""
    return _finite(study_attrs, SEASONAL_VAL_RMSE)


def _finite(study_attrs: Mapping[str, Any], *keys: str) -> float | None:
    """The first of `keys` that is set, if it holds a finite number."""
    for key in keys:
        value = study_attrs.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value) if math.isfinite(value) else None
    return None


def by_step(value: Any) -> tuple[float, ...] | None:
    """A recorded list of RMSEs, one per step ahead; None unless it is a non-empty list of
    numbers (a single-step study records none)."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    return tuple(float(v) for v in value)


def val_rmse_by_step(user_attrs: Mapping[str, Any]) -> tuple[float, ...] | None:
    """A completed trial's validation RMSE of each step ahead, in target units."""
    return by_step(user_attrs.get(VAL_RMSE_BY_STEP))


def baselines_by_step(study_attrs: Mapping[str, Any]) -> dict[str, tuple[float, ...]]:
    """Each baseline's validation RMSE of each step ahead, by name (persistence, seasonal,
    boosting); empty for a single-step study, or one made before tuner recorded them."""
    recorded = study_attrs.get(BASELINES_VAL_BY_STEP)
    if not isinstance(recorded, dict):
        return {}
    read = {name: by_step(values) for name, values in recorded.items()}
    return {name: values for name, values in read.items() if values is not None}


def series_step(study_attrs: Mapping[str, Any]) -> pd.Timedelta:
    """The step of the series a study searched; an hour for one made before tuner took
    other steps."""
    recorded = study_attrs.get(FREQ)
    try:
        return parse_freq(recorded) if isinstance(recorded, str) else HOUR
    except TunerError:
        return HOUR


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
