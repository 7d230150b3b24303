"""What a run left in its study, as `tuner run` prints it at the end."""

from __future__ import annotations

import math
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from tuner.search import attrs, by_step, notes, replicates
from tuner.search.location import StudyLocation
from tuner.search.outcomes import gain, outcomes


@dataclass(frozen=True)
class RunSummary:
    """What a run left in its study: trial counts, the best trial, the baselines, how long.

    `best_value`, `persistence_val_rmse` and `boosting_val_rmse` (None when the study has
    none) are validation RMSEs in the target's units (`unit` when tuner knows it);
    `failed_workers` counts worker processes that died rather than trials that failed.
    """

    study_name: str
    storage: str
    next_command: str
    complete: int
    pruned: int
    failed: int
    best_value: float | None
    best_trial: int | None
    persistence_val_rmse: float
    seconds: float
    interrupted: bool = False
    failed_workers: int = 0
    unit: str | None = None
    boosting_val_rmse: float | None = None
    noise: str | None = None  # what the replicates measured (`replicates.describe`)
    by_step: str | None = None  # several steps: the best's first and last against persistence

    def describe(self) -> str:
        """Three lines: what the run left where, the best against the baselines (and the
        noise floor, once measured), what next."""
        head = "interrupted: " if self.interrupted else ""
        if self.failed_workers:
            head += f"{self.failed_workers} worker(s) failed: "
        lines = [
            f"{head}study '{self.study_name}' in {self.storage}: {self.complete} complete, "
            f"{self.pruned} pruned, {self.failed} failed ({self.seconds:.0f} s)"
        ]
        unit = f" {self.unit}" if self.unit else ""
        persistence = f"persistence {self.persistence_val_rmse:.3f}{unit}"
        if self.best_value is None:
            lines.append(f"no completed trial yet; {persistence}")
            return "\n".join(lines)
        than = _than(self.best_value, self.persistence_val_rmse, persistence)
        if self.boosting_val_rmse is not None:
            boosting = f"gradient boosting {self.boosting_val_rmse:.3f}"
            than += f", {_than(self.best_value, self.boosting_val_rmse, boosting)}"
        lines.append(
            f"best: trial {self.best_trial}, validation RMSE {self.best_value:.3f}{unit}, {than}"
        )
        if self.by_step:
            lines.append(f"by step: {self.by_step}; tuner best shows each step")
        if self.noise:
            lines.append(f"noise floor: {self.noise}")
        lines.append(f"next: {self.next_command}")
        return "\n".join(lines)


def _than(value: float, reference: float, named: str) -> str:
    fraction = gain(value, reference)
    if fraction is None:  # a perfect (or unknown) reference has no relative gain
        return f"{'level with' if value == reference else 'worse than'} {named}"
    return f"{abs(fraction):.1%} {'better' if fraction >= 0 else 'worse'} than {named}"


def summarize(
    study: optuna.Study,
    location: StudyLocation,
    *,
    unit: str | None = None,
    seconds: float = 0.0,
    interrupted: bool = False,
    failed_workers: int = 0,
) -> RunSummary:
    trials = study.get_trials(deepcopy=False)
    tally = outcomes(trials)
    best = tally.best
    floor = replicates.noise_floor(trials)
    return RunSummary(
        study_name=study.study_name,
        storage=str(location),
        next_command=notes.export_command(location, study.study_name),
        complete=tally.count(TrialState.COMPLETE),
        pruned=tally.count(TrialState.PRUNED),
        failed=tally.count(TrialState.FAIL),
        best_value=best.value if best else None,
        best_trial=best.number if best else None,
        persistence_val_rmse=_or_nan(attrs.persistence_val_rmse(study.user_attrs)),
        seconds=seconds,
        interrupted=interrupted,
        failed_workers=failed_workers,
        unit=unit,
        boosting_val_rmse=attrs.boosting_val_rmse(study.user_attrs),
        noise=None
        if floor is None
        else replicates.describe(
            floor, replicates.within(trials, floor), f" {unit}" if unit else ""
        ),
        by_step=None if best is None else _by_step(study, best),
    )


def _by_step(study: optuna.Study, best: FrozenTrial) -> str | None:
    """The best's first and last step ahead, beside persistence's; None for one step."""
    values = attrs.val_rmse_by_step(best.user_attrs)
    if values is None or len(values) < 2:
        return None
    step = attrs.series_step(study.user_attrs)
    line = f"best {by_step.span(values, step)} ahead"
    persistence = attrs.baselines_by_step(study.user_attrs).get("persistence")
    if persistence is not None and len(persistence) == len(values):
        line += f", persistence {by_step.span(persistence, step)}"
    return line


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value
