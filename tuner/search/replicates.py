"""The noise floor: how far the seed alone moves the validation RMSE of the best
configurations, measured by training each once more with another seed.

One validation year tells the configurations a search ends on apart by less than a new
seed moves any of them, so "the best trial" is partly the luckiest. Once a run has its
trials, it trains its best few distinct configurations again as ordinary trials (each
tagged `attrs.REPLICATE_OF` with its original's number, never pruned); the largest change
between an original and its replicate is the study's noise floor, and the trials within it
of the best are the ones the search cannot tell apart. Pure functions of the trials, so
that `tuner best`, the note and the run agree.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from tuner.search import attrs
from tuner.search.outcomes import best_distinct, configuration, ranked

REPLICATES = 3  # the best distinct configurations a run trains again, by default

SHOWN = 8  # trials named by `describe`

# A noise floor among the best of a handful of trials would say little about a search.
MIN_FINISHED = 10


@dataclass(frozen=True)
class NoiseFloor:
    """What the seed alone did to the best configurations' validation RMSE.

    `pairs` holds (original trial, its value, the replicate's value), best original first.
    """

    pairs: tuple[tuple[int, float, float], ...]

    @property
    def moves(self) -> list[float]:
        return [abs(replicate - value) for _, value, replicate in self.pairs]

    @property
    def floor(self) -> float:
        """The largest move: a difference smaller than this may be the seed's alone."""
        return max(self.moves)

    @property
    def median(self) -> float:
        return statistics.median(self.moves)

    def to_dict(self) -> dict[str, Any]:
        return {
            "floor": self.floor,
            "median": self.median,
            "pairs": [
                {"trial": n, "value": value, "replicate": replicate}
                for n, value, replicate in self.pairs
            ],
        }


def to_replicate(trials: Sequence[FrozenTrial], count: int) -> list[FrozenTrial]:
    """The best `count` distinct completed configurations that were not replicated yet,
    among originals only; none while the study has fewer than `MIN_FINISHED` finished
    trials. A replicate waiting, running or finished counts as done; a failed one does not.
    """
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    if count < 1 or len(finished) < MIN_FINISHED:
        return []
    replicated = {
        t.user_attrs[attrs.REPLICATE_OF]
        for t in trials
        if attrs.REPLICATE_OF in t.user_attrs and t.state != TrialState.FAIL
    }
    best = _best_distinct(trials, count)
    return [t for t in best if t.number not in replicated]


def noise_floor(trials: Sequence[FrozenTrial]) -> NoiseFloor | None:
    """The floor measured by the study's completed replicates; None before any completed."""
    complete = {t.number: t for t in trials if t.state == TrialState.COMPLETE}
    pairs = []
    for t in complete.values():
        original = complete.get(t.user_attrs.get(attrs.REPLICATE_OF, -1))
        if original is not None and original.value is not None and t.value is not None:
            pairs.append((original.number, float(original.value), float(t.value)))
    if not pairs:
        return None
    return NoiseFloor(tuple(sorted(pairs, key=lambda pair: (pair[1], pair[0]))))


def within(trials: Sequence[FrozenTrial], floor: NoiseFloor) -> list[int]:
    """Completed trials, replicates included, whose value is within the floor of the best,
    best first: the ones one validation year cannot rank."""
    complete = ranked(trials)
    if not complete:
        return []
    best = complete[0].value
    return [t.number for t in complete if t.value - best <= floor.floor]


def describe(floor: NoiseFloor, close: Sequence[int], unit: str = "") -> str:
    """One sentence for `tuner best` and the note; the first `SHOWN` trials within the floor."""
    trials = ", ".join(str(n) for n in close[:SHOWN])
    if len(close) > SHOWN:
        trials += ", …"
    count = "1 trial" if len(close) == 1 else f"{len(close)} trials"
    return (
        f"the seed alone moved the best {len(floor.pairs)} configurations by up to "
        f"{floor.floor:.3f}{unit} (median {floor.median:.3f}); within that of the best: "
        f"{count} ({trials})"
    )


def _best_distinct(trials: Sequence[FrozenTrial], count: int) -> list[FrozenTrial]:
    originals = ranked(t for t in trials if attrs.REPLICATE_OF not in t.user_attrs)
    return best_distinct(originals, count, config=configuration)
