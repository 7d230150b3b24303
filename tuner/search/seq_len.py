"""A built-in space's windows, written in hours, as steps of the series' step.

seq_len counts steps. The built-in spaces' windows are written for hourly series
(lstm_baseline's 6, 12 and 24: a quarter, half and a whole day), so a series of another
step reads them through `for_step`; a user's space is taken as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from tuner.data.grid import DAY, HOUR, WEEK, duration  # HOUR: the built-in spaces' step
from tuner.model.params import MAX_SEQ_LEN
from tuner.search.space import SearchSpace


def for_step(space: SearchSpace, step: pd.Timedelta) -> SearchSpace:
    """A built-in space's windows, written in hours, as steps of a series of `step`.

    seq_len counts steps. Below a day's step the windows keep their durations, rounded to
    whole steps (15 minutes: 6, 12 and 24 hours become 24, 48 and 96 steps). From a day's
    step on, a window of hours means nothing: the weekly cycle is to a daily series what
    the daily one is to an hourly series, so the shortest window becomes one week and the
    others keep their ratio to it in whole weeks (lstm_baseline: 7, 14 and 28 daily
    steps). Each at least one step and at most `MAX_SEQ_LEN`, repeats merged. An hourly
    series, or a user's space (taken as written, in steps), keeps `space` itself.
    """
    if not space.builtin or step == HOUR:
        return space
    spec = space.params["seq_len"]
    if spec.kind == "int":
        low, high = _in_steps((int(spec.low), int(spec.high)), step)
        adapted = replace(spec, low=low, high=high)
    else:
        adapted = replace(spec, choices=tuple(dict.fromkeys(_in_steps(spec.choices, step))))
    return replace(space, params={**space.params, "seq_len": adapted})


def _in_steps(hours: Sequence[int | float], step: pd.Timedelta) -> list[int]:
    if step < DAY:
        spans = [h * HOUR for h in hours]
    else:
        spans = [round(h / min(hours)) * WEEK for h in hours]
    return [min(max(1, round(span / step)), MAX_SEQ_LEN) for span in spans]


def windows_line(before: SearchSpace, after: SearchSpace, step: pd.Timedelta) -> str | None:
    """How `for_step` read a built-in space's windows for this step, in one line; None when
    it kept them."""
    if after is before:
        return None
    hours = ", ".join(str(v) for v in before.params["seq_len"].values())
    steps = ", ".join(str(v) for v in after.params["seq_len"].values())
    how = "the same durations" if step < DAY else "whole weeks, the shortest one week"
    return (
        f"space {before.name}: windows of {hours} hours (written for hourly data) as "
        f"{how}: seq_len {steps} steps of {duration(step)}"
    )
