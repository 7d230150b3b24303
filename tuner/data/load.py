"""CSV -> a time-indexed frame: columns, dtypes and timestamps checked, rows sorted by time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tuner.errors import TunerError, shown

CALENDAR_COLUMNS = ("year", "month", "day", "hour")
FLOAT32_MAX = float(np.finfo("float32").max)


def load_csv(
    path: str | Path,
    *,
    target: str | None,
    time_col: str | None = None,
    required: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a CSV into a frame indexed by timestamp, without the time columns.

    `target` must be present and numeric where it is not missing; `None` skips that check
    (prediction data need not carry the target beyond what `required` names).
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, low_memory=False)
    except FileNotFoundError as e:
        raise TunerError(f"{path}: no such file") from e
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise TunerError(f"{path}: cannot read as CSV: {str(e).splitlines()[0]}") from e
    raw.columns = [str(c).strip() for c in raw.columns]

    needed = ([target] if target is not None else []) + list(required)
    for column in needed:
        if column not in raw.columns:
            has = shown(", ".join(raw.columns), most=200, quoted=False)
            raise TunerError(f"{path}: no column {shown(column)} (has: {has})")
    if target is not None:
        raw[target] = _numeric(raw[target], path, target)

    for column in raw.columns:
        if column != target and not pd.api.types.is_numeric_dtype(raw[column]):
            _refuse_mostly_numeric(raw[column], path, column)
        if pd.api.types.is_numeric_dtype(raw[column]):
            _refuse_out_of_range(raw[column].to_numpy("float64", na_value=np.nan), path, column)
    times, time_columns = _timestamps(raw, path, time_col)
    if target in time_columns:
        raise TunerError(f"{path}: the target {shown(target)} is a time column")
    frame = raw.drop(columns=list(time_columns))
    frame.index = pd.DatetimeIndex(times, name="time")
    if frame.index.hasnans:
        bad = int(frame.index.isna().sum())
        raise TunerError(f"{path}: {bad} rows have an unreadable timestamp")
    duplicated = frame.index.duplicated()
    if duplicated.any():
        first = frame.index[duplicated][0]
        raise TunerError(f"{path}: {int(duplicated.sum())} duplicate timestamps (first: {first})")
    return frame.sort_index()


def _numeric(column: pd.Series, path: Path, name: str) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        example = column[bad].iloc[0]
        raise TunerError(
            f"{path}: column {shown(name)} has {int(bad.sum())} non-numeric values "
            f"(e.g. {shown(example)})"
        )
    return values.astype("float64")


def _refuse_out_of_range(values: np.ndarray, path: str | Path, column: str) -> None:
    """Infinite values, or values a float32 (what the model reads) would make infinite."""
    infinite = np.isinf(values)
    if infinite.any():
        raise TunerError(
            f"{path}: column {shown(column)} has {int(infinite.sum())} infinite values"
        )
    huge = np.abs(values) > FLOAT32_MAX
    if huge.any():
        raise TunerError(
            f"{path}: column {shown(column)} has {int(huge.sum())} values beyond "
            f"±{FLOAT32_MAX:.1e}, the range of the model's 32-bit numbers"
        )


def _refuse_mostly_numeric(column: pd.Series, path: Path, name: str) -> None:
    """A numeric column with a few stray strings is an error, not a category."""
    known = column.dropna()
    numbers = pd.to_numeric(known, errors="coerce")
    stray = numbers.isna()
    if len(known) and stray.any() and stray.mean() <= 0.1:
        example = known[stray].iloc[0]
        raise TunerError(
            f"{path}: column {shown(name)} has {int(stray.sum())} non-numeric values "
            f"(e.g. {shown(example)})"
        )


def _timestamps(
    raw: pd.DataFrame, path: Path, time_col: str | None
) -> tuple[pd.Series, tuple[str, ...]]:
    if time_col is not None:
        if time_col not in raw.columns:
            raise TunerError(f"{path}: no time column {shown(time_col)}")
        return pd.to_datetime(raw[time_col], errors="coerce"), (time_col,)
    if all(c in raw.columns for c in CALENDAR_COLUMNS):
        return _calendar(raw), CALENDAR_COLUMNS
    raise TunerError(f"{path}: no time columns: need year,month,day,hour or --time-col NAME")


def _calendar(raw: pd.DataFrame) -> pd.Series:
    """Timestamps from year,month,day,hour; NaT where a part is missing or out of range.

    Only rows whose parts are whole numbers in range are assembled: pandas raises, rather
    than giving NaT, on some others (a missing year beside a given hour, say).
    """
    parts = pd.DataFrame({c: pd.to_numeric(raw[c], errors="coerce") for c in CALENDAR_COLUMNS})
    bounds = {"year": (1, 9999), "month": (1, 12), "day": (1, 31), "hour": (0, 23)}
    usable = pd.Series(True, index=raw.index)
    for column, (low, high) in bounds.items():
        values = parts[column]
        usable &= values.between(low, high) & (values % 1 == 0)
    times = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    if usable.any():
        whole = parts[usable].astype("int64")
        times[usable] = pd.to_datetime(whole, errors="coerce").astype("datetime64[us]")
    return times
