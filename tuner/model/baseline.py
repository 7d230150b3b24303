"""Gradient boosting on lag features: a strong baseline beside persistence.

Persistence says how much a model beats doing nothing; this says how much it beats a
well-made classical forecaster on the same hours, so that a search's gain is judged against
something that costs seconds, not hours. LightGBM predicts the change `y[t+h] - y[t]` from
features of hour t that read only the past (lags, differences and rolling statistics of the
target; the other inputs and their differences; the categories and calendar terms `encode`
already made), and is scored on exactly the rows persistence is scored on.

Fitting reads the training rows and, for early stopping, the validation rows; the test rows
are not even in the arrays it is given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import lightgbm as lgb
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tuner.data.prepared import PreparedData
from tuner.data.preprocessing import Preprocessing
from tuner.errors import TunerError

LAGS = 24  # the target at t, t-1, ..., t-23
TARGET_DIFFS = (1, 2, 3, 6, 12, 24)
ROLLING = (3, 6, 12, 24, 48)
INPUT_DIFFS = (1, 2, 3, 6)
HISTORY = max(LAGS, *TARGET_DIFFS, *ROLLING)  # hours a training row's features need

PARAMS = {
    "objective": "huber",  # robust to pm2.5's bursts; alpha is set from the data
    "metric": "rmse",  # early stopping on what is scored (docs/design.md, "Invariants")
    "learning_rate": 0.03,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "num_threads": 1,  # one core per process, as a trial runs
    "deterministic": True,
    "force_col_wise": True,  # a fixed histogram layout: the same model on every run
    "verbosity": -1,
}
# What fitting may raise on data it cannot serve (too few rows for its features, a
# validation part without an observed target, a matrix too large for memory): the caller
# goes on without the baseline, which the search does not need.
FIT_ERRORS = (TunerError, lgb.basic.LightGBMError, ValueError, MemoryError)
MAX_ROUNDS = 5000
EARLY_STOPPING_ROUNDS = 100

ScoredPart = Literal["val", "test"]


def feature_names(prep: Preprocessing) -> tuple[str, ...]:
    """The columns of `lag_features`, in order, named after `prep.features`."""
    target, others = prep.numeric[0], prep.numeric[1:]
    names = [f"{target}[t-{k}]" for k in range(LAGS)]
    names += [f"{target}[t]-{target}[t-{k}]" for k in TARGET_DIFFS]
    for hours in ROLLING:
        names += [f"{target}_{stat}_{hours}h" for stat in ("mean", "max", "std")]
    for name in others:
        names += [name] + [f"{name}[t]-{name}[t-{k}]" for k in INPUT_DIFFS]
    names += list(prep.features[len(prep.numeric) :])  # one-hot and cyclic, as they are
    return tuple(names)


def lag_features(raw: np.ndarray, n_numeric: int) -> np.ndarray:
    """Features of every hour t from rows 0..t of `raw` alone; NaN where history is short.

    `raw` is `PreparedData.raw`: column 0 the target, then the other numeric inputs
    (`n_numeric` in all, the target included), then one-hot and cyclic columns.
    """
    raw = np.asarray(raw, dtype="float64")
    y = raw[:, 0]
    columns = [_lagged(y, k) for k in range(LAGS)]
    columns += [y - _lagged(y, k) for k in TARGET_DIFFS]
    for hours in ROLLING:
        window = _trailing(y, hours)
        columns += [window.mean(axis=1), window.max(axis=1), window.std(axis=1)]
    for j in range(1, n_numeric):
        x = raw[:, j]
        columns += [x] + [x - _lagged(x, k) for k in INPUT_DIFFS]
    columns += list(raw[:, n_numeric:].T)
    return np.stack(columns, axis=1)


def _lagged(x: np.ndarray, k: int) -> np.ndarray:
    """x[t - k] at t; NaN for the first k hours."""
    out = np.full_like(x, np.nan)
    out[k:] = x[: len(x) - k]
    return out


def _trailing(x: np.ndarray, hours: int) -> np.ndarray:
    """Row t holds x[t - hours + 1 .. t]; a window reaching before the start is all NaN."""
    padded = np.concatenate([np.full(hours - 1, np.nan), x])
    return sliding_window_view(padded, hours)


@dataclass(frozen=True)
class Baseline:
    """A fitted booster and the data it was fitted on, to score it as persistence is scored."""

    booster: lgb.Booster
    best_iteration: int
    data: PreparedData

    def predict(self, part: ScoredPart) -> tuple[np.ndarray, np.ndarray]:
        """(rows, forecasts in target units) for the part's observed target rows."""
        rows = _scored_rows(self.data, part)
        return rows, self.forecast(rows, stop=self.data.bounds(part)[1])

    def forecast(self, rows: np.ndarray, *, stop: int) -> np.ndarray:
        """Forecasts in target units of `rows`, each from the hours before it, reading no
        row from `stop` on (every row must be before it); NaN for a row whose hour of
        origin has less than `HISTORY` hours of past, as no row it was fitted on had."""
        origins = rows - self.data.spec.horizon
        features = lag_features(self.data.raw[:stop], len(self.data.prep.numeric))[origins]
        change = self.booster.predict(features, num_iteration=self.best_iteration)
        forecast = _target(self.data)[origins] + change
        return np.where(origins >= HISTORY - 1, forecast, np.nan)

    def rmse(self, part: ScoredPart) -> float:
        """RMSE in target units on the rows `PreparedData.persistence_rmse(part)` scores."""
        rows, forecast = self.predict(part)
        error = forecast - _target(self.data)[rows]
        return math.sqrt(float(np.mean(error**2)))


def fit_baseline(data: PreparedData, *, seed: int = 0) -> Baseline:
    """Fit on the training rows, stopping early on the validation rows; test is never read.

    Training rows are those whose target was observed and whose origin hour has `HISTORY`
    hours of past for its features; the Huber loss's alpha is the training changes' standard
    deviation, so that "an outlier" means the same on any target and unit.
    """
    horizon = data.spec.horizon
    start, stop = data.bounds("train")
    rows = data.scored_origins("train") + horizon
    rows = rows[rows - horizon >= HISTORY - 1]
    if len(rows) == 0:
        raise TunerError(
            f"{data.spec.path}: too few rows: the train split ({stop - start} hours) has no "
            f"observed target with {HISTORY} hours of history at horizon {horizon}"
        )
    val_rows = _scored_rows(data, "val")
    y = _target(data)
    # The features of every hour before the test part, and nothing after it.
    features = lag_features(data.raw[: data.bounds("val")[1]], len(data.prep.numeric))
    names = [_safe(i, name) for i, name in enumerate(feature_names(data.prep))]

    def dataset(rows: np.ndarray, reference: lgb.Dataset | None = None) -> lgb.Dataset:
        origins = rows - horizon
        return lgb.Dataset(
            features[origins],
            label=y[rows] - y[origins],
            feature_name=names,
            reference=reference,
            free_raw_data=False,
        )

    train = dataset(rows)
    val = dataset(val_rows, reference=train)
    alpha = float(np.std(y[rows] - y[rows - horizon]))
    params = {**PARAMS, "alpha": alpha if alpha > 0 else 1.0, "seed": seed}
    booster = lgb.train(
        params,
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[val],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    return Baseline(booster=booster, best_iteration=booster.best_iteration, data=data)


def _scored_rows(data: PreparedData, part: ScoredPart) -> np.ndarray:
    """The rows persistence scores, or a one-line error when there are none."""
    start, stop = data.bounds(part)
    rows = data.scored_origins(part) + data.spec.horizon
    if len(rows) == 0:
        hint = " (prepared without the test rows)" if part == "test" and start == stop else ""
        raise TunerError(
            f"{data.spec.path}: the {part} split ({stop - start} hours) has no observed "
            f"target to score{hint}"
        )
    return rows


def _target(data: PreparedData) -> np.ndarray:
    """The target in its own units, filled from the past as the features see it."""
    return data.raw[:, 0].astype("float64")


def _safe(i: int, name: str) -> str:
    """A LightGBM feature name: unique, and free of the characters its JSON dump refuses."""
    return f"f{i}_" + re.sub(r"[^0-9A-Za-z_.=+-]", "_", name)
