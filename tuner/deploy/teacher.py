"""The gradient-boosting baseline as a teacher: the targets an export's members refit on.

An LSTM and gradient boosting on lag features make much the same errors, but not wholly:
the mean of their forecasts beats both. The bundle holds single-LSTM members only (DESIGN.md,
Model), so the booster cannot be one of them; it can teach them instead. Each member is
refitted on a target that mixes the observed value with the booster's forecast of it
(knowledge distillation, Hinton et al. 2015, here for a regression), and the bundle is the
LSTMs alone.

It is asked for, not the default: it helped PM2.5, the target its weight was chosen on, at
each of three sites, and did not help the other pollutants of the same files. Nor did the
booster's validation score tell beforehand where it would help, so an asked-for teacher
teaches whenever the booster could be fitted (benchmarks/README.md, "The exported model").

Plain arrays only: the booster's forecasts come in as numbers, so that this is testable
without LightGBM or Keras.
"""

from __future__ import annotations

import math

import numpy as np


def teacher_weight(weight: float, boosting_val: float | None) -> float:
    """The weight a teacher gets: the one asked for, when the booster was fitted and scored
    on validation; else none."""
    if boosting_val is None or not math.isfinite(boosting_val):
        return 0.0
    return weight


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
