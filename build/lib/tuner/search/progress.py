"""Optuna callback that shows the study's progress: a bar on a terminal, log lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

import optuna
from optuna.trial import FrozenTrial, TrialState
from tqdm import tqdm

from tuner.search import attrs

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class Progress:
    """Counts finished trials of the whole study (all workers), pruned ones, and the best.

    Each finished trial is counted when it is shown, not read from the study's total, so two
    trials that finish between two looks at the study get two counts, not the same one.
    """

    def __init__(self, total: int, *, quiet: bool = False, stream: TextIO = sys.stderr) -> None:
        self._total, self._quiet, self._stream = total, quiet, stream
        self._finished = self._pruned = 0
        self._bar: tqdm | None = None
        if not quiet and stream.isatty():
            self._bar = tqdm(total=total, file=stream, unit="trial", dynamic_ncols=True)

    def start(self, finished: Sequence[FrozenTrial]) -> None:
        """Count the trials a resumed study finished before this run."""
        for trial in finished:
            self._count(trial)
        if self._bar is not None:
            self._bar.update(self._finished)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._count(trial)
        if self._quiet:
            return
        best = f"{study.best_value:.3f}" if self._finished > self._pruned else "-"
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
        print(
            f"[{self._finished}/{self._total}] trial {trial.number} {state}{value}"
            f"{f' ({why})' if why else ''} after {trial.user_attrs.get(attrs.EPOCHS, '?')} epochs;"
            f" pruned {self._pruned}, best {best}",
            file=self._stream,
            flush=True,
        )

    def _count(self, trial: FrozenTrial) -> None:
        if trial.state in FINISHED:
            self._finished += 1
            self._pruned += trial.state == TrialState.PRUNED

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
