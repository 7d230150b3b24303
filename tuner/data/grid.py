"""Time-indexed rows -> a regular frame at the series' step.

The step is the usual gap between rows, or `--freq` when given; both must fit every
timestamp. Gap policy: every step between the first and the last row is present; steps
missing from the file become rows of missing values, filled later from the past (inputs)
and never used as targets. A file that is mostly gaps, or whose step cannot be told, is
refused instead.
"""

from __future__ import annotations

import pandas as pd

from tuner.errors import TunerError, shown

# A file whose timestamps leave out more steps than this many per row is mostly gaps: a
# mistyped year, say, which would otherwise become millions of rows of nothing.
MAX_STEPS_PER_ROW = 10
# The usual gap must be at least this share of all gaps for the series to have a step.
MIN_USUAL_SHARE = 0.5
HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
WEEK = pd.Timedelta(days=7)


def parse_freq(freq: str) -> pd.Timedelta:
    """`--freq`, a pandas offset alias of fixed length (`15min`, `h`, `D`), as a step."""
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError):
        raise TunerError(
            f"--freq: {shown(freq)} is not a fixed step (e.g. 15min, h, D, 7D)"
        ) from None
    if step <= pd.Timedelta(0):
        raise TunerError(f"--freq: {shown(freq)} is not a positive step")
    return step


def freq_alias(step: pd.Timedelta) -> str:
    """The pandas alias of `step` (`15min`, `h`, `D`), as a bundle records it."""
    for alias, unit in (("D", DAY), ("h", HOUR), ("min", pd.Timedelta(minutes=1))):
        if step % unit == pd.Timedelta(0):
            count = int(step / unit)
            return alias if count == 1 else f"{count}{alias}"
    return pd.tseries.frequencies.to_offset(step).freqstr


def series_step(
    index: pd.DatetimeIndex,
    *,
    freq: str | None = None,
    source: str = "data",
    given_by: str = "--freq",
) -> pd.Timedelta:
    """The step of a sorted, duplicate-free index: `freq` if given, else its usual gap.

    Every timestamp must lie on the grid of that step from the first one, and the closest
    rows must be one step apart. Without `freq` the step is the usual gap, which must be at
    least half of all gaps (a series of mixed steps has none); `freq` vouches for a series
    too gappy for that. `given_by` names who gave `freq` (the user's flag, a bundle) in
    the refusals.
    """
    if len(index) < 2:
        raise TunerError(f"{source}: {len(index)} row(s): the step between rows cannot be told")
    gaps = pd.Series(index[1:] - index[:-1]).value_counts()
    usual = pd.Timedelta(gaps.index[0])
    if freq is None and gaps.iloc[0] < MIN_USUAL_SHARE * gaps.sum():
        commonest = ", ".join(
            f"{duration(pd.Timedelta(gap))} ({count / gaps.sum():.0%})"
            for gap, count in gaps.iloc[:3].items()
        )
        raise TunerError(
            f"{source}: the step between rows cannot be told: the commonest gaps are "
            f"{commonest}; give --freq if the series is regular"
        )
    step = parse_freq(freq) if freq is not None else usual
    closest = pd.Timedelta(gaps.index.min())
    if freq is not None and step != closest:
        raise TunerError(
            f"{source}: {given_by} {freq} contradicts the timestamps: the closest rows are "
            f"{duration(closest)} apart"
        )
    off = (index - index[0]) % step != pd.Timedelta(0)
    if off.any():
        told = f"{given_by} {freq}" if freq is not None else f"the usual step, {duration(usual)},"
        raise TunerError(
            f"{source}: {int(off.sum())} timestamps are off the grid of {told} from "
            f"{index[0]} (first: {index[off][0]})"
        )
    return step


def to_grid(frame: pd.DataFrame, step: pd.Timedelta, *, source: str = "data") -> pd.DataFrame:
    """Every step from the first row to the last, missing ones as rows of missing values."""
    if frame.empty:
        raise TunerError(f"{source}: no rows")
    steps = int((frame.index[-1] - frame.index[0]) / step) + 1
    if steps > MAX_STEPS_PER_ROW * len(frame):
        raise TunerError(
            f"{source}: {len(frame)} rows spread over {steps} steps of {duration(step)} "
            f"({frame.index[0]} to {frame.index[-1]}): more than "
            f"{1 - 1 / MAX_STEPS_PER_ROW:.0%} of them missing; check the timestamps"
        )
    full = pd.date_range(frame.index[0], frame.index[-1], freq=step, name=frame.index.name)
    return frame.reindex(full)


def regular(
    frame: pd.DataFrame, *, freq: str | None = None, source: str = "data", given_by: str = "--freq"
) -> tuple[pd.DataFrame, pd.Timedelta]:
    """`frame` on its regular grid, and the grid's step (`series_step`)."""
    if frame.empty:
        raise TunerError(f"{source}: no rows")
    index = pd.DatetimeIndex(frame.index)
    step = series_step(index, freq=freq, source=source, given_by=given_by)
    return to_grid(frame, step, source=source), step


def season(step: pd.Timedelta) -> int | None:
    """Steps in the series' likely cycle: a day below a day's step, a week below a
    week's; None when the step does not divide it (or is a week or more)."""
    for cycle in (DAY, WEEK):
        if step < cycle:
            return int(cycle / step) if cycle % step == pd.Timedelta(0) else None
    return None


def duration(span: pd.Timedelta) -> str:
    """`span` in words, in its largest whole unit: `15 minutes`, `1 hour`, `7 days`."""
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, rest = divmod(span.total_seconds(), seconds)
        if rest == 0 and count >= 1:
            count = int(count)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return str(span)
