"""Time-indexed rows -> a regular hourly frame.

Gap policy: every hour between the first and the last row is present; hours missing from
the file become rows of missing values, filled later from the past (inputs) and never
used as targets. A file that is mostly gaps is refused instead.
"""

from __future__ import annotations

import pandas as pd

from tuner.errors import TunerError

HOUR = pd.Timedelta(hours=1)
# A file whose timestamps leave more hours out than this many per row is mostly gaps: a
# mistyped year, say, which would otherwise become millions of rows of nothing.
MAX_HOURS_PER_ROW = 10


def to_hourly(frame: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
    if frame.empty:
        raise TunerError(f"{source}: no rows")
    off_hour = frame.index != frame.index.floor("h")
    if off_hour.any():
        raise TunerError(
            f"{source}: {int(off_hour.sum())} timestamps are not on the hour "
            f"(first: {frame.index[off_hour][0]}); tuner works on hourly series"
        )
    hours = int((frame.index[-1] - frame.index[0]) / HOUR) + 1
    if hours > MAX_HOURS_PER_ROW * len(frame):
        raise TunerError(
            f"{source}: {len(frame)} rows spread over {hours} hours ({frame.index[0]} to "
            f"{frame.index[-1]}): more than {1 - 1 / MAX_HOURS_PER_ROW:.0%} of the hours "
            "missing; check the timestamps"
        )
    full = pd.date_range(frame.index[0], frame.index[-1], freq="h", name=frame.index.name)
    return frame.reindex(full)
