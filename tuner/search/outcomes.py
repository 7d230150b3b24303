"""How a study's trials ended: counts by state, pruned by reason, failed by reason, the best,
the gain against a baseline, and what makes two trials the same configuration.

`tuner best`, the run's summary, the study's note and the report all say these; each is
decided here once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from optuna.trial import FrozenTrial, TrialState

from tuner.search import attrs

T = TypeVar("T")


@dataclass(frozen=True)
class Outcomes:
    """`states` by lower-case state name ("complete", "pruned", "fail", "running", …);
    `pruned_reasons` and `fail_reasons` by reason, as `attrs.pruned_reason` and
    `attrs.fail_reason` read it."""

    states: dict[str, int]
    pruned_reasons: dict[str, int]
    fail_reasons: dict[str, int]
    best: FrozenTrial | None

    def count(self, state: TrialState) -> int:
        return self.states.get(state.name.lower(), 0)

    def describe(self) -> str:
        """The trials in one phrase: "8 complete, 3 pruned (2 behind, 1 noise), 1 failed (1
        interrupted)", then any other state."""
        parts = [
            f"{self.states.get('complete', 0)} complete",
            f"{self.states.get('pruned', 0)} pruned" + _in_brackets(self.pruned_reasons),
            f"{self.states.get('fail', 0)} failed" + _in_brackets(self.fail_reasons),
        ]
        shown = {"complete", "pruned", "fail"}
        parts += [f"{n} {state}" for state, n in sorted(self.states.items()) if state not in shown]
        return ", ".join(parts)


def outcomes(trials: Sequence[FrozenTrial]) -> Outcomes:
    return Outcomes(
        states=dict(Counter(t.state.name.lower() for t in trials)),
        pruned_reasons=dict(
            Counter(
                attrs.pruned_reason(t.user_attrs) for t in trials if t.state == TrialState.PRUNED
            )
        ),
        fail_reasons=dict(
            Counter(attrs.fail_reason(t.user_attrs) for t in trials if t.state == TrialState.FAIL)
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


def most_first(counts: Mapping[str, int]) -> str:
    """Counts, most first, a tie by name: "2 behind, 1 noise"."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{n} {reason}" for reason, n in ordered)


def _in_brackets(counts: Mapping[str, int]) -> str:
    return f" ({most_first(counts)})" if counts else ""


def gain(value: float, baseline: float) -> float | None:
    """How much lower `value` (an RMSE) is than `baseline`, as a fraction of the baseline:
    0.088 is 8.8% better, below zero is worse; None when the baseline is not a positive
    number, against which no fraction means anything."""
    if not (math.isfinite(baseline) and baseline > 0):
        return None
    return (baseline - value) / baseline


def against_baseline(value: float, baseline: float) -> str:
    """How far `value` (an RMSE) is from the baseline's, as every report words it."""
    difference = baseline - value
    side = "better" if difference > 0 else "worse"
    fraction = gain(value, baseline)
    share = "" if fraction is None else f" ({abs(fraction):.1%})"
    return f"{abs(difference):.3f}{share} {side}"


def configuration(trial: FrozenTrial) -> Hashable:
    """What two trials share when they trained the same configuration: their recorded
    `ModelParams`, fixed values included (export's members compare the same); Optuna's
    params for a trial that recorded none."""
    params = attrs.model_params(trial.user_attrs)
    return params if params is not None else tuple(sorted(trial.params.items()))


def best_distinct(order: Iterable[T], count: int, config: Callable[[T], Hashable]) -> list[T]:
    """The first `count` of `order` (best first) whose `config` no earlier one had: the best
    few configurations, each at its best value (export's members, the run's replicates)."""
    chosen: list[T] = []
    seen: set[Hashable] = set()
    for item in order:
        if len(chosen) == count:
            break
        if config(item) not in seen:
            seen.add(config(item))
            chosen.append(item)
    return chosen
