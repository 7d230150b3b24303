"""The bars a trial's value is read against, fitted once per study: persistence and
gradient boosting on validation (`tuner best`, the note, the report, the pruner's skill)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tuner.search import attrs

if TYPE_CHECKING:
    from tuner.data.prepared import PreparedData


def missing_baselines(recorded: Mapping[str, Any], data: PreparedData) -> dict[str, float]:
    """The baselines a study lacks (a new one, or one made before tuner fitted them), by
    their attribute names; fitted before anything is written, since they cost seconds."""
    missing = {}
    if attrs.PERSISTENCE_VAL_RMSE not in recorded:
        missing[attrs.PERSISTENCE_VAL_RMSE] = data.persistence_rmse("val")
    if attrs.BOOSTING_VAL_RMSE not in recorded:
        boosting = boosting_val_rmse(data)
        if boosting is not None:
            missing[attrs.BOOSTING_VAL_RMSE] = boosting
    return missing


def boosting_val_rmse(data: PreparedData) -> float | None:
    """The gradient-boosting baseline on validation (seconds to fit); None when it cannot be
    fitted (training rows too few for its features, say), which the search does not need."""
    from tuner.model.baseline import FIT_ERRORS, fit_baseline

    try:
        return fit_baseline(data).rmse("val")
    except FIT_ERRORS:
        return None
