"""How a study's trials ended: counts by state, pruned by reason, failed by reason, the best.

`tuner best`, the run's summary and the study's note all say these; counted here once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from optuna.trial import FrozenTrial, TrialState

from tuner.search import attrs

T = TypeVar("T")

NO_HEARTBEAT = "no heartbeat"  # a trial failed by the heartbeat could not say why itself


@dataclass(frozen=True)
class Outcomes:
    """`states` by lower-case state name ("complete", "pruned", "fail", "running", …);
    `pruned_reasons` and `fail_reasons` by the first word the trial gave for it."""

    states: dict[str, int]
    pruned_reasons: dict[str, int]
    fail_reasons: dict[str, int]
    best: FrozenTrial | None

    def count(self, state: TrialState) -> int:
        return self.states.get(state.name.lower(), 0)


def outcomes(trials: Sequence[FrozenTrial]) -> Outcomes:
    return Outcomes(
        states=dict(Counter(t.state.name.lower() for t in trials)),
        pruned_reasons=dict(
            Counter(
                t.user_attrs.get(attrs.PRUNED_REASON, "unknown")
                for t in trials
                if t.state == TrialState.PRUNED
            )
        ),
        fail_reasons=dict(
            Counter(
                t.user_attrs.get(attrs.FAIL_REASON, NO_HEARTBEAT).split(":")[0]
                for t in trials
                if t.state == TrialState.FAIL
            )
        ),
        best=best_trial(trials),
    )


def ranked(trials: Iterable[FrozenTrial]) -> list[FrozenTrial]:
    """The complete trials with a finite value, best first; a tie goes to the earlier trial.

    The one order of "best" in tuner: `tuner best`, the note, the report, the export's
    members and the replicates all read it (Optuna's `study.best_trial` skips costly trials).
    """
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    return sorted(complete, key=lambda t: (t.value, t.number))


def best_trial(trials: Iterable[FrozenTrial]) -> FrozenTrial | None:
    """The first of `ranked(trials)`, or None when no trial completed with a finite value."""
    order = ranked(trials)
    return order[0] if order else None


def against_baseline(value: float, baseline: float) -> str:
    """How far `value` (an RMSE) is from the baseline's, as every report words it."""
    gain = baseline - value
    side = "better" if gain > 0 else "worse"
    return f"{abs(gain):.3f} ({abs(100 * gain / baseline):.1f}%) {side}"


def best_distinct(ranked: Iterable[T], count: int, config: Callable[[T], Hashable]) -> list[T]:
    """The first `count` of `ranked` (best first) whose `config` no earlier one had: the best
    few configurations, each at its best value (export's members, the run's replicates)."""
    chosen: list[T] = []
    seen: set[Hashable] = set()
    for item in ranked:
        if len(chosen) == count:
            break
        if config(item) not in seen:
            seen.add(config(item))
            chosen.append(item)
    return chosen
