"""The validation RMSE of each step ahead, beside the baselines', as the note, `tuner best`
and the run's summary show it: which steps, worded by the series' step.

A model of several steps forecasts every step from 1 to the horizon (`DataSpec.steps`), so
the i-th value of a list is step i + 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from tuner.data.grid import duration

# The baselines a study records per step (`attrs.BASELINES_VAL_BY_STEP`), in the order and
# words every table shows them.
BASELINES = {
    "persistence": "persistence",
    "seasonal": "seasonal naive",
    "boosting": "gradient boosting",
}
# More steps than this (a day of 15-minute steps) show as an even selection, first and last
# included; `tuner best --json` has them all.
MOST_ROWS = 24


def ahead(step: pd.Timedelta, steps: int) -> str:
    """`steps` of `step` in words: "15 minutes", "1 hour", "2 days"."""
    return duration(step * steps)


def shown(count: int, most: int = MOST_ROWS) -> list[int]:
    """Which of `count` steps a table shows (from 0): all of at most `most`, else every
    k-th from the first, and the last."""
    if count <= most:
        return list(range(count))
    every = -(-(count - 1) // (most - 1))
    picked = list(range(0, count, every))
    return picked if picked[-1] == count - 1 else [*picked, count - 1]


def table(
    model: Sequence[float],
    baselines: Mapping[str, Sequence[float]],
    step: pd.Timedelta,
    *,
    model_name: str = "model",
) -> list[list[str]]:
    """The header, then a row per shown step: the step, how far ahead, the model's RMSE and
    each baseline's that covers every step (in `BASELINES` order)."""
    names = [n for n in BASELINES if len(baselines.get(n, ())) == len(model)]
    header = ["step", "ahead", model_name, *(BASELINES[n] for n in names)]
    rows = [
        [
            str(i + 1),
            ahead(step, i + 1),
            f"{model[i]:.3f}",
            *(f"{baselines[n][i]:.3f}" for n in names),
        ]
        for i in shown(len(model))
    ]
    return [header, *rows]


def aligned(rows: list[list[str]]) -> list[str]:
    """A table as lines of text, columns right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]


def markdown(rows: list[list[str]]) -> list[str]:
    """A table as Markdown lines (the dashboard's notes)."""
    header, *body = rows
    lines = [f"| {' | '.join(header)} |", "|" + "---:|" * len(header)]
    return lines + [f"| {' | '.join(row)} |" for row in body]


def omitted(count: int) -> str | None:
    """What a table that shows a selection says of the rest; None when it shows every step."""
    if len(shown(count)) == count:
        return None
    return f"{len(shown(count))} of {count} steps shown"


def span(values: Sequence[float], step: pd.Timedelta) -> str:
    """The first and last step's RMSE in one phrase: "12.345 at 1 hour to 30.123 at 1 day"."""
    return f"{values[0]:.3f} at {ahead(step, 1)} to {values[-1]:.3f} at {ahead(step, len(values))}"
