"""What a bundle forecasts, in words: spans of steps said in the step's own unit.

Every sentence that says how far ahead or how far back a model looks is built here, from
`tuner.data.grid.duration`, so the card, the export's line, predict and the report agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tuner.data.grid import duration


def span(n: int, step: pd.Timedelta | None) -> str:
    """`n` steps in words: in the step's unit when the step is one of it (`24 hours`,
    `7 days`), else the whole span in its largest unit (`2 hours` for 8 of 15 minutes);
    `n step(s)` when the step is not known."""
    if step is None:
        return f"{n} step{'s' if n != 1 else ''}"
    count, unit = _count_unit(duration(step))
    if count == 1:
        return f"{n} {unit}{'s' if n != 1 else ''}"
    return duration(n * step)


def reach(steps: Sequence[int], step: pd.Timedelta | None) -> str:
    """How far ahead `steps` are: `1 hour ahead`, or `every step from 1 to 24 hours ahead`."""
    steps = list(steps)
    if len(steps) == 1:
        return f"{span(steps[0], step)} ahead"
    first, last = span(steps[0], step), span(steps[-1], step)
    first_count, first_unit = _count_unit(first)
    if first_unit.rstrip("s") == _count_unit(last)[1].rstrip("s"):
        first = str(first_count)
    return f"every step from {first} to {last} ahead"


def _count_unit(words: str) -> tuple[int, str]:
    count, _, unit = words.partition(" ")
    return (int(count), unit) if count.isdigit() else (0, words)
