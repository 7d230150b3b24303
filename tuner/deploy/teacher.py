"""The gradient-boosting baseline as a teacher: the targets an export's members refit on.

An LSTM and gradient boosting on lag features make much the same errors, but not wholly:
the mean of their forecasts beats both. The bundle holds single-LSTM members only (DESIGN.md,
Model), so the booster cannot be one of them; it can teach them instead. Each member is
refitted on a target that mixes the observed value with the booster's forecast of it
(knowledge distillation, Hinton et al. 2015, here for a regression), and the bundle is the
LSTMs alone. The weight was chosen on a year the test year never touched
(benchmarks/README.md, "The exported model").

Plain arrays only: the booster's forecasts come in as numbers, so that this is testable
without LightGBM or Keras.
"""

from __future__ import annotations

import math

import numpy as np

TEACHER_WEIGHT = 0.75  # of the booster's forecast in a member's target; the rest observed


def teacher_weight(weight: float, boosting_val: float | None, search_val: float) -> float:
    """The weight a teacher gets: `weight` when the booster validated better than the
    search's best trial did, else none, so that a booster weaker than the LSTMs on the
    user's data never pulls them toward its forecasts."""
    if boosting_val is None or not math.isfinite(boosting_val):
        return 0.0
    return weight if boosting_val < search_val else 0.0


def taught(observed: np.ndarray, forecast: np.ndarray, weight: float) -> np.ndarray:
    """The targets to fit: `weight` of the teacher's `forecast`, the rest the `observed`
    value; the observed value alone where the teacher has no finite forecast."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"a teacher's weight is between 0 and 1, not {weight}")
    observed = np.asarray(observed)
    forecast = np.asarray(forecast, dtype=observed.dtype)
    if observed.shape != forecast.shape:
        raise ValueError(f"{forecast.shape} forecasts for {observed.shape} targets")
    mixed = weight * forecast + (1.0 - weight) * observed
    return np.where(np.isfinite(forecast), mixed, observed).astype(observed.dtype)
