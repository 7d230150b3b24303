"""The naive forecasts every model is read against, and the RMSE all of them are scored by.

Persistence: every step ahead is the value at the origin. Seasonal naive: each step is the
value one cycle (`grid.season`) before it, or whole cycles before it when one cycle back is
still ahead of the origin. Both read the target as the model's inputs do (filled from the
past), at or before the origin only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def persistence(y: np.ndarray, origins: np.ndarray, steps: Sequence[int]) -> np.ndarray:
    """(n, len(steps)): the value at each origin, for every step."""
    return np.repeat(y[origins][:, None], len(steps), axis=1)


def seasonal(
    y: np.ndarray, origins: np.ndarray, steps: Sequence[int], season: int
) -> np.ndarray | None:
    """(n, len(steps)): the value whole cycles of `season` rows before each target; None
    when an origin has less than a cycle of past."""
    steps = np.asarray(steps, dtype="int64")
    back = season * -(-steps // season)  # the fewest whole cycles reaching the origin
    rows = origins[:, None] + steps[None, :] - back[None, :]
    if len(rows) and rows.min() < 0:
        return None
    return y[rows]


def rmse(forecast: np.ndarray, observed: np.ndarray) -> float:
    """Over every origin and step."""
    error = np.asarray(forecast, "float64") - np.asarray(observed, "float64")
    return float(np.sqrt(np.mean(error**2)))


def rmse_by_step(forecast: np.ndarray, observed: np.ndarray) -> tuple[float, ...]:
    """One RMSE per step (column), over every origin."""
    error = np.asarray(forecast, "float64") - np.asarray(observed, "float64")
    return tuple(float(v) for v in np.sqrt(np.mean(error**2, axis=0)))
