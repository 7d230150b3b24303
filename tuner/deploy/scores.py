"""A bundle's model scored on the validation and test windows, beside its two baselines.

Export is the only reader of the test split, and this is where it reads it: once, for the
model the bundle holds, for persistence and for the gradient-boosting baseline refitted as
`tuner run` fitted it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keras
import numpy as np

from tuner.data.prepared import PreparedData

if TYPE_CHECKING:
    from tuner.model.baseline import Baseline

PREDICT_BATCH = 1024


@dataclass(frozen=True, eq=False)
class Scores:
    """RMSEs in target units; `test_x` and `test_forecast` are the test windows and the
    model's forecasts of them, which every other format of the bundle must reproduce."""

    val_rmse: float
    test_rmse: float
    persistence_test_rmse: float
    boosting_val_rmse: float | None
    boosting_test_rmse: float | None
    test_x: np.ndarray
    test_forecast: np.ndarray

    @property
    def test_windows(self) -> int:
        return len(self.test_x)


def score(model: keras.Model, data: PreparedData) -> Scores:
    """`model` (raw windows in, target units out) on `data`'s validation and test windows."""
    seq_len = int(model.input_shape[1])
    rmse, forecasts, x = {}, {}, {}
    for part in ("val", "test"):
        windows = data.raw_windows(part, seq_len)
        x[part] = windows.x
        forecasts[part] = model.predict(windows.x, batch_size=PREDICT_BATCH, verbose=0)
        forecasts[part] = forecasts[part].reshape(-1)
        rmse[part] = _rmse(forecasts[part] - data.to_target_units(windows.y).reshape(-1))
    boosting = _boosting_scores(data)
    return Scores(
        val_rmse=rmse["val"],
        test_rmse=rmse["test"],
        persistence_test_rmse=data.persistence_rmse("test"),
        boosting_val_rmse=boosting["val"],
        boosting_test_rmse=boosting["test"],
        test_x=x["test"],
        test_forecast=forecasts["test"],
    )


def _rmse(errors: np.ndarray) -> float:
    return math.sqrt(float(np.mean(errors**2)))


def _boosting_scores(data: PreparedData) -> dict[str, float | None]:
    """The gradient-boosting baseline refitted as `tuner run` fitted it (deterministic, on
    the training rows, stopped on validation) and scored on validation and, once, on test;
    None for data it cannot serve: then the bundle says it has no such score."""
    from tuner.model.baseline import FIT_ERRORS, fit_baseline

    try:
        baseline: Baseline = fit_baseline(data)
        return {part: baseline.rmse(part) for part in ("val", "test")}
    except FIT_ERRORS:
        return {"val": None, "test": None}
