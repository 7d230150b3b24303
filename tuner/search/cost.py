"""What a trial costs, and when a much cheaper configuration makes it not worth its time.

Where TPE settles sets a search's wall time: an epoch of one configuration a search can end
on may cost many times another's, for validation RMSEs the seed alone cannot tell apart
(docs/design.md, "Decisions", "The cost rule"). A completed trial is
*costly* when an earlier completed trial, at least `CostRule.ratio` times cheaper per
epoch, scored within `CostRule.margin` of it. The verdict reaches TPE as an Optuna
constraint (`Trial.set_constraint`): TPE counts a costly trial among the worst, so the
search leans towards the cheaper of equal configurations and still follows an expensive
region that scores clearly better than every cheaper one.

Optuna's own `study.best_trial` skips costly trials; tuner's best, its export, its report
and the dashboard rank every completed trial by validation RMSE alone.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from optuna.trial import FrozenTrial

from tuner.errors import TunerError

COSTLY = "costly"  # the constraint's name: above 0 when the trial is costly


@dataclass(frozen=True)
class CostRule:
    """A trial is costly when an earlier one cost at most 1/`ratio` as much per epoch and
    scored at most `margin` (a fraction of this trial's RMSE) worse.

    The margin stays well below the noise floor the runs measure (the seed alone moves the
    best configurations by more), so a costly trial is never clearly better than its
    cheaper rival.
    """

    ratio: float = 2.0
    margin: float = 0.001

    def __post_init__(self) -> None:
        if not self.ratio > 1:
            raise TunerError(f"the cost ratio must be above 1, got {self.ratio}")
        if not 0 <= self.margin < 1:
            raise TunerError(f"the cost margin must be in [0, 1), got {self.margin}")


def is_costly(trial: FrozenTrial) -> bool:
    """Whether the search marked `trial` costly (a trial it never judged is not)."""
    return trial.constraints.get(COSTLY, 0.0) > 0


def epoch_cost(seconds: Sequence[float] | None) -> float | None:
    """Seconds of a typical epoch: the median of those after the first, which compiles.

    None when nothing was timed.
    """
    if not seconds:
        return None
    later = seconds[1:] or seconds
    return float(statistics.median(later))


def excess(
    value: float, cost: float | None, earlier: Iterable[tuple[float, float | None]], rule: CostRule
) -> float:
    """The `COSTLY` constraint of a trial that scored `value` at `cost` s/epoch.

    `earlier` holds the (value, cost) of the study's completed trials before it. Above 0
    (costly) when one that scored at most `value × (1 + margin)` was more than `ratio` times
    cheaper; the further above, the more its cost exceeds that. At most 0 otherwise.
    """
    if cost is None or not cost > 0:
        return 0.0
    rivals = [c for v, c in earlier if c is not None and c > 0 and v <= value * (1 + rule.margin)]
    if not rivals:
        return 0.0
    return cost / (rule.ratio * min(rivals)) - 1.0
