"""Optuna callback that shows the study's progress: a bar on a terminal, log lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

import optuna
from optuna.trial import FrozenTrial, TrialState
from tqdm import tqdm

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class Progress:
    """Counts finished trials of the whole study (all workers), pruned ones, and the best."""

    def __init__(self, total: int, *, quiet: bool = False, stream: TextIO = sys.stderr) -> None:
        self._total, self._quiet, self._stream = total, quiet, stream
        self._bar: tqdm | None = None
        if not quiet and stream.isatty():
            self._bar = tqdm(total=total, file=stream, unit="trial", dynamic_ncols=True)

    def start(self, study: optuna.Study) -> None:
        if self._bar is not None:
            self._bar.update(len(study.get_trials(deepcopy=False, states=FINISHED)))

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if self._quiet:
            return
        trials = study.get_trials(deepcopy=False, states=FINISHED)
        pruned = sum(t.state == TrialState.PRUNED for t in trials)
        best = f"{study.best_value:.3f}" if len(trials) > pruned else "-"
        if self._bar is not None:
            self._bar.n = len(trials)
            self._bar.set_postfix(pruned=pruned, best=best, refresh=True)
            return
        state = trial.state.name.lower()
        why = trial.user_attrs.get("pruned_reason") or trial.user_attrs.get("fail_reason") or ""
        value = f" {trial.value:.3f}" if trial.value is not None else ""
        print(
            f"[{len(trials)}/{self._total}] trial {trial.number} {state}{value}"
            f"{f' ({why})' if why else ''} after {trial.user_attrs.get('epochs', '?')} epochs;"
            f" pruned {pruned}, best {best}",
            file=self._stream,
            flush=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
