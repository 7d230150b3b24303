"""Which trials an exported model is made of, and how each is trained.

One validation year tells the configurations a search ends on apart by less than the seed
alone moves them, so the single best trial is partly a lucky draw. An export therefore
averages the best few distinct configurations, each trained again on training and
validation together for the epochs, and at the rates, that its trial kept: a year more of
data, and the luck of one draw averaged away. How this default was chosen, on years the
test year never touched, is in docs/design.md ("Decisions").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuner.errors import TunerError
from tuner.model.params import ModelParams, TrainingSettings
from tuner.search import attrs
from tuner.search.outcomes import best_distinct, best_trial, ranked

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

MAX_MEMBERS = 20  # each member trains for as long as its trial did


@dataclass(frozen=True)
class ExportPlan:
    """What `tuner export` builds.

    Args:
        members: how many of the best distinct configurations the model averages.
        refit: train each again on training and validation (else: the trial's saved
            model, which only the best trial of a study is sure to have, so `members` is 1).
    """

    members: int = 5
    refit: bool = True

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ValueError(f"an export needs at least one member, not {self.members}")
        if not self.refit and self.members != 1:
            raise ValueError("only the best trial's model is saved: without a refit, one member")

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


def choose(trials: Iterable[FrozenTrial], count: int) -> list[Member]:
    """The members of the `count` best distinct configurations among `trials`, best first
    in the one order of "best" (`outcomes.ranked`); a configuration met twice (a resumed or
    enqueued trial) counts once, at its better value, and a trial that did not record what
    a refit replays is passed over."""
    members = (m for t in ranked(trials) if (m := as_member(t.number, t.value, t.user_attrs)))
    return best_distinct(members, count, config=lambda m: m.params)


def best_to_export(study: optuna.Study, *, saved: bool) -> FrozenTrial:
    """The trial a bundle is named after: the study's best (`outcomes.best_trial`), which
    must have saved its model when the bundle is that model (`saved`)."""
    trial = best_trial(study.get_trials(deepcopy=False))
    if trial is None:
        raise TunerError(f"study '{study.study_name}' has no completed trial to export")
    if saved and attrs.ARTIFACT_ID not in trial.user_attrs:
        raise TunerError(f"trial {trial.number} of '{study.study_name}' has no saved model")
    return trial


def plan_members(study: optuna.Study, plan: ExportPlan) -> tuple[list[Member], TrainingSettings]:
    """The members `plan` asks for and how the study trained them, or a one-line refusal
    before anything trains."""
    training = attrs.training_settings(study.user_attrs)
    if training is None:
        training = _builtin_training(study.user_attrs.get(attrs.SPACE))
    members = choose(study.get_trials(deepcopy=False), plan.members)
    if training is None or not members:
        raise TunerError(
            f"study '{study.study_name}' was made by a tuner that did not record how its "
            "trials trained: export its best trial's model with --single"
        )
    return members, training


def _builtin_training(space: object) -> TrainingSettings | None:
    """A study made before tuner recorded its training settings: a built-in space's own."""
    from tuner.search.space import builtin_spaces, load_space

    if isinstance(space, str) and space in builtin_spaces():
        return load_space(space).training
    return None
