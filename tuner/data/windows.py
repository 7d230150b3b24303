"""Scaled series -> (x, y) windows: `seq_len` past steps, from each forecast origin, predict
the target at each of the `steps` ahead of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True)
class Windows:
    x: np.ndarray  # (n, seq_len, n_features) float32
    y: np.ndarray  # (n, len(steps)) float32, the scaled target at each step ahead
    origins: np.ndarray  # (n,) row number of each window's last step: the forecast origin

    def __len__(self) -> int:
        return len(self.origins)


def forecast_origins(
    known: np.ndarray, start: int, stop: int, *, seq_len: int, steps: Sequence[int]
) -> np.ndarray:
    """Origins with a full window behind them whose every target is in [start, stop) and
    was observed.

    A target that was missing in the raw data is never trained on nor scored; an origin
    missing one of its steps is left out whole, so that every step is scored on the same
    origins as every other.
    """
    origins = np.arange(max(start - min(steps), seq_len - 1), max(stop - max(steps), 0))
    keep = np.ones(len(origins), dtype=bool)
    for step in steps:
        keep &= known[origins + step]
    return origins[keep]


def input_windows(x: np.ndarray, origins: np.ndarray, seq_len: int) -> np.ndarray:
    """The `seq_len` rows up to each origin, gathered through a strided view, copied once."""
    view = sliding_window_view(x, seq_len, axis=0)  # (n - seq_len + 1, n_features, seq_len)
    return np.ascontiguousarray(view[origins - seq_len + 1].transpose(0, 2, 1), dtype="float32")


def make_windows(
    x: np.ndarray, y: np.ndarray, origins: np.ndarray, *, seq_len: int, steps: Sequence[int]
) -> Windows:
    """The window up to each origin and its targets `steps` ahead.

    Callers cache the result per seq_len so that no trial or epoch copies the series again.
    """
    targets = y[origins[:, None] + np.asarray(steps, dtype="int64")[None, :]]
    return Windows(
        x=input_windows(x, origins, seq_len), y=targets.astype("float32"), origins=origins
    )


def whole_batches(windows: Windows, batch_size: int) -> Windows:
    """The newest windows that fill whole batches of `batch_size` (views, no copy).

    Under JAX a batch of another shape compiles the train step again, once per trial, which
    can cost more than an epoch of a small model. At most `batch_size - 1` of the
    oldest windows are left out; fewer windows than one batch are kept as they are.
    """
    drop = len(windows) % batch_size if len(windows) >= batch_size else 0
    return Windows(x=windows.x[drop:], y=windows.y[drop:], origins=windows.origins[drop:])
