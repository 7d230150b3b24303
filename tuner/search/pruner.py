"""`NoiseAwarePruner`: stop trials whose validation curve is noise, diverged, or clearly behind.

Both decisions are pure functions of reported values (`tuner.search.verdicts`): `noise_verdict`
looks at one curve, `behind_verdict` compares it, step for step, with the curves of completed
trials. The pruner only gathers those values from the study.
"""

from __future__ import annotations

import math

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from tuner.search import attrs, verdicts
from tuner.search.attrs import PrunedReason
from tuner.search.verdicts import Completed, Verdict, behind_verdict, leads, noise_verdict

__all__ = [
    "Completed",
    "NoiseAwarePruner",
    "Verdict",
    "behind_verdict",
    "completed_trials",
    "noise_verdict",
]


def completed_trials(study: optuna.Study, sign: float = 1.0) -> list[Completed]:
    """The study's completed trials, their values times `sign` (-1 makes a maximised study's
    values minimised)."""
    return [
        Completed(tuple(sign * v for _, v in sorted(t.intermediate_values.items())), sign * t.value)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ]


class NoiseAwarePruner(optuna.pruners.BasePruner):
    """Prune noise, divergence, and trials that are clearly behind at the same step.

    In this order:
    - "diverged": a NaN or inf value, at once;
    - "noise": `noise_verdict`, no trend and clearly no skill, from `noise_steps` values on;
    - "behind": `behind_verdict`, from `warmup_steps` values on and once `min_trials` trials
      have completed: even its optimistic end, forecast from how the completed trials that
      stood nearest at the same step went on, reaches neither the best of them (within
      `tolerance`) nor, for a curve that beats the baseline, the `keep`-th best.
    A curve level with or ahead of the best completed trial at the same step is pruned only
    if it diverged.

    Works with its defaults in any Optuna study, minimising or maximising: every threshold
    is in the curve's own noise units, in steps, or relative, and how curves go on is read
    from the study's own completed trials. The reference for skill is the study's
    `baseline_key` user attribute when it has one (tuner stores the persistence baseline
    there), otherwise the best completed trial's value. NaN intermediate values count as
    divergence.

    Args:
        warmup_steps: reported values needed before a curve is judged against the other
            trials; at least 2.
        noise_steps: reported values needed before a curve can be called `noise`; at
            least 3, to measure its noise.
        min_drop: noise units below its first value that make a curve's trend.
        skill_margin: noise units above the reference that make "clearly no skill".
        min_trials: completed trials needed before any curve is called behind; at least 1.
        peers: completed trials, nearest at the same step, whose later gains a curve is
            granted.
        horizon: steps over which a curve's fall of its last two steps is continued.
        slack: noise units of luck granted to a curve's forecast end.
        tolerance: how far behind the best completed trial (relative) is still close enough.
        keep: a curve that beats the baseline and could end among this many best completed
            trials is finished.
        baseline_key: the study user attribute holding a reference value, if any.
    """

    def __init__(
        self,
        *,
        warmup_steps: int = 3,
        noise_steps: int = verdicts.NOISE_STEPS,
        min_drop: float = verdicts.MIN_DROP,
        skill_margin: float = verdicts.SKILL_MARGIN,
        min_trials: int = verdicts.MIN_TRIALS,
        peers: int = verdicts.PEERS,
        horizon: int = verdicts.HORIZON,
        slack: float = verdicts.SLACK,
        tolerance: float = verdicts.TOLERANCE,
        keep: int = verdicts.KEEP,
        baseline_key: str = attrs.PERSISTENCE_VAL_RMSE,
    ) -> None:
        if warmup_steps < 2:
            raise ValueError(f"warmup_steps must be at least 2, but got {warmup_steps=}")
        if noise_steps < 3:
            raise ValueError(f"noise_steps must be at least 3, but got {noise_steps=}")
        if not min_drop > 0:
            raise ValueError(f"min_drop must be positive, but got {min_drop=}")
        if min_trials < 1:
            raise ValueError(f"min_trials must be at least 1, but got {min_trials=}")
        if peers < 1:
            raise ValueError(f"peers must be at least 1, but got {peers=}")
        if horizon < 0:
            raise ValueError(f"horizon must not be negative, but got {horizon=}")
        if slack < 0:
            raise ValueError(f"slack must not be negative, but got {slack=}")
        if tolerance < 0:
            raise ValueError(f"tolerance must not be negative, but got {tolerance=}")
        if keep < 1:
            raise ValueError(f"keep must be at least 1, but got {keep=}")
        self._warmup_steps = warmup_steps
        self._noise_steps = noise_steps
        self._min_drop = min_drop
        self._skill_margin = skill_margin
        self._min_trials = min_trials
        self._slack = slack
        self._tolerance = tolerance
        self._keep = keep
        self._peers = peers
        self._horizon = horizon
        self._baseline_key = baseline_key

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        return self.verdict(study, trial).prune

    def verdict(self, study: optuna.Study, trial: FrozenTrial) -> Verdict:
        """The decision with its reason and figures, for `pruned_reason` and `pruned_detail`.

        This runs after every epoch of every trial: the completed trials are read once.
        """
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        values = [sign * v for _, v in sorted(trial.intermediate_values.items())]
        completed = completed_trials(study, sign)
        best = min((t.value for t in completed), default=None)
        reference = self._baseline(study)
        verdict = noise_verdict(
            values,
            best if reference is None else sign * reference,
            noise_steps=self._noise_steps,
            min_drop=self._min_drop,
            skill_margin=self._skill_margin,
        )
        if verdict.prune and verdict.reason == PrunedReason.NOISE and leads(values, completed):
            return Verdict(False, "", f"level with or ahead of the best trial; {verdict.detail}")
        if verdict.prune or len(values) < self._warmup_steps:
            return verdict
        behind = behind_verdict(
            values,
            completed,
            min_trials=self._min_trials,
            slack=self._slack,
            tolerance=self._tolerance,
            peers=self._peers,
            horizon=self._horizon,
            keep=self._keep,
            baseline=None if reference is None else sign * reference,
        )
        return behind if behind.prune else verdict

    def _baseline(self, study: optuna.Study) -> float | None:
        if self._baseline_key == attrs.PERSISTENCE_VAL_RMSE:
            return attrs.persistence_val_rmse(study.user_attrs)
        baseline = study.user_attrs.get(self._baseline_key)
        if isinstance(baseline, (int, float)) and math.isfinite(baseline):
            return float(baseline)
        return None
