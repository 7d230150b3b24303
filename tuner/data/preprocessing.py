"""Training rows -> `Preprocessing` (features, categories, scaling); `encode` applies it.

Everything here is estimated from the training split alone and is
plain data, so that export can write it as JSON and predict can apply exactly the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tuner.data.grid import HOUR
from tuner.errors import TunerError, shown

# Calendar terms, each a sine and a cosine: the time of day, the day of week, the day of year.
CALENDAR_FEATURES = {
    "day": ("hour_sin", "hour_cos"),
    "week": ("dow_sin", "dow_cos"),
    "year": ("doy_sin", "doy_cos"),
}
HOURLY_CALENDAR = ("day", "year")


def calendar_terms(step: pd.Timedelta) -> tuple[str, ...]:
    """The cycles a series of this step can show: the time of day below a day's step; the
    day of week from a day's step up to a week's; the day of year always.

    A series below a day's step keeps the terms hourly series always had, without the day
    of week (docs/options.md, "--freq").
    """
    if step < pd.Timedelta(days=1):
        return HOURLY_CALENDAR
    if step < pd.Timedelta(days=7):
        return ("week", "year")
    return ("year",)


@dataclass(frozen=True)
class Preprocessing:
    target: str
    numeric: tuple[str, ...]  # scaled inputs, the target's own past first
    categories: dict[str, tuple[str, ...]]  # text column -> training vocabulary, one-hot
    mean: dict[str, float]
    std: dict[str, float]
    calendar: tuple[str, ...] = HOURLY_CALENDAR  # keys of CALENDAR_FEATURES

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a CSV must carry, besides its timestamps."""
        return self.numeric + tuple(self.categories)

    @property
    def features(self) -> tuple[str, ...]:
        """Model input order: numeric, one-hot `column=value`, then the calendar terms."""
        onehot = tuple(f"{c}={v}" for c, values in self.categories.items() for v in values)
        cyclic = tuple(name for term in self.calendar for name in CALENDAR_FEATURES[term])
        return self.numeric + onehot + cyclic

    def feature_offset_scale(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature (mean, std); one-hot and cyclic features pass unscaled."""
        offset = np.zeros(len(self.features), dtype="float64")
        scale = np.ones(len(self.features), dtype="float64")
        for i, name in enumerate(self.numeric):
            offset[i], scale[i] = self.mean[name], self.std[name]
        return offset, scale

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessing:
        return cls(
            target=d["target"],
            numeric=tuple(d["numeric"]),
            categories={k: tuple(v) for k, v in d["categories"].items()},
            mean={k: float(v) for k, v in d["mean"].items()},
            std={k: float(v) for k, v in d["std"].items()},
            calendar=tuple(d.get("calendar", HOURLY_CALENDAR)),
        )


def fit_preprocessing(train: pd.DataFrame, target: str, step: pd.Timedelta = HOUR) -> Preprocessing:
    """Choose features and estimate their statistics from the training rows only.

    Numeric columns are inputs (the target included) unless constant or a row counter;
    text columns become one-hot categories seen in training.
    """
    numeric: list[str] = []
    categories: dict[str, tuple[str, ...]] = {}
    for name in train.columns:
        column = train[name]
        known = column.dropna()
        if name != target and (known.nunique() <= 1 or _is_row_counter(known)):
            continue
        if pd.api.types.is_numeric_dtype(column):
            numeric.append(name)
        else:
            categories[name] = tuple(sorted(str(v) for v in known.unique()))
    numeric.sort(key=lambda n: n != target)  # stable: target first, file order after
    stats = train[numeric].astype("float64")
    mean = {n: float(stats[n].mean()) for n in numeric}
    std = {n: float(stats[n].std(ddof=0)) for n in numeric}
    if not np.isfinite(std[target]) or std[target] == 0:
        raise TunerError(f"target {shown(target)} is constant or missing in the training split")
    return Preprocessing(
        target, tuple(numeric), categories, mean, std, calendar=calendar_terms(step)
    )


def _is_row_counter(known: pd.Series) -> bool:
    """A column like `No`: numbers that go up by exactly one from row to row."""
    if not pd.api.types.is_numeric_dtype(known) or len(known) < 3:
        return False
    return bool((known.diff().iloc[1:] == 1).all())


def encode(frame: pd.DataFrame, prep: Preprocessing, *, source: str = "data") -> np.ndarray:
    """Raw rows -> features in raw units, in `prep.features` order, as float32.

    Gaps are filled from the past only (forward fill); a leading gap takes the first known
    value. Categories unseen in training encode as all zeros.
    """
    missing = [c for c in prep.columns if c not in frame.columns]
    if missing:
        raise TunerError(f"{source}: no column {shown(missing[0])} (the model needs it)")
    parts = []
    numeric = frame[list(prep.numeric)].apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & frame[list(prep.numeric)].notna()
    if bad.any().any():
        name = bad.any().idxmax()
        count = int(bad[name].sum())
        raise TunerError(f"{source}: column {shown(name)} has {count} non-numeric values")
    parts.append(_fill(numeric, source).to_numpy("float64"))
    for name, vocabulary in prep.categories.items():
        values = _fill(frame[[name]].astype("string"), source)[name].to_numpy()
        parts.append(
            np.stack([values == v for v in vocabulary], axis=1).astype("float64")
            if vocabulary
            else np.zeros((len(frame), 0))
        )
    parts.append(cyclic_time(pd.DatetimeIndex(frame.index), prep.calendar))
    return np.concatenate(parts, axis=1).astype("float32")


def _fill(columns: pd.DataFrame, source: str) -> pd.DataFrame:
    empty = [c for c in columns.columns if columns[c].isna().all()]
    if empty:
        raise TunerError(f"{source}: column {shown(empty[0])} has no values")
    return columns.ffill().bfill()


def cyclic_time(index: pd.DatetimeIndex, calendar: tuple[str, ...]) -> np.ndarray:
    """A sine and a cosine of each calendar term's phase, in `calendar`'s order."""
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60 + index.second.to_numpy() / 3600
    phases = {
        "day": 2 * np.pi * hours / 24,
        "week": 2 * np.pi * index.day_of_week.to_numpy() / 7,
        "year": 2 * np.pi * (index.day_of_year.to_numpy() - 1) / 365.25,
    }
    columns = [f(phases[term]) for term in calendar for f in (np.sin, np.cos)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(index), 0))
