"""The bars a trial's value is read against, fitted once per study: persistence, the
seasonal naive forecast and gradient boosting on validation, overall and, for a study of
several steps, step by step (`tuner best`, the note, the report, the pruner's skill)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tuner.data import naive
from tuner.search import attrs
from tuner.search.workers import usable_cores

if TYPE_CHECKING:
    from tuner.data.prepared import PreparedData
    from tuner.model.baseline import Baseline


def missing_baselines(recorded: Mapping[str, Any], data: PreparedData) -> dict[str, Any]:
    """The baselines a study lacks (a new one, or one made before tuner fitted them), by
    their attribute names; fitted before anything is written, since they cost far less than a trial.

    A baseline that cannot be computed (no cycle for the seasonal forecast, data too short
    for the boosting features) is left out.
    """
    several = len(data.steps) > 1
    missing: dict[str, Any] = {}
    if attrs.PERSISTENCE_VAL_RMSE not in recorded:
        missing[attrs.PERSISTENCE_VAL_RMSE] = data.persistence_rmse("val")
    origins = data.scored_origins("val")
    naive_forecasts = data.naive_forecasts(origins)
    observed = data.observed(origins)
    if attrs.SEASONAL_VAL_RMSE not in recorded and "seasonal" in naive_forecasts:
        missing[attrs.SEASONAL_VAL_RMSE] = naive.rmse(naive_forecasts["seasonal"], observed)
    by_step_missing = several and attrs.BASELINES_VAL_BY_STEP not in recorded
    boosting = None
    if attrs.BOOSTING_VAL_RMSE not in recorded or by_step_missing:
        boosting = fit_boosting(data)
    if boosting is not None and attrs.BOOSTING_VAL_RMSE not in recorded:
        missing[attrs.BOOSTING_VAL_RMSE] = boosting.rmse("val")
    if by_step_missing:
        by_step = {
            name: list(naive.rmse_by_step(forecast, observed))
            for name, forecast in naive_forecasts.items()
        }
        if boosting is not None:
            by_step["boosting"] = list(boosting.rmse_by_step("val"))
        missing[attrs.BASELINES_VAL_BY_STEP] = by_step
    return missing


def boosting_val_rmse(data: PreparedData) -> float | None:
    """The gradient-boosting baseline on validation, over every step; None when it cannot
    be fitted (training rows too few for its features, say)."""
    boosting = fit_boosting(data)
    return None if boosting is None else boosting.rmse("val")


def fit_boosting(data: PreparedData) -> Baseline | None:
    """The gradient-boosting baseline, its steps fitted on every usable core at once (the
    same boosters as on one); None when it cannot be fitted, which the search does not need."""
    from tuner.model.baseline import FIT_ERRORS, fit_baseline

    try:
        return fit_baseline(data, threads=len(usable_cores()))
    except FIT_ERRORS:
        return None
