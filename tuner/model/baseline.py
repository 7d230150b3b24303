"""Gradient boosting on lag features: a strong baseline beside persistence.

Persistence says how much a model beats doing nothing; this says how much it beats a
well-made classical forecaster on the same origins, so that a search's gain is judged against
something that costs minutes at most, not hours. For each step s ahead, LightGBM predicts
the change `y[t+s] - y[t]` from features of the origin t that read only the past (lags,
differences and rolling statistics of the target; the other inputs and their differences;
the categories and calendar terms `encode` already made), and is scored on exactly the
origins and steps the naive forecasts are scored on.

Direct, one booster per step rather than one booster with the step as an input: on Beijing's
24 steps it is the more accurate overall and by far at the nearest steps (where a shared
booster blurs the step that matters most), costs about the same CPU, holds a fraction of the
memory (no copy of the rows per step), can fit its steps on several cores at once with the
same boosters as on one, and a single step is exactly the booster of one horizon.

Fitting reads the training origins and, for early stopping, the validation origins; the test
rows are not even in the arrays it is given.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Literal

import lightgbm as lgb
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tuner.data import naive
from tuner.data.prepared import PreparedData
from tuner.data.preprocessing import Preprocessing
from tuner.errors import TunerError

LAGS = 24  # the target at t, t-1, ..., t-23
TARGET_DIFFS = (1, 2, 3, 6, 12, 24)
ROLLING = (3, 6, 12, 24, 48)
INPUT_DIFFS = (1, 2, 3, 6)
HISTORY = max(LAGS, *TARGET_DIFFS, *ROLLING)  # rows a training origin's features need

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
    for rows in ROLLING:
        names += [f"{target}_{stat}_{rows}" for stat in ("mean", "max", "std")]
    for name in others:
        names += [name] + [f"{name}[t]-{name}[t-{k}]" for k in INPUT_DIFFS]
    names += list(prep.features[len(prep.numeric) :])  # one-hot and cyclic, as they are
    return tuple(names)


def lag_features(raw: np.ndarray, n_numeric: int) -> np.ndarray:
    """Features of every row t from rows 0..t of `raw` alone; NaN where history is short.

    `raw` is `PreparedData.raw`: column 0 the target, then the other numeric inputs
    (`n_numeric` in all, the target included), then one-hot and cyclic columns.
    """
    raw = np.asarray(raw, dtype="float64")
    y = raw[:, 0]
    columns = [_lagged(y, k) for k in range(LAGS)]
    columns += [y - _lagged(y, k) for k in TARGET_DIFFS]
    for rows in ROLLING:
        window = _trailing(y, rows)
        columns += [window.mean(axis=1), window.max(axis=1), window.std(axis=1)]
    for j in range(1, n_numeric):
        x = raw[:, j]
        columns += [x] + [x - _lagged(x, k) for k in INPUT_DIFFS]
    columns += list(raw[:, n_numeric:].T)
    return np.stack(columns, axis=1)


def _lagged(x: np.ndarray, k: int) -> np.ndarray:
    """x[t - k] at t; NaN for the first k rows."""
    out = np.full_like(x, np.nan)
    out[k:] = x[: len(x) - k]
    return out


def _trailing(x: np.ndarray, rows: int) -> np.ndarray:
    """Row t holds x[t - rows + 1 .. t]; a window reaching before the start is all NaN."""
    padded = np.concatenate([np.full(rows - 1, np.nan), x])
    return sliding_window_view(padded, rows)


@dataclass(frozen=True)
class Baseline:
    """One fitted booster per step ahead and the data they were fitted on, to score them as
    the naive forecasts are scored."""

    boosters: tuple[lgb.Booster, ...]  # in the order of `data.steps`
    best_iterations: tuple[int, ...]
    data: PreparedData

    def predict(self, part: ScoredPart) -> tuple[np.ndarray, np.ndarray]:
        """(origins, forecasts (n, len(steps)) in target units) for the part's scored origins."""
        origins = _scored_origins(self.data, part)
        return origins, self.forecast(origins, stop=self.data.bounds(part)[1])

    def forecast(self, origins: np.ndarray, *, stop: int) -> np.ndarray:
        """(n, len(steps)) forecasts in target units from each origin's past, reading no row
        from `stop` on (every origin must be before it); NaN for an origin with less than
        `HISTORY` rows of past, as no origin it was fitted on had."""
        features = lag_features(self.data.raw[:stop], len(self.data.prep.numeric))[origins]
        change = np.column_stack(
            [
                booster.predict(features, num_iteration=rounds)
                for booster, rounds in zip(self.boosters, self.best_iterations, strict=True)
            ]
        )
        forecast = _target(self.data)[origins][:, None] + change
        return np.where((origins >= HISTORY - 1)[:, None], forecast, np.nan)

    def observed(self, origins: np.ndarray) -> np.ndarray:
        """(n, len(steps)): the target at each step ahead of each origin, in its units."""
        return _target(self.data)[origins[:, None] + np.asarray(self.data.steps)[None, :]]

    def rmse(self, part: ScoredPart) -> float:
        """RMSE in target units over every step of the origins the naive forecasts score."""
        origins, forecast = self.predict(part)
        return naive.rmse(forecast, self.observed(origins))

    def rmse_by_step(self, part: ScoredPart) -> tuple[float, ...]:
        """One RMSE per step ahead, over the same origins as `rmse`."""
        origins, forecast = self.predict(part)
        return naive.rmse_by_step(forecast, self.observed(origins))


def fit_baseline(data: PreparedData, *, seed: int = 0, threads: int = 1) -> Baseline:
    """Fit on the training origins, stopping early on the validation origins; test is never
    read. `threads` boosters are fitted at once, each on one core: the same models either way.

    Training origins are those whose targets were all observed and that have `HISTORY` rows
    of past for their features; each step's Huber alpha is the standard deviation of its
    training changes, so that "an outlier" means the same on any target, unit and step.
    """
    start, stop = data.bounds("train")
    origins = data.scored_origins("train")
    origins = origins[origins >= HISTORY - 1]
    if len(origins) == 0:
        raise TunerError(
            f"{data.spec.path}: too few rows: the train split ({stop - start} rows) has no "
            f"observed target with {HISTORY} rows of history at horizon {data.spec.horizon}"
        )
    val_origins = _scored_origins(data, "val")
    # The features of every row before the test part, and nothing after it.
    features = lag_features(data.raw[: data.bounds("val")[1]], len(data.prep.numeric))
    fit = partial(
        _fit_step,
        train=(features[origins], origins),
        val=(features[val_origins], val_origins),
        y=_target(data),
        names=[_safe(i, name) for i, name in enumerate(feature_names(data.prep))],
        seed=seed,
    )
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        boosters = tuple(pool.map(fit, data.steps))
    return Baseline(
        boosters=boosters,
        best_iterations=tuple(booster.best_iteration for booster in boosters),
        data=data,
    )


Rows = tuple[np.ndarray, np.ndarray]  # (features, origins)


def _fit_step(
    step: int, *, train: Rows, val: Rows, y: np.ndarray, names: list[str], seed: int
) -> lgb.Booster:
    """The booster of one step ahead: the change from the origin's value `step` rows on."""

    def dataset(rows: Rows, reference: lgb.Dataset | None = None) -> lgb.Dataset:
        features, origins = rows
        return lgb.Dataset(
            features,
            label=y[origins + step] - y[origins],
            feature_name=names,
            reference=reference,
            free_raw_data=False,
        )

    train_set = dataset(train)
    val_set = dataset(val, reference=train_set)
    alpha = float(np.std(y[train[1] + step] - y[train[1]]))
    params = {**PARAMS, "alpha": alpha if alpha > 0 else 1.0, "seed": seed}
    return lgb.train(
        params,
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[val_set],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )


def _scored_origins(data: PreparedData, part: ScoredPart) -> np.ndarray:
    """The origins the naive forecasts score, or a one-line error when there are none."""
    start, stop = data.bounds(part)
    origins = data.scored_origins(part)
    if len(origins) == 0:
        hint = " (prepared without the test rows)" if part == "test" and start == stop else ""
        raise TunerError(
            f"{data.spec.path}: the {part} split ({stop - start} rows) has no observed "
            f"target to score{hint}"
        )
    return origins


def _target(data: PreparedData) -> np.ndarray:
    """The target in its own units, filled from the past as the features see it."""
    return data.raw[:, 0].astype("float64")


def _safe(i: int, name: str) -> str:
    """A LightGBM feature name: unique, and free of the characters its JSON dump refuses."""
    return f"f{i}_" + re.sub(r"[^0-9A-Za-z_.=+-]", "_", name)
