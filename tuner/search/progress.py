"""The study's progress as the run's parent shows it: a bar on a terminal, log lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from optuna.trial import FrozenTrial, TrialState
from tqdm import tqdm

from tuner.search import attrs

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def pace(done: int, remaining: int, seconds: float) -> str:
    """This run's time per trial and the time left, from the trials this run finished.

    Trials a resumed study finished before the run say nothing about its pace.
    """
    if done < 1:
        return ""
    per_trial = seconds / done
    return f"; {_duration(per_trial)}/trial, {_duration(per_trial * remaining)} left"


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
    ) -> None:
        self._total, self._quiet, self._stream, self._clock = total, quiet, stream, clock
        self._finished = self._pruned = self._before = 0
        self._best = math.inf
        self._started = clock()
        self._bar: tqdm | None = None

    def start(self, finished: Sequence[FrozenTrial]) -> None:
        """Count the trials a resumed study finished before this run; the clock starts."""
        for trial in finished:
            self._count(trial)
        self._before, self._started = self._finished, self._clock()
        if not self._quiet and self._stream.isatty():
            # `initial`: tqdm's rate and time left count this run's trials only. `smoothing`
            # 0: its time left is this run's mean pace, as the log lines' is; its default, a
            # moving average of the last few trials, swings with each trial's length.
            self._bar = tqdm(
                total=self._total,
                initial=self._finished,
                smoothing=0,
                file=self._stream,
                unit="trial",
                dynamic_ncols=True,
            )

    def show(self, trial: FrozenTrial) -> None:
        self._count(trial)
        if self._quiet:
            return
        best = f"{self._best:.3f}" if self._best < math.inf else "-"
        if self._bar is not None:
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
        timing = pace(
            self._finished - self._before,
            max(self._total - self._finished, 0),
            self._clock() - self._started,
        )
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

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
