"""A `DataSpec` -> the scaled series and its split, with windows cached per seq_len.

This is where the data path is assembled: load, the regular grid, chronological split,
training-only statistics, windows. While searching, the rows of the test split are
dropped before anything is computed; only export asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from tuner.data import naive
from tuner.data.grid import duration, regular, season
from tuner.data.load import load_csv
from tuner.data.preprocessing import Preprocessing, encode, fit_preprocessing
from tuner.data.sources import DataSpec
from tuner.data.split import Split, chronological_split
from tuner.data.windows import Windows, forecast_origins, make_windows
from tuner.errors import TunerError

# "train_val" is training and validation together, for a model refitted on both.
Part = Literal["train", "val", "test", "train_val"]


@dataclass(frozen=True)
class TargetScales:
    """How far the standardised target moves in the training part: the units in which a
    network that predicts the change reads the target's last moves and writes its forecast.

    On a smooth series (an hourly pressure or temperature) a move is a tenth of the level's
    spread or less; read and written on the level's scale it is lost among the inputs and
    the output's first steps (docs/design.md, "The change, in its own units").
    """

    difference: float  # of the change from one row to the next
    changes: tuple[float, ...]  # of the change from the origin to each step ahead


def target_scales(y: np.ndarray, origins: np.ndarray, steps: tuple[int, ...]) -> TargetScales:
    """`TargetScales` of the scaled target `y` (training rows only) at scored `origins`."""
    ahead = y[origins[:, None] + np.asarray(steps)[None, :]] - y[origins][:, None]
    return TargetScales(
        difference=_spread(np.diff(y)),
        changes=tuple(_spread(ahead[:, i]) for i in range(len(steps))),
    )


def _spread(values: np.ndarray) -> float:
    """The standard deviation, or 1 where it is not a positive finite number (a unit)."""
    value = float(np.std(values, dtype="float64")) if len(values) else 0.0
    return value if np.isfinite(value) and value > 0 else 1.0


class PreparedData:
    """One process's copy of the scaled series; `windows()` builds each seq_len once."""

    def __init__(
        self,
        spec: DataSpec,
        frame: pd.DataFrame,
        split: Split,
        prep: Preprocessing,
        step: pd.Timedelta,
    ) -> None:
        self.spec, self.split, self.prep, self.step = spec, split, prep, step
        self.steps = spec.steps
        self.season = season(step)
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
            origins = forecast_origins(self.known, start, stop, seq_len=seq_len, steps=self.steps)
            self._cache[key] = make_windows(
                self.x, self.y, origins, seq_len=seq_len, steps=self.steps
            )
        return self._cache[key]

    def raw_windows(self, part: Part, seq_len: int) -> Windows:
        """Windows of raw feature values, as the exported model takes them (not cached)."""
        origins = self.windows(part, seq_len).origins
        return make_windows(self.raw, self.y, origins, seq_len=seq_len, steps=self.steps)

    @cached_property
    def target_scales(self) -> TargetScales:
        """The target's moves in the training part (`TargetScales`)."""
        stop = self._bounds["train"][1]  # the training part starts at row 0
        return target_scales(self.y[:stop], self.scored_origins("train"), self.steps)

    def to_target_units(self, scaled: np.ndarray) -> np.ndarray:
        return np.asarray(scaled, "float64") * self.target_std + self.target_mean

    def check_enough_rows(self, seq_len: int) -> None:
        for part in ("train", "val"):
            if len(self.windows(part, seq_len)) == 0:
                start, stop = self._bounds[part]
                raise TunerError(
                    f"{self.spec.path}: too few rows: the {part} split ({stop - start} rows) "
                    f"has no window for seq_len {seq_len} and horizon {self.spec.horizon}"
                )

    def bounds(self, part: Part) -> tuple[int, int]:
        """Row numbers [start, stop) of the part; without `with_test` the test part is empty."""
        return self._bounds[part]

    def scored_origins(self, part: Part) -> np.ndarray:
        """Every origin of the part whose targets were all observed: what the naive
        forecasts, and any baseline, score (a model's windows cover the same)."""
        start, stop = self._bounds[part]
        return forecast_origins(self.known, start, stop, seq_len=1, steps=self.steps)

    def observed(self, origins: np.ndarray) -> np.ndarray:
        """(n, len(steps)): the target at each step ahead of each origin, in its units."""
        return self.to_target_units(self.y[origins[:, None] + np.asarray(self.steps)[None, :]])

    def naive_forecasts(self, origins: np.ndarray) -> dict[str, np.ndarray]:
        """Persistence and, where the step has a cycle, the seasonal naive forecast, each
        (n, len(steps)) in the target's units."""
        forecasts = {"persistence": naive.persistence(self.y, origins, self.steps)}
        if self.season is not None:
            seasonal = naive.seasonal(self.y, origins, self.steps, self.season)
            if seasonal is not None:
                forecasts["seasonal"] = seasonal
        return {name: self.to_target_units(f) for name, f in forecasts.items()}

    def persistence_rmse(self, part: Part) -> float:
        """The value at the origin as every step's forecast, over the part's scored origins."""
        origins = self.scored_origins(part)
        scaled = naive.persistence(self.y, origins, self.steps)
        targets = self.y[origins[:, None] + np.asarray(self.steps)[None, :]]
        return naive.rmse(scaled, targets) * self.target_std


def prepare(spec: DataSpec, *, with_test: bool = False) -> PreparedData:
    """Build the prepared data; without `with_test` the test rows are never used."""
    frame, step = regular(
        load_csv(spec.path, target=spec.target, time_col=spec.time_col),
        freq=spec.freq,
        source=spec.path,
    )
    split = chronological_split(
        frame.index, val_start=spec.val_start, test_start=spec.test_start, source=spec.path
    )
    _check_horizon(spec, split.positions(frame.index), len(frame), step)
    if not with_test:
        frame = frame[frame.index < split.test_start]
    prep = fit_preprocessing(frame[frame.index < split.val_start], spec.target, step)
    return PreparedData(spec, frame, split, prep, step)


def _check_horizon(
    spec: DataSpec, positions: tuple[int, int], rows: int, step: pd.Timedelta
) -> None:
    """A horizon no longer than the validation or the test split: each must hold a target
    of every step from one origin."""
    val, test = positions
    for part, length in (("validation", test - val), ("test", rows - test)):
        if spec.horizon > length:
            raise TunerError(
                f"{spec.path}: --horizon {spec.horizon} ({duration(spec.horizon * step)}) is "
                f"longer than the {part} split ({length} rows of {duration(step)})"
            )
