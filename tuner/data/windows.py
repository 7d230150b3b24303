"""Scaled series -> (x, y) windows: `seq_len` past hours predict the target `horizon` later."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True)
class Windows:
    x: np.ndarray  # (n, seq_len, n_features) float32
    y: np.ndarray  # (n,) float32, scaled target
    rows: np.ndarray  # (n,) row number of each window's target in the series

    def __len__(self) -> int:
        return len(self.rows)


def target_rows(
    known: np.ndarray, start: int, stop: int, *, seq_len: int, horizon: int
) -> np.ndarray:
    """Rows in [start, stop) whose target was observed and which have a full history.

    A target that was missing in the raw data is never trained on nor scored.
    """
    rows = np.arange(max(start, seq_len + horizon - 1), stop)
    return rows[known[rows]]


def make_windows(
    x: np.ndarray, y: np.ndarray, rows: np.ndarray, *, seq_len: int, horizon: int
) -> Windows:
    """Gather the windows ending `horizon` hours before each target row.

    The gather through a strided view copies each window once; callers cache the result per
    seq_len so that no trial or epoch copies the series again.
    """
    view = sliding_window_view(x, seq_len, axis=0)  # (n - seq_len + 1, n_features, seq_len)
    starts = rows - horizon - seq_len + 1
    windows = np.ascontiguousarray(view[starts].transpose(0, 2, 1), dtype="float32")
    return Windows(x=windows, y=y[rows].astype("float32"), rows=rows)


def whole_batches(windows: Windows, batch_size: int) -> Windows:
    """The newest windows that fill whole batches of `batch_size` (views, no copy).

    Under JAX a batch of another shape compiles the train step again, once per trial, which
    can cost more than an epoch of a small model. At most `batch_size - 1` of the
    oldest windows are left out; fewer windows than one batch are kept as they are.
    """
    drop = len(windows) % batch_size if len(windows) >= batch_size else 0
    return Windows(x=windows.x[drop:], y=windows.y[drop:], rows=windows.rows[drop:])
