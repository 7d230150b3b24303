"""The pruner's two decisions, as pure functions of reported values (minimised).

`noise_verdict` looks at one curve; `behind_verdict` compares it, step for step, with the
curves of completed trials. `NoiseAwarePruner` (`tuner.search.pruner`) only gathers those
values from a study.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from tuner.search.attrs import PrunedReason

# The defaults of both verdicts, which `NoiseAwarePruner` takes as its own (the arguments'
# meaning is in its docstring).
NOISE_STEPS = 5
MIN_DROP = 3.0
SKILL_MARGIN = 1.0
MIN_TRIALS = 3
PEERS = 3
HORIZON = 2
SLACK = 1.0
TOLERANCE = 0.01
KEEP = 5


@dataclass(frozen=True)
class Verdict:
    prune: bool
    reason: str  # a `PrunedReason`, another pruner's name, or empty when kept
    detail: str  # the figures that decided it


@dataclass(frozen=True)
class Completed:
    """A completed trial as the pruner sees it: its curve and its value (both minimised)."""

    values: tuple[float, ...]
    value: float

    def standing(self, step: int) -> float:
        """Its best value up to `step`; a trial that stopped before `step` stands at its end."""
        if step >= len(self.values):
            return self.value
        return min(self.values[: step + 1])


def noise_verdict(
    values: Sequence[float],
    reference: float | None,
    *,
    noise_steps: int = NOISE_STEPS,
    min_drop: float = MIN_DROP,
    skill_margin: float = SKILL_MARGIN,
) -> Verdict:
    """Decide whether a curve to be minimised is noise.

    A curve is noise when, after `noise_steps` values, it has neither trend nor skill.
    Five values by default: the noise unit below is the spread of the changes, and three
    changes (four values) too often measure it small by chance, which calls skilled
    curves noise (the measurement log at 992a9fa, `git show 992a9fa:benchmarks/README.md`,
    "Pruners replayed on real learning curves").
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
        return Verdict(
            True, PrunedReason.DIVERGED, f"non-finite value at step {_first_non_finite(values)}"
        )
    if len(values) < noise_steps:
        return Verdict(False, "", f"{len(values)} of {noise_steps} steps to judge noise on")
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
        PrunedReason.NOISE,
        f"drop {drop:.4g} < {min_drop:g} x noise {sigma:.4g}; best {best:.4g} >= {against}",
    )


def _noise_scale(values: Sequence[float]) -> float:
    """Per-value noise from the spread of the changes (a change has twice its variance)."""
    diffs = [b - a for a, b in itertools.pairwise(values)]
    return statistics.stdev(diffs) / math.sqrt(2)


def _first_non_finite(values: Sequence[float]) -> int:
    return next(i for i, v in enumerate(values) if not math.isfinite(v))


def behind_verdict(
    values: Sequence[float],
    completed: Sequence[Completed],
    *,
    min_trials: int = MIN_TRIALS,
    peers: int = PEERS,
    horizon: int = HORIZON,
    slack: float = SLACK,
    tolerance: float = TOLERANCE,
    keep: int = KEEP,
    baseline: float | None = None,
) -> Verdict:
    """Decide whether a curve to be minimised is clearly behind the completed trials.

    The curve is judged like with like, at its own step s, where it stands at its best value
    so far. Its optimistic end is that value less the larger of two gains, less `slack` units
    of its own noise for a lucky epoch:
    - what the `peers` completed trials that stood nearest to it at step s still gained
      after step s: the study's own curves are the model of how such a curve goes on;
    - what its own descent could still gain (`_own_gain`), so that a curve still falling
      fast, or falling steadily for longer than its neighbours did, is not judged by them.
    It is behind when even that end is worse than the best completed trial's value by more
    than `tolerance` (relative). A curve that already beats `baseline` and could still end
    among the `keep` best completed trials is finished, however far behind the best: the
    best by one validation split is an uncertain pick, and its runners-up are the study's
    other candidates (`tuner best --top`). Without a baseline there is no skill to tell
    such a curve from noise, and only the tolerance applies.

    A curve level with or ahead of the best completed trial at the same step is never
    behind: a slow starter that keeps pace is kept, however fast the others settled.
    """
    step = len(values) - 1
    if len(completed) < min_trials:
        return Verdict(False, "", f"{len(completed)} of {min_trials} completed trials")
    here = min(values)
    if leads(values, completed):
        return Verdict(False, "", f"{here:.4g} at step {step}: level with or ahead of the best")
    leader = min(completed, key=lambda t: t.value)
    nearest = sorted(completed, key=lambda t: abs(t.standing(step) - here))[:peers]
    peer_gain = max(t.standing(step) - t.value for t in nearest)
    own_gain = _own_gain(values, horizon)
    luck = slack * (_noise_scale(values[-5:]) if len(values) >= 3 else 0.0)
    end = here - max(peer_gain, own_gain) - luck
    target = leader.value + tolerance * abs(leader.value)
    against = f"best trial {leader.value:.4g} + {tolerance:.0%}"
    ranked = sorted(t.value for t in completed)
    skilled = baseline is not None and here < baseline
    if skilled and len(ranked) >= keep and ranked[keep - 1] > target:
        target, against = ranked[keep - 1], f"trial ranked {keep} of {len(ranked)}"
    if end <= target:
        return Verdict(False, "", f"could reach {end:.4g} <= {target:.4g} ({against})")
    return Verdict(
        True,
        PrunedReason.BEHIND,
        f"{here:.4g} at step {step}; its {len(nearest)} nearest completed trials gained at "
        f"most {peer_gain:.4g} after it, its own descent {own_gain:.4g}, luck {luck:.4g}: "
        f"{end:.4g} > {target:.4g} ({against})",
    )


# The largest ratio of one drop to the one before that a geometric tail is granted: a
# descent that has not slowed could still fall four times its last drop.
MAX_DECAY_RATIO = 0.8


def _own_gain(values: Sequence[float], horizon: int) -> float:
    """What a curve's own descent could still gain: the larger of two continuations.

    - linear: its fall over its last two steps, continued for `horizon` steps, for a noisy
      curve that has just fallen;
    - geometric: the last drop d of its best value so far, continued as a geometric tail
      with the ratio q of that drop to the one before (d q / (1 - q), Aitken's
      extrapolation), q at most `MAX_DECAY_RATIO`, for a steady descent whose end its
      first epochs do not show.
    """
    if len(values) < 2:
        return 0.0
    recent = values[-3:]
    linear = horizon * max(0.0, (recent[0] - recent[-1]) / (len(recent) - 1))
    if len(values) < 3:
        return linear
    best = list(itertools.accumulate(values, min))
    last, before = best[-2] - best[-1], best[-3] - best[-2]
    if last <= 0:
        return linear
    ratio = MAX_DECAY_RATIO if before <= 0 else min(MAX_DECAY_RATIO, last / before)
    return max(linear, last * ratio / (1 - ratio))


def leads(values: Sequence[float], completed: Sequence[Completed]) -> bool:
    """Whether the curve stands level with or ahead of the best completed trial at its step."""
    if not completed:
        return False
    leader = min(completed, key=lambda t: t.value)
    return min(values) <= leader.standing(len(values) - 1)
