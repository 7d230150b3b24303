"""The exported model on the test split, step by step, beside the naive forecasts and what
was observed.

The windows, the scaling and the persistence forecast are the data path's own
(`PreparedData`), as export scored them, so that the report's test RMSE is the bundle's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tuner.data import naive
from tuner.data.grid import HOUR, WEEK
from tuner.data.prepared import prepare
from tuner.data.sources import DataSpec
from tuner.deploy.metadata import BundleMetadata
from tuner.deploy.predict import load_bundle
from tuner.errors import TunerError

HOURS = 24


@dataclass(frozen=True)
class Forecasts:
    """One step ahead: a row per test origin scored, the time forecast and three values."""

    times: pd.DatetimeIndex
    observed: np.ndarray
    model: np.ndarray
    persistence: np.ndarray
    step: pd.Timedelta = HOUR  # the series' step, between two rows

    def rmse(self) -> tuple[float, float]:
        """(model, persistence) over the whole test split."""
        return _rmse(self.model - self.observed), _rmse(self.persistence - self.observed)


@dataclass(frozen=True)
class StepForecasts:
    """Every step ahead: (n, len(steps)) arrays, one row per test origin scored; `naive`
    holds persistence and, where the step has a cycle, the seasonal naive forecast."""

    origins: pd.DatetimeIndex
    steps: tuple[int, ...]
    step: pd.Timedelta
    observed: np.ndarray
    model: np.ndarray
    naive: dict[str, np.ndarray]

    def at(self, k: int) -> Forecasts:
        """The forecasts of the `k`-th step ahead (0: the first)."""
        return Forecasts(
            times=self.origins + self.steps[k] * self.step,
            observed=self.observed[:, k],
            model=self.model[:, k],
            persistence=self.naive["persistence"][:, k],
            step=self.step,
        )

    def rmse(self) -> tuple[float, float]:
        """(model, persistence) over every origin and step."""
        return naive.rmse(self.model, self.observed), naive.rmse(
            self.naive["persistence"], self.observed
        )

    def by_step(self) -> dict[str, tuple[float, ...]]:
        """RMSE per step of the model and each naive forecast."""
        forecasts = {"model": self.model, **self.naive}
        return {name: naive.rmse_by_step(f, self.observed) for name, f in forecasts.items()}


def forecast_test(bundle: str | Path, spec: DataSpec) -> tuple[BundleMetadata, StepForecasts]:
    """The bundle's forecasts of every test origin scored, at every step, of the data in
    `spec`.

    Args:
        bundle: a folder written by `tuner export`.
        spec: the data of the study it was exported from, found again (`relocate`).

    Returns:
        The metadata of the bundle read, and its forecasts.
    """
    meta, model = load_bundle(bundle)
    data = prepare(spec, with_test=True)
    if data.prep.features != meta.features or data.steps != meta.steps:
        raise TunerError(f"{bundle}: its features or steps are not those of the study's data")
    windows = data.raw_windows("test", meta.seq_len)
    predicted = model.predict(windows.x, batch_size=1024, verbose=0)
    return meta, StepForecasts(
        origins=data.index[windows.origins],
        steps=data.steps,
        step=data.step,
        observed=data.to_target_units(windows.y),
        model=np.asarray(predicted, "float64").reshape(len(windows), -1),
        naive=data.naive_forecasts(windows.origins),
    )


def rmse_by_hour(hours: np.ndarray, observed: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """RMSE for each hour of day 0-23 (of the hour forecast); NaN for an hour never seen."""
    squared = (np.asarray(predicted, "float64") - np.asarray(observed, "float64")) ** 2
    total = np.bincount(hours, weights=squared, minlength=HOURS)
    seen = np.bincount(hours, minlength=HOURS)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(np.where(seen > 0, total / np.maximum(seen, 1), np.nan))


def week_starts(first: pd.Timestamp, last: pd.Timestamp, count: int = 3) -> list[pd.Timestamp]:
    """Midnights that begin `count` weeks spread evenly from `first` to `last`.

    The first week starts on the day of `first` and the last ends by `last`; a span shorter
    than `count` weeks gives fewer, and one shorter than a week gives the one week at its
    start.
    """
    start = first.normalize()
    spare_days = (last - start - WEEK) // pd.Timedelta(days=1)
    count = min(count, spare_days // 7 + 1)
    if spare_days <= 0 or count <= 1:
        return [start]
    days = sorted({round(i * spare_days / (count - 1)) for i in range(count)})
    return [start + pd.Timedelta(days=d) for d in days]


def hourly_week(forecast: Forecasts, start: pd.Timestamp) -> pd.DataFrame:
    """The week from `start`, step by step: times without an observed target are NaN, so
    that a line drawn through them breaks instead of bridging the gap."""
    frame = pd.DataFrame(
        {
            "observed": forecast.observed,
            "model": forecast.model,
            "persistence": forecast.persistence,
        },
        index=forecast.times,
    )
    times = pd.date_range(start, start + WEEK, freq=forecast.step, inclusive="left")
    return frame.reindex(times)


def _rmse(error: np.ndarray) -> float:
    return math.sqrt(float(np.mean(error**2))) if len(error) else math.nan
