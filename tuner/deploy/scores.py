"""A bundle's model scored on the validation and test windows, beside its baselines.

Export is the only reader of the test split, and this is where it reads it: once, for the
model the bundle holds, for the naive forecasts (persistence, and seasonal naive where the
step has a cycle) and for the gradient-boosting baseline refitted as `tuner run` fitted it.
Every score is over every forecast origin of the part whose targets were all observed
(`PreparedData.scored_origins`) and every step, then step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import keras
import numpy as np

from tuner.data import naive
from tuner.data.prepared import Part, PreparedData
from tuner.deploy.metadata import StepScores

if TYPE_CHECKING:
    from tuner.model.baseline import Baseline

PREDICT_BATCH = 1024


@dataclass(frozen=True, eq=False)
class Scores:
    """RMSEs in target units; `test_x` and `test_forecast` (n, len(steps)) are the test
    windows and the model's forecasts of them, which every other format of the bundle must
    reproduce. `baselines_test` holds persistence, seasonal naive (when the step has a
    cycle) and gradient boosting (when it could be fitted)."""

    val: StepScores
    test: StepScores
    baselines_test: dict[str, StepScores]
    boosting_val_rmse: float | None
    test_x: np.ndarray
    test_forecast: np.ndarray

    @property
    def val_rmse(self) -> float:
        return self.val.rmse

    @property
    def test_rmse(self) -> float:
        return self.test.rmse

    @property
    def persistence_test_rmse(self) -> float:
        return self.baselines_test["persistence"].rmse

    @property
    def boosting_test_rmse(self) -> float | None:
        boosting = self.baselines_test.get("boosting")
        return None if boosting is None else boosting.rmse

    @property
    def test_windows(self) -> int:
        return len(self.test_x)


def score(model: keras.Model, data: PreparedData) -> Scores:
    """`model` (raw windows in, target units out) on `data`'s validation and test windows."""
    seq_len = int(model.input_shape[1])
    scores, x, forecasts = {}, {}, {}
    for part in ("val", "test"):
        x[part], forecasts[part] = model_forecasts(model, data, part, seq_len)
        observed = data.observed(data.scored_origins(part))
        scores[part] = step_scores(forecasts[part], observed)
    origins = data.scored_origins("test")
    observed = data.observed(origins)
    baselines = {
        name: step_scores(forecast, observed)
        for name, forecast in data.naive_forecasts(origins).items()
    }
    booster = _boosting_scores(data)
    if booster is not None:
        baselines["boosting"] = booster[1]
    return Scores(
        val=scores["val"],
        test=scores["test"],
        baselines_test=baselines,
        boosting_val_rmse=None if booster is None else booster[0],
        test_x=x["test"],
        test_forecast=forecasts["test"],
    )


def model_forecasts(
    model: keras.Model, data: PreparedData, part: Part, seq_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """The part's raw windows and the model's forecasts of them, (n, len(steps)), for
    exactly the origins every baseline is scored on."""
    windows = data.raw_windows(part, seq_len)
    if not np.array_equal(windows.origins, data.scored_origins(part)):
        raise RuntimeError(f"the model's {part} windows are not the origins the baselines score")
    forecast = model.predict(windows.x, batch_size=PREDICT_BATCH, verbose=0)
    forecast = np.asarray(forecast, "float64").reshape(len(windows), -1)
    if forecast.shape[1] != len(data.steps):
        raise RuntimeError(
            f"the model forecasts {forecast.shape[1]} values per window; the data has "
            f"{len(data.steps)} steps"
        )
    return windows.x, forecast


def step_scores(forecast: np.ndarray, observed: np.ndarray) -> StepScores:
    """RMSE over every origin and step, and one per step, of (n, len(steps)) forecasts."""
    return StepScores(naive.rmse(forecast, observed), naive.rmse_by_step(forecast, observed))


def _boosting_scores(data: PreparedData) -> tuple[float, StepScores] | None:
    """The gradient-boosting baseline refitted as `tuner run` fitted it (deterministic, on
    the training rows, stopped on validation): its validation RMSE and, scored once, its
    test scores; None for data it cannot serve: then the bundle says it has no such score."""
    from tuner.model.baseline import FIT_ERRORS, fit_baseline
    from tuner.search.workers import usable_cores

    try:
        baseline: Baseline = fit_baseline(data, threads=len(usable_cores()))
        overall = baseline.rmse("test")
        if len(data.steps) > 1:
            by_step = tuple(float(v) for v in baseline.rmse_by_step("test"))
        else:
            by_step = (overall,)
        return baseline.rmse("val"), StepScores(overall, by_step)
    except FIT_ERRORS:
        return None
