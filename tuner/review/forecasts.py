"""The exported model on the test split, beside persistence and what was observed.

The windows, the scaling and the persistence forecast are the data path's own
(`PreparedData`), as export scored them, so that the report's test RMSE is the bundle's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tuner.data.prepared import prepare
from tuner.data.sources import DataSpec
from tuner.deploy.metadata import BundleMetadata
from tuner.deploy.predict import load_bundle
from tuner.errors import TunerError

HOURS = 24
WEEK = pd.Timedelta(days=7)


@dataclass(frozen=True)
class Forecasts:
    """One row per test hour whose target was observed: the hour forecast and three values."""

    times: pd.DatetimeIndex
    observed: np.ndarray
    model: np.ndarray
    persistence: np.ndarray

    def rmse(self) -> tuple[float, float]:
        """(model, persistence) over the whole test split."""
        return _rmse(self.model - self.observed), _rmse(self.persistence - self.observed)


def forecast_test(bundle: str | Path, spec: DataSpec) -> tuple[BundleMetadata, Forecasts]:
    """The bundle's forecasts of every observed test hour of the data in `spec`.

    Args:
        bundle: a folder written by `tuner export`.
        spec: the data of the study it was exported from, found again (`relocate`).

    Returns:
        The metadata of the bundle read, and its forecasts.
    """
    meta, model = load_bundle(bundle)
    data = prepare(spec, with_test=True)
    if data.prep.features != meta.features:
        raise TunerError(f"{bundle}: its features are not those of the study's data")
    windows = data.raw_windows("test", meta.seq_len)
    predicted = model.predict(windows.x, batch_size=1024, verbose=0).reshape(-1)
    return meta, Forecasts(
        times=data.index[windows.origins + spec.horizon],
        observed=data.to_target_units(windows.y).reshape(-1),
        model=predicted.astype("float64"),
        persistence=data.to_target_units(data.y[windows.origins]),
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
    """The week from `start`, hour by hour: hours without an observed target are NaN, so
    that a line drawn through them breaks instead of bridging the gap."""
    frame = pd.DataFrame(
        {
            "observed": forecast.observed,
            "model": forecast.model,
            "persistence": forecast.persistence,
        },
        index=forecast.times,
    )
    hours = pd.date_range(start, start + WEEK, freq="h", inclusive="left")
    return frame.reindex(hours)


def _rmse(error: np.ndarray) -> float:
    return math.sqrt(float(np.mean(error**2))) if len(error) else math.nan
