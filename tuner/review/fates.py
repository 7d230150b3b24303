"""How each trial ended, and its learning curve: what the report colours and counts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from tuner.search import attrs
from tuner.search.attrs import PrunedReason

# In the order a legend lists them; "pruned" is any other reason (MedianPruner's, or none).
FATES = ("completed", *PrunedReason, "pruned", "failed")


@dataclass(frozen=True)
class Curve:
    """One trial's validation RMSE per epoch, finite values only, and how the trial ended."""

    number: int
    fate: str
    steps: tuple[int, ...]
    values: tuple[float, ...]


def fate(state: TrialState, user_attrs: Mapping[str, Any]) -> str | None:
    """One of `FATES`; None for a trial still running or waiting.

    A pruned trial's fate is its reason as `attrs.pruned_reason` reads it (and `tuner best`
    counts it), when the reason is one of tuner's own.
    """
    if state == TrialState.COMPLETE:
        return "completed"
    if state == TrialState.FAIL:
        return "failed"
    if state == TrialState.PRUNED:
        reason = attrs.pruned_reason(user_attrs)
        return reason if reason in set(PrunedReason) else "pruned"
    return None


def curves(trials: Iterable[FrozenTrial]) -> list[Curve]:
    """The curves of the trials that ended, by trial number.

    A diverged curve ends at its last finite value: NaN and inf cannot be drawn.
    """
    found = []
    for trial in sorted(trials, key=lambda t: t.number):
        ended = fate(trial.state, trial.user_attrs)
        if ended is None:
            continue
        points = sorted((s, v) for s, v in trial.intermediate_values.items() if math.isfinite(v))
        found.append(
            Curve(
                number=trial.number,
                fate=ended,
                steps=tuple(s for s, _ in points),
                values=tuple(v for _, v in points),
            )
        )
    return found


def counts(found: Iterable[Curve]) -> dict[str, int]:
    """Trials by fate, in the order of `FATES`, fates no trial met left out."""
    tally = Counter(c.fate for c in found)
    return {name: tally[name] for name in FATES if tally[name]}
