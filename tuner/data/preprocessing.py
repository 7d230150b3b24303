"""Training rows -> `Preprocessing` (features, categories, scaling); `encode` applies it.

Everything here is estimated from the training split alone and is
plain data, so that export can write it as JSON and predict can apply exactly the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tuner.errors import TunerError, shown

CYCLIC_FEATURES = ("hour_sin", "hour_cos", "doy_sin", "doy_cos")


@dataclass(frozen=True)
class Preprocessing:
    target: str
    numeric: tuple[str, ...]  # scaled inputs, the target's own past first
    categories: dict[str, tuple[str, ...]]  # text column -> training vocabulary, one-hot
    mean: dict[str, float]
    std: dict[str, float]

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a CSV must carry, besides its timestamps."""
        return self.numeric + tuple(self.categories)

    @property
    def features(self) -> tuple[str, ...]:
        """Model input order: numeric, one-hot `column=value`, then cyclic time."""
        onehot = tuple(f"{c}={v}" for c, values in self.categories.items() for v in values)
        return self.numeric + onehot + CYCLIC_FEATURES

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
        )


def fit_preprocessing(train: pd.DataFrame, target: str) -> Preprocessing:
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
    return Preprocessing(target, tuple(numeric), categories, mean, std)


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
    parts.append(cyclic_time(pd.DatetimeIndex(frame.index)))
    return np.concatenate(parts, axis=1).astype("float32")


def _fill(columns: pd.DataFrame, source: str) -> pd.DataFrame:
    empty = [c for c in columns.columns if columns[c].isna().all()]
    if empty:
        raise TunerError(f"{source}: column {shown(empty[0])} has no values")
    return columns.ffill().bfill()


def cyclic_time(index: pd.DatetimeIndex) -> np.ndarray:
    hour = 2 * np.pi * index.hour.to_numpy() / 24
    day = 2 * np.pi * (index.day_of_year.to_numpy() - 1) / 365.25
    return np.stack([np.sin(hour), np.cos(hour), np.sin(day), np.cos(day)], axis=1)
