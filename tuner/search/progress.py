"""The study's progress as the run's parent shows it: a bar on a terminal, log lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

import pandas as pd
from optuna.trial import FrozenTrial, TrialState
from tqdm import tqdm

from tuner.search import attrs, by_step
from tuner.search.cost import is_costly

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)

# The trials whose length stands for the next ones': the sampler draws near where it has
# just been, and away from the trials it counts as costly.
RECENT = 10


def seconds_per_trial(
    elapsed: float, durations: Sequence[float], costly: Sequence[bool]
) -> float | None:
    """The run's wall seconds per trial to come, from the trials it finished so far.

    Its mean pace (`elapsed` over the trials, which sees the workers' overlap), scaled by
    how long the last `RECENT` trials that are not costly took against all of them: a
    search that settles on larger models slows down as it goes, one that leans towards the
    cheaper of equal configurations (`tuner.search.cost`) speeds up, and its first trials,
    drawn at random, say neither. `durations` and `costly` are in finishing order; None
    before the first trial.
    """
    if not durations:
        return None
    mean_pace = elapsed / len(durations)
    kept = [d for d, c in zip(durations, costly, strict=True) if not c][-RECENT:]
    average = sum(durations) / len(durations)
    if not kept or average <= 0:
        return mean_pace
    return mean_pace * (sum(kept) / len(kept)) / average


def pace(per_trial: float | None, remaining: int) -> str:
    """The log line's time per trial and time left."""
    if per_trial is None:
        return ""
    return f"; {_duration(per_trial)}/trial, {_duration(per_trial * remaining)} left"


class _Bar(tqdm):
    """tqdm, whose time left is `seconds_per_trial`'s, not its own rate's."""

    per_trial: float | None = None

    @property
    def format_dict(self) -> dict:
        shown = super().format_dict
        if self.per_trial:
            shown["rate"] = 1 / self.per_trial
        return shown


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Progress:
    """Counts finished trials of the whole study (all workers), pruned ones, and the best.

    The parent, which runs no trial, polls the study and hands `show` each trial it has not
    shown yet (`workers.run_workers`). Each is counted when it is shown, not read from the
    study's total, so two trials that finish between two looks at the study get two counts,
    not the same one.
    """

    def __init__(
        self,
        total: int,
        *,
        quiet: bool = False,
        stream: TextIO = sys.stderr,
        clock: Callable[[], float] = time.monotonic,
        step: pd.Timedelta = attrs.HOUR,
    ) -> None:
        self._total, self._quiet, self._stream, self._clock = total, quiet, stream, clock
        self._step = step  # the series', to word a trial's steps ahead
        self._finished = self._pruned = 0
        self._best = math.inf
        self._durations: list[float] = []  # this run's finished trials, in finishing order
        self._costly: list[bool] = []
        self._started = clock()
        self._bar: tqdm | None = None

    def start(self, finished: Sequence[FrozenTrial]) -> None:
        """Count the trials a resumed study finished before this run; the clock starts."""
        for trial in finished:
            self._count(trial)
        self._started = self._clock()
        if not self._quiet and self._stream.isatty():
            self._bar = _Bar(
                total=self._total,
                initial=self._finished,
                file=self._stream,
                unit="trial",
                dynamic_ncols=True,
            )

    def show(self, trial: FrozenTrial) -> None:
        self._count(trial)
        self._time(trial)
        if self._quiet:
            return
        best = f"{self._best:.3f}" if self._best < math.inf else "-"
        per_trial = seconds_per_trial(self._clock() - self._started, self._durations, self._costly)
        if self._bar is not None:
            self._bar.per_trial = per_trial
            self._bar.n = self._finished
            self._bar.set_postfix(pruned=self._pruned, best=best, refresh=True)
            return
        state = trial.state.name.lower()
        why = (
            trial.user_attrs.get(attrs.PRUNED_REASON)
            or trial.user_attrs.get(attrs.FAIL_REASON)
            or ""
        )
        value = f" {trial.value:.3f}" if trial.value is not None else ""
        steps = attrs.val_rmse_by_step(trial.user_attrs)
        if steps is not None and len(steps) > 1:
            value += f" ({by_step.span(steps, self._step)} ahead)"
        timing = pace(per_trial, max(self._total - self._finished, 0))
        print(
            f"[{self._finished}/{self._total}] trial {trial.number} {state}{value}"
            f"{f' ({why})' if why else ''} after {trial.user_attrs.get(attrs.EPOCHS, '?')} epochs;"
            f" pruned {self._pruned}, best {best}{timing}",
            file=self._stream,
            flush=True,
        )

    def _count(self, trial: FrozenTrial) -> None:
        if trial.state in FINISHED:
            self._finished += 1
            self._pruned += trial.state == TrialState.PRUNED
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            self._best = min(self._best, trial.value)

    def _time(self, trial: FrozenTrial) -> None:
        """Trials a resumed study finished before the run say nothing about its pace."""
        if trial.state not in FINISHED:
            return
        start, end = trial.datetime_start, trial.datetime_complete
        self._durations.append((end - start).total_seconds() if start and end else 0.0)
        self._costly.append(is_costly(trial))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
