"""A `DataSpec` -> the scaled series and its split, with windows cached per seq_len.

This is where the data path is assembled: load, hourly frame, chronological
split, training-only statistics, windows. While searching, the rows of the test split are
dropped before anything is computed; only export asks for them.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from tuner.data.hourly import to_hourly
from tuner.data.load import load_csv
from tuner.data.preprocessing import Preprocessing, encode, fit_preprocessing
from tuner.data.sources import DataSpec
from tuner.data.split import Split, chronological_split
from tuner.data.windows import Windows, make_windows, target_rows
from tuner.errors import TunerError

# "train_val" is training and validation together, for a model refitted on both.
Part = Literal["train", "val", "test", "train_val"]


class PreparedData:
    """One process's copy of the scaled series; `windows()` builds each seq_len once."""

    def __init__(
        self, spec: DataSpec, frame: pd.DataFrame, split: Split, prep: Preprocessing
    ) -> None:
        self.spec, self.split, self.prep = spec, split, prep
        self.index = pd.DatetimeIndex(frame.index)
        offset, scale = prep.feature_offset_scale()
        self.raw = encode(frame, prep, source=spec.path)
        self.x = ((self.raw - offset) / scale).astype("float32")
        self.y = self.x[:, 0]  # the target's own (filled, scaled) past is feature 0
        self.known = frame[spec.target].notna().to_numpy()
        self.target_mean = prep.mean[spec.target]
        self.target_std = prep.std[spec.target]
        val, test = split.positions(self.index)
        self._bounds: dict[Part, tuple[int, int]] = {
            "train": (0, val),
            "val": (val, test),
            "test": (test, len(self.index)),
            "train_val": (0, test),
        }
        self._cache: dict[tuple[Part, int], Windows] = {}

    @property
    def n_features(self) -> int:
        return self.x.shape[1]

    def windows(self, part: Part, seq_len: int) -> Windows:
        key = (part, seq_len)
        if key not in self._cache:
            start, stop = self._bounds[part]
            rows = target_rows(self.known, start, stop, seq_len=seq_len, horizon=self.spec.horizon)
            self._cache[key] = make_windows(
                self.x, self.y, rows, seq_len=seq_len, horizon=self.spec.horizon
            )
        return self._cache[key]

    def raw_windows(self, part: Part, seq_len: int) -> Windows:
        """Windows of raw feature values, as the exported model takes them (not cached)."""
        rows = self.windows(part, seq_len).rows
        return make_windows(self.raw, self.y, rows, seq_len=seq_len, horizon=self.spec.horizon)

    def to_target_units(self, scaled: np.ndarray) -> np.ndarray:
        return np.asarray(scaled, "float64") * self.target_std + self.target_mean

    def check_enough_rows(self, seq_len: int) -> None:
        for part in ("train", "val"):
            if len(self.windows(part, seq_len)) == 0:
                start, stop = self._bounds[part]
                raise TunerError(
                    f"{self.spec.path}: too few rows: the {part} split ({stop - start} hours) "
                    f"has no window for seq_len {seq_len} and horizon {self.spec.horizon}"
                )

    def bounds(self, part: Part) -> tuple[int, int]:
        """Row numbers [start, stop) of the part; without `with_test` the test part is empty."""
        return self._bounds[part]

    def scored_rows(self, part: Part) -> np.ndarray:
        """Every observed target row of the part: what persistence, and any baseline, score."""
        start, stop = self._bounds[part]
        return target_rows(self.known, start, stop, seq_len=1, horizon=self.spec.horizon)

    def persistence_rmse(self, part: Part) -> float:
        """The value `horizon` hours earlier as the forecast, scored on observed targets."""
        rows = self.scored_rows(part)
        horizon = self.spec.horizon
        error = (self.y[rows - horizon] - self.y[rows]).astype("float64")
        return math.sqrt(float(np.mean(error**2))) * self.target_std


def prepare(spec: DataSpec, *, with_test: bool = False) -> PreparedData:
    """Build the prepared data; without `with_test` the test rows are never used."""
    frame = to_hourly(
        load_csv(spec.path, target=spec.target, time_col=spec.time_col), source=spec.path
    )
    split = chronological_split(
        frame.index, val_start=spec.val_start, test_start=spec.test_start, source=spec.path
    )
    if not with_test:
        frame = frame[frame.index < split.test_start]
    prep = fit_preprocessing(frame[frame.index < split.val_start], spec.target)
    return PreparedData(spec, frame, split, prep)
