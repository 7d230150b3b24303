"""Checkers of the values a `metadata.json` holds: each returns the value when it has the
type and bounds it must, else raises TypeError or ValueError naming the field.

A bundle may come from anywhere: these run before any value is used.
"""

from __future__ import annotations

import math
from typing import Any

from tuner.data.grid import parse_freq
from tuner.data.preprocessing import CALENDAR_FEATURES
from tuner.errors import TunerError, shown

MAX_FREQ_CHARS = 20  # `15min`, `h`, `D`, `7D`: a longer alias is not one tuner writes


def of(kind: type, value: Any, name: str) -> Any:
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise TypeError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def optional(kind: type, value: Any, name: str) -> Any:
    if value is None:
        return None
    if kind is float:
        return number(value, name)
    return of(kind, value, name)


def list_of(kind: type, value: Any, name: str) -> list[Any]:
    return [of(kind, item, name) for item in of(list, value, name)]


def number(value: Any, name: str) -> float:
    """A JSON number as a finite float; an integer too large for one is refused like NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a finite number, got {type(value).__name__}")
    try:
        as_float = float(value)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float):
        raise ValueError(f"{name}: expected a finite number, got {as_float}")
    return as_float


def bounded_int(value: Any, name: str, most: int) -> int:
    value = of(int, value, name)
    if not 1 <= value <= most:
        raise ValueError(f"{name}: must be between 1 and {most}, got {shown(value)}")
    return value


def numbers(value: Any, name: str, count: int) -> tuple[float, ...]:
    """A list of exactly `count` finite numbers: one per step ahead."""
    values = of(list, value, name)
    if len(values) != count:
        raise ValueError(f"{name}: expected {count} values, one per step, got {len(values)}")
    return tuple(number(v, f"{name}[{i}]") for i, v in enumerate(values))


def freq(value: Any) -> str:
    """A pandas alias of a fixed, positive step, as export records the series' step."""
    alias = of(str, value, "freq")
    if len(alias) > MAX_FREQ_CHARS:
        raise ValueError(f"freq: {shown(alias)} is not a step")
    try:
        parse_freq(alias)
    except TunerError:
        raise ValueError(f"freq: {shown(alias)} is not a fixed step") from None
    return alias


def steps(value: Any, horizon: int) -> tuple[int, ...]:
    """The steps ahead a model forecasts: `[horizon]`, or every step from 1 to it."""
    given = list_of(int, value, "steps")
    if given not in ([horizon], list(range(1, horizon + 1))):
        raise ValueError(
            f"steps: expected [{horizon}] or every step from 1 to {horizon}, got {shown(given)}"
        )
    return tuple(given)


def calendar(value: Any) -> tuple[str, ...]:
    """The calendar terms the model reads, each known and once; hourly in older bundles."""
    terms = list_of(str, value, "preprocessing.calendar")
    unknown = [term for term in terms if term not in CALENDAR_FEATURES]
    if unknown or len(set(terms)) != len(terms):
        raise ValueError(
            f"preprocessing.calendar: {shown(terms)}: each of {', '.join(CALENDAR_FEATURES)} "
            "at most once"
        )
    return tuple(terms)
