"""`NoiseAwarePruner`: stop trials whose validation curve is noise, diverged, or clearly worse.

The decision is `noise_verdict`, a pure function of the intermediate values; the pruner only
gathers those values and the study's reference, then defers to Optuna's `MedianPruner` for
"clearly worse than the others at the same epoch".
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from tuner.search import attrs


@dataclass(frozen=True)
class Verdict:
    prune: bool
    reason: str  # "noise", "diverged", "worse-than-median"; empty when kept
    detail: str  # the figures that decided it


def noise_verdict(
    values: Sequence[float],
    reference: float | None,
    *,
    warmup_steps: int = 5,
    min_drop: float = 3.0,
    skill_margin: float = 1.0,
) -> Verdict:
    """Decide whether a curve to be minimised is noise.

    A curve is noise when, after `warmup_steps` values, it has neither trend nor skill.
    Five values by default: the noise unit below is the spread of the changes, and three
    changes (four values) too often measure it small by chance, which calls skilled
    curves noise (benchmarks/README.md, "Pruners replayed on real learning curves").
    - trend: its best value lies at least `min_drop` noise units below its first value,
      the noise unit being the spread (standard deviation) of the epoch-to-epoch changes,
      so that a steady descent is not counted as noise. A curve that learned and then
      stopped improving keeps its drop. On simulated curves of 5 values, `min_drop = 3`
      prunes most white noise and no exponential decay (tests/search/test_pruner.py
      checks both rates).
    - skill: its best value is not clearly worse than `reference` (the persistence
      baseline, or what completed trials reached): "clearly" is `skill_margin` noise units,
      since a few epochs understate how far a noisy curve can wander. With no reference,
      skill cannot be ruled out.
    A non-finite value means the trial diverged.
    """
    if any(not math.isfinite(v) for v in values):
        return Verdict(True, "diverged", f"non-finite value at step {_first_non_finite(values)}")
    if len(values) < warmup_steps:
        return Verdict(False, "", f"{len(values)} of {warmup_steps} warm-up steps")
    best = min(values)
    sigma = _noise_scale(values)
    if reference is not None and best < reference + skill_margin * sigma:
        return Verdict(
            False, "", f"skill: best {best:.4g} not clearly above reference {reference:.4g}"
        )
    drop = values[0] - best
    if drop > 0 and (sigma == 0 or drop >= min_drop * sigma):
        return Verdict(False, "", f"trend: drop {drop:.4g} >= {min_drop:g} x noise {sigma:.4g}")
    against = "no reference" if reference is None else f"reference {reference:.4g}"
    if reference is None:
        return Verdict(False, "", f"no trend, skill unknown ({against})")
    return Verdict(
        True,
        "noise",
        f"drop {drop:.4g} < {min_drop:g} x noise {sigma:.4g}; best {best:.4g} >= {against}",
    )


def _noise_scale(values: Sequence[float]) -> float:
    """Per-value noise from the spread of the changes (a change has twice its variance)."""
    diffs = [b - a for a, b in itertools.pairwise(values)]
    return statistics.stdev(diffs) / math.sqrt(2)


def _first_non_finite(values: Sequence[float]) -> int:
    return next(i for i, v in enumerate(values) if not math.isfinite(v))


def reachable(values: Sequence[float], target: float, *, horizon: int, slack: float = 0.0) -> bool:
    """Could this curve (minimised) reach `target` within `horizon` more steps?

    Optimistic extrapolation: its best so far, improved at its recent rate (the mean drop
    over its last two steps, if it is dropping) for `horizon` steps, less `slack` units of
    its recent noise (over the last five values, so that an early descent does not count)
    for a lucky epoch. A slow starter still falling fast is not written off; a flat
    curve is judged where it stands, give or take its noise.
    """
    recent = values[-3:]
    rate = max(0.0, (recent[0] - recent[-1]) / (len(recent) - 1)) if len(recent) > 1 else 0.0
    recent_noise = _noise_scale(values[-5:]) if len(values) >= 3 else 0.0
    luck = slack * recent_noise
    return min(values) - rate * horizon - luck <= target


class NoiseAwarePruner(optuna.pruners.BasePruner):
    """Prune noise, divergence, and trials that cannot catch up.

    After `warmup_steps` reported values, in this order:
    - "diverged": a NaN or inf value (at once, warm-up or not);
    - "noise": `noise_verdict`, no trend and clearly no skill, judged from `noise_steps`
      values on;
    - "behind-best": even granted `slack` noise units of luck (`reachable`), the curve does
      not come within `tolerance` (relative) of the best completed trial;
    - "worse-than-median": Optuna's `MedianPruner` says prune, and the same allowance does
      not reach the median either.
    By default a curve is judged where it stands: trained with the learning-rate schedule,
    curves settle within a few epochs, and on the curve banks extrapolating their descent
    (`horizon` > 0, which keeps slow starters) cost epochs and saved no good curve.
    The defaults were tuned by replaying a bank of real learning curves (`tuner bench
    pruners`, benchmarks/README.md) and hold no dataset's numbers: every threshold is in
    the curve's own noise units, in steps, or relative.

    Works with its defaults in any Optuna study, minimising or maximising. The reference for
    skill is the study's `baseline_key` user attribute when it has one (tuner stores the
    persistence baseline there), otherwise the best completed trial's value.

    Args:
        warmup_steps: reported values needed before a curve is judged against the other
            trials (`behind-best`, `worse-than-median`); at least 3.
        noise_steps: reported values needed before a curve can be called `noise`; at
            least 3, to measure its noise. Judged on its own, a curve needs more values
            than against others.
        min_drop: noise units below its first value that make a curve's trend.
        skill_margin: noise units above the reference that make "clearly no skill".
        horizon: steps over which a curve's recent descent is extrapolated; 0, none.
        slack: noise units of luck granted to a curve in that extrapolation.
        tolerance: how far behind the best completed trial (relative) is close enough.
        baseline_key: the study user attribute holding a reference value, if any.
        median: the pruner for "worse than the others at the same step"; default Optuna's
            `MedianPruner(n_startup_trials=5, n_warmup_steps=warmup_steps - 1)`.
    """

    def __init__(
        self,
        *,
        warmup_steps: int = 3,
        noise_steps: int = 5,
        min_drop: float = 3.0,
        skill_margin: float = 1.0,
        horizon: int = 0,
        slack: float = 1.0,
        tolerance: float = 0.03,
        baseline_key: str = attrs.BASELINE_VAL_RMSE,
        median: optuna.pruners.BasePruner | None = None,
    ) -> None:
        if warmup_steps < 3:
            raise ValueError(f"warmup_steps must be at least 3, but got {warmup_steps=}")
        if noise_steps < 3:
            raise ValueError(f"noise_steps must be at least 3, but got {noise_steps=}")
        if not min_drop > 0:
            raise ValueError(f"min_drop must be positive, but got {min_drop=}")
        if horizon < 0:
            raise ValueError(f"horizon must not be negative, but got {horizon=}")
        if tolerance < 0:
            raise ValueError(f"tolerance must not be negative, but got {tolerance=}")
        self._warmup_steps = warmup_steps
        self._noise_steps = noise_steps
        self._min_drop = min_drop
        self._skill_margin = skill_margin
        self._horizon = horizon
        self._slack = slack
        self._tolerance = tolerance
        self._baseline_key = baseline_key
        self._median = median or optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=warmup_steps - 1
        )

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        return self.verdict(study, trial).prune

    def verdict(self, study: optuna.Study, trial: FrozenTrial) -> Verdict:
        """The decision with its reason and figures, for `pruned_reason`.

        This runs after every epoch of every trial, and reading the trials costs more as the
        study grows: the completed trials are read once here (Optuna's `MedianPruner` reads
        them once more).
        """
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        values = [sign * v for _, v in sorted(trial.intermediate_values.items())]
        completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        best = min((sign * t.value for t in completed), default=None)  # in `values`' sign
        reference = self._baseline(study)
        if reference is not None:
            reference *= sign
        verdict = noise_verdict(
            values,
            best if reference is None else reference,
            warmup_steps=self._noise_steps,
            min_drop=self._min_drop,
            skill_margin=self._skill_margin,
        )
        if verdict.prune or len(values) < self._warmup_steps:
            return verdict
        if best is not None:
            target = best + self._tolerance * abs(best)
            if not reachable(values, target, horizon=self._horizon, slack=self._slack):
                return Verdict(
                    True,
                    "behind-best",
                    f"best {sign * min(values):.4g} cannot reach {sign * target:.4g} "
                    f"(best trial + {self._tolerance:.0%}) within {self._horizon} step(s)",
                )
        if self._median.prune(study, trial):
            step = trial.last_step
            median = _median_at(completed, step)  # the trials Optuna's MedianPruner compares
            if not reachable(values, sign * median, horizon=self._horizon, slack=self._slack):
                return Verdict(
                    True,
                    "worse-than-median",
                    f"{trial.intermediate_values[step]:.4g} at step {step} vs median "
                    f"{median:.4g}, not closing the gap within {self._horizon} step(s)",
                )
        return verdict

    def _baseline(self, study: optuna.Study) -> float | None:
        baseline = study.user_attrs.get(self._baseline_key)
        if isinstance(baseline, (int, float)) and math.isfinite(baseline):
            return float(baseline)
        return None


def _median_at(trials: Sequence[FrozenTrial], step: int) -> float:
    """The median as Optuna's `MedianPruner` takes it: NaN values left out."""
    values = [t.intermediate_values[step] for t in trials if step in t.intermediate_values]
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan
