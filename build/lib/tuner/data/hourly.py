"""Time-indexed rows -> a regular hourly frame.

Gap policy: every hour between the first and the last row is present; hours missing from
the file become rows of missing values, filled later from the past (inputs) and never
used as targets.
"""

from __future__ import annotations

import pandas as pd

from tuner.errors import TunerError

HOUR = pd.Timedelta(hours=1)


def to_hourly(frame: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
    if frame.empty:
        raise TunerError(f"{source}: no rows")
    off_hour = frame.index != frame.index.floor("h")
    if off_hour.any():
        raise TunerError(
            f"{source}: {int(off_hour.sum())} timestamps are not on the hour "
            f"(first: {frame.index[off_hour][0]}); tuner works on hourly series"
        )
    full = pd.date_range(frame.index[0], frame.index[-1], freq="h", name=frame.index.name)
    return frame.reindex(full)
