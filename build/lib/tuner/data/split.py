"""Hourly frame -> chronological train | validation | test boundaries."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tuner.errors import TunerError

DEFAULT_FRACTIONS = (0.70, 0.15)  # train, validation; the rest is test


@dataclass(frozen=True)
class Split:
    """Rows before `val_start` train, rows before `test_start` validate, the rest test."""

    val_start: pd.Timestamp
    test_start: pd.Timestamp

    def positions(self, index: pd.DatetimeIndex) -> tuple[int, int]:
        """Row numbers where validation and test begin in `index`."""
        return (
            int(index.searchsorted(self.val_start)),
            int(index.searchsorted(self.test_start)),
        )


def chronological_split(
    index: pd.DatetimeIndex,
    *,
    val_start: str | None = None,
    test_start: str | None = None,
    source: str = "data",
) -> Split:
    """Dates when given, else 70/15/15 of the hours; every part must hold rows."""
    n = len(index)
    train_share, val_share = DEFAULT_FRACTIONS
    val = _date(val_start, "--val-start") if val_start else index[int(n * train_share)]
    test = (
        _date(test_start, "--test-start")
        if test_start
        else index[min(n - 1, int(n * (train_share + val_share)))]
    )
    if not val < test:
        raise TunerError(f"{source}: validation start {val} is not before test start {test}")
    split = Split(val_start=val, test_start=test)
    v, t = split.positions(index)
    if v == 0 or t == v or t == n:
        raise TunerError(
            f"{source}: too few rows for the split: {v} train, {t - v} validation, "
            f"{n - t} test hours ({index[0]} to {index[-1]})"
        )
    return split


def _date(text: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text)
    except ValueError as e:
        raise TunerError(f"{option}: not a date: {text!r}") from e
