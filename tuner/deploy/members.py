"""Which trials an exported model is made of, and how each is trained: plain data only.

One validation year tells the configurations a search ends on apart by less than the seed
alone moves them, so the single best trial is partly a lucky draw. An export therefore
averages the best few distinct configurations, each trained again on training and
validation together for the epochs, and at the rates, that its trial kept: a year more of
data, and the luck of one draw averaged away. How this default was chosen, on years the
test year never touched, is in benchmarks/README.md ("The exported model").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tuner.model.params import ModelParams
from tuner.search import attrs
from tuner.search.outcomes import best_distinct

MAX_MEMBERS = 20  # each member trains for as long as its trial did


@dataclass(frozen=True)
class ExportPlan:
    """What `tuner export` builds.

    Args:
        members: how many of the best distinct configurations the model averages.
        refit: train each again on training and validation (else: the trial's saved
            model, which only the best trial of a study is sure to have, so `members` is 1).
        teacher: the weight of the gradient-boosting baseline's forecast in the targets a
            member refits on (`tuner.deploy.teacher`); 0, the default, for the observed
            values alone. A model that is not refitted has no teacher.
    """

    members: int = 5
    refit: bool = True
    teacher: float = 0.0

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ValueError(f"an export needs at least one member, not {self.members}")
        if not self.refit and self.members != 1:
            raise ValueError("only the best trial's model is saved: without a refit, one member")
        if not 0.0 <= self.teacher <= 1.0:
            raise ValueError(f"a teacher's weight is between 0 and 1, not {self.teacher}")

    @property
    def single(self) -> bool:
        """The best trial's own saved model, as the search trained it."""
        return not self.refit


DEFAULT = ExportPlan()
SINGLE = ExportPlan(members=1, refit=False)


@dataclass(frozen=True)
class Member:
    """A completed trial as an ensemble member: its configuration and the epochs it kept,
    each at the learning rate it trained at."""

    trial: int
    value: float
    params: ModelParams
    learning_rates: tuple[float, ...]

    @property
    def epochs(self) -> int:
        return len(self.learning_rates)


def as_member(number: int, value: float, user_attrs: Mapping[str, Any]) -> Member | None:
    """A completed trial's member, or None when it did not record what a refit replays
    (studies made before tuner recorded its learning rates and kept epoch)."""
    params = user_attrs.get(attrs.MODEL_PARAMS)
    rates = user_attrs.get(attrs.LEARNING_RATES)
    kept = user_attrs.get(attrs.KEPT_EPOCH)
    if not isinstance(params, dict) or not isinstance(rates, list):
        return None
    if not isinstance(kept, int) or isinstance(kept, bool) or not 1 <= kept <= len(rates):
        return None
    try:
        model_params = ModelParams(**params)
    except TypeError:
        return None
    return Member(number, float(value), model_params, tuple(float(r) for r in rates[:kept]))


def choose(candidates: Iterable[Member], count: int) -> list[Member]:
    """The `count` best distinct configurations, best first; a configuration met twice
    (a resumed or enqueued trial) counts once, at its better value."""
    ranked = sorted(candidates, key=lambda m: (m.value, m.trial))
    return best_distinct(ranked, count, config=lambda m: m.params)
