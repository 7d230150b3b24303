"""`tuner bench pruners`: replay a curve bank through real Optuna studies, once per pruner.

Every trial replays one recorded curve epoch by epoch (ask, report, should_prune, tell)
under the same early stopping as `tuner run`, so each row shows what a pruner saves beyond
early stopping alone, and what it costs: regret, good curves lost, false `noise` labels.
"""

from __future__ import annotations

import math
import random
import statistics
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import optuna
from optuna.trial import TrialState

from tuner.bench.bank import Curve
from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.pruner import NoiseAwarePruner

TOP = 5


def _fixed_epoch(k: int) -> Callable[[int], optuna.pruners.BasePruner]:
    return lambda epochs: optuna.pruners.PercentilePruner(
        50.0, n_startup_trials=5, n_warmup_steps=k - 1, interval_steps=epochs + 1
    )


PRUNERS: dict[str, Callable[[int], optuna.pruners.BasePruner]] = {
    "none (early stopping only)": lambda epochs: optuna.pruners.NopPruner(),
    "Median": lambda epochs: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
    "Patient(Median, 2)": lambda epochs: optuna.pruners.PatientPruner(
        optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2), patience=2
    ),
    "Hyperband": lambda epochs: optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=epochs, reduction_factor=3
    ),
    "SuccessiveHalving": lambda epochs: optuna.pruners.SuccessiveHalvingPruner(
        min_resource=1, reduction_factor=3
    ),
    # Egele et al. 2023: judge every trial once, at a fixed small epoch k, and keep the
    # better half to the end (early stopping).
    **{f"fixed epoch {k} (better half kept)": _fixed_epoch(k) for k in (1, 2, 3)},
    "NoiseAwarePruner()": lambda epochs: NoiseAwarePruner(),
}


@dataclass(frozen=True)
class Outcome:
    """What became of one curve in one replay."""

    curve: int
    epochs: int
    value: float | None  # the early-stopped best; None when pruned
    reason: str  # "" when completed


@dataclass(frozen=True)
class Row:
    pruner: str
    epochs_share: float  # of the no-pruning row's epochs
    regret: float  # mean over orders of (best found - bank's best), target units
    top_pruned: float  # mean over orders of the bank's top-5 curves pruned
    no_skill_pruned: float  # share of no-skill curves pruned, mean over orders
    no_skill_epoch: float  # median epoch at which no-skill curves were pruned
    false_noise: float  # share of skilled curves pruned as "noise", mean over orders
    false_noise_trained: float  # the same, skill judged on the epochs early stopping trains

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)


def early_stopped(values: Sequence[float | None], patience: int) -> tuple[float | None, int]:
    """(best value, epochs run) under early stopping alone, as `tuner run` trains.

    A None (diverged) epoch ends the curve without a value, as it prunes a trial.
    """
    best, wait = math.inf, 0
    for epoch, value in enumerate(values, start=1):
        if value is None:
            return None, epoch
        if value < best:
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                return best, epoch
    return (best if math.isfinite(best) else None), len(values)


def replay(
    bank: Sequence[Curve],
    pruner: optuna.pruners.BasePruner,
    order: Sequence[int],
    *,
    patience: int,
) -> list[Outcome]:
    """Replay `bank` in `order` through one in-memory study with `pruner`."""
    # A fixed name: Hyperband assigns brackets by a hash of the study's name.
    study = optuna.create_study(
        study_name="replay", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, bank[0].baseline_val_rmse)
    outcomes = []
    for index in order:
        trial = study.ask()
        outcomes.append(_replay_one(study, trial, index, bank[index].val_rmse, patience))
    return outcomes


def _replay_one(
    study: optuna.Study,
    trial: optuna.Trial,
    index: int,
    values: Sequence[float | None],
    patience: int,
) -> Outcome:
    best, wait = math.inf, 0
    for epoch, value in enumerate(values):
        if value is None:  # tuner run stops a diverged trial whatever the pruner
            study.tell(trial, state=TrialState.PRUNED)
            return Outcome(index, epoch + 1, None, attrs.PrunedReason.DIVERGED)
        trial.report(value, epoch)
        if trial.should_prune():
            frozen = study.get_trials(deepcopy=False)[trial.number]
            reason = (
                study.pruner.verdict(study, frozen).reason
                if isinstance(study.pruner, NoiseAwarePruner)
                else "pruned"
            )
            study.tell(trial, state=TrialState.PRUNED)
            return Outcome(index, epoch + 1, None, reason)
        if value < best:
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                break
    study.tell(trial, best)
    return Outcome(index, epoch + 1, best, "")


def benchmark(
    bank: Sequence[Curve],
    *,
    patience: int,
    orders: int = 20,
    pruners: dict[str, Callable[[int], optuna.pruners.BasePruner]] = PRUNERS,
) -> list[Row]:
    """One row per pruner, each replayed in the same `orders` shuffled orders."""
    if len(bank) < TOP + 1:
        raise TunerError(f"a bank of {len(bank)} curves is too small to judge pruners")
    if orders < 1:
        raise TunerError(f"--orders must be at least 1, got {orders}")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # PatientPruner
    epochs = max(len(c.val_rmse) for c in bank)
    permutations = [
        random.Random(seed).sample(range(len(bank)), len(bank)) for seed in range(orders)
    ]
    runs = {
        name: [replay(bank, make(epochs), order, patience=patience) for order in permutations]
        for name, make in pruners.items()
    }
    reference = sum(early_stopped(c.val_rmse, patience)[1] for c in bank)
    return [summarize(name, outcomes, bank, patience, reference) for name, outcomes in runs.items()]


def summarize(
    name: str,
    runs: Sequence[Sequence[Outcome]],
    bank: Sequence[Curve],
    patience: int,
    reference_epochs: int,
) -> Row:
    """The row's columns, each a mean over the replayed orders."""
    finals = [early_stopped(c.val_rmse, patience)[0] for c in bank]
    ranked = sorted((v, i) for i, v in enumerate(finals) if v is not None)
    bank_best, top = ranked[0][0], {i for _, i in ranked[:TOP]}
    baseline = bank[0].baseline_val_rmse
    no_skill = {i for i, c in enumerate(bank) if not _ever_below(c.val_rmse, baseline)}
    skilled = set(range(len(bank))) - no_skill
    trained = [c.val_rmse[: early_stopped(c.val_rmse, patience)[1]] for c in bank]
    skilled_trained = {i for i, values in enumerate(trained) if _ever_below(values, baseline)}

    spent: list[int] = []
    regrets: list[float] = []
    top_pruned: list[int] = []
    no_skill_share: list[float] = []
    no_skill_epochs: list[int] = []
    false_noise: list[float] = []
    false_noise_trained: list[float] = []
    for outcomes in runs:
        spent.append(sum(o.epochs for o in outcomes))
        found = min((o.value for o in outcomes if o.value is not None), default=math.inf)
        regrets.append(found - bank_best)
        pruned = [o for o in outcomes if o.value is None]
        top_pruned.append(sum(o.curve in top for o in pruned))
        hit = [o for o in pruned if o.curve in no_skill]
        no_skill_share.append(len(hit) / len(no_skill) if no_skill else math.nan)
        no_skill_epochs.extend(o.epochs for o in hit)
        noise = [o.curve for o in pruned if o.reason == attrs.PrunedReason.NOISE]
        false_noise.append(_share(noise, skilled))
        false_noise_trained.append(_share(noise, skilled_trained))
    return Row(
        pruner=name,
        epochs_share=statistics.mean(spent) / reference_epochs,
        regret=statistics.mean(regrets),
        top_pruned=statistics.mean(top_pruned),
        no_skill_pruned=statistics.mean(no_skill_share),
        no_skill_epoch=statistics.median(no_skill_epochs) if no_skill_epochs else math.nan,
        false_noise=statistics.mean(false_noise),
        false_noise_trained=statistics.mean(false_noise_trained),
    )


def _share(curves: Sequence[int], among: set[int]) -> float:
    return sum(c in among for c in curves) / len(among) if among else math.nan


def _ever_below(values: Sequence[float | None], baseline: float) -> bool:
    return any(v is not None and v < baseline for v in values)


def format_table(rows: Sequence[Row], unit: str | None = "µg/m³") -> str:
    """The rows as a Markdown table; regret is in `unit`, the target's (None: unknown)."""
    header = (
        f"| pruner | epochs spent | regret ({unit or 'target units'}) | top-5 pruned "
        "| no-skill pruned "
        "| at epoch (median) | false noise | false noise, as trained |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [
        f"| {r.pruner} | {r.epochs_share:.0%} | {r.regret:.3f} | {r.top_pruned:.2f} "
        f"| {r.no_skill_pruned:.0%} | {r.no_skill_epoch:.0f} | {r.false_noise:.1%} "
        f"| {r.false_noise_trained:.1%} |"
        for r in rows
    ]
    return "\n".join([header, *lines])
