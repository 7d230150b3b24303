"""`NoiseAwarePruner` in plain Optuna studies (no Keras), on synthetic families of curves.

Each case runs completed histories of fast or of slow learners, then a new curve, in a study
that minimises or maximises, with or without a baseline attribute. The rules:
- nothing level with or ahead of the best completed trial at the same step is pruned;
- a learned-then-overfit curve that reached the best is left to early stopping;
- no-skill noise is pruned, most of it by its fifth epoch (in a study of slow learners, a
  few noisy curves look like a slow start for a while); a diverging curve at its first NaN.
"""

import math

import numpy as np
import optuna
import pytest

from tuner import NoiseAwarePruner
from tuner.search import attrs

EPOCHS = 20
BASELINE = 24.8  # the persistence RMSE such curves are compared with
SETTINGS = [
    (direction, baseline, history)
    for direction in ("minimize", "maximize")
    for baseline in (True, False)
    for history in ("fast", "slow")
]
IDS = [f"{d}-{'baseline' if b else 'no-baseline'}-{h}" for d, b, h in SETTINGS]


def _history(kind: str) -> list[list[float]]:
    """Six completed learners ending between 23.3 and 24.3, settling fast or slowly."""
    rate = 1.2 if kind == "fast" else 0.25
    return [
        [23.3 + 0.2 * j + (15 + 2 * j) * math.exp(-rate * e) for e in range(EPOCHS)]
        for j in range(6)
    ]


def _study(direction: str, baseline: bool, history: str) -> optuna.Study:
    sign = 1.0 if direction == "minimize" else -1.0
    study = optuna.create_study(direction=direction, pruner=NoiseAwarePruner())
    if baseline:
        study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, sign * BASELINE)
    for curve in _history(history):
        study.add_trial(
            optuna.trial.create_trial(
                value=sign * min(curve),
                intermediate_values={s: sign * v for s, v in enumerate(curve)},
            )
        )
    return study


def _run(study: optuna.Study, curve: list[float]) -> tuple[int | None, str]:
    """Report `curve` (in RMSE terms) until pruned: (the step it was pruned at, why)."""
    sign = 1.0 if study.direction == optuna.study.StudyDirection.MINIMIZE else -1.0
    trial = study.ask()
    for step, value in enumerate(curve):
        trial.report(sign * value, step)
        if trial.should_prune():
            frozen = study.trials[trial.number]
            return step, study.pruner.verdict(study, frozen).reason
    study.tell(trial, sign * min(curve))
    return None, ""


def _ahead(history: str, rng: np.random.Generator, noise: float) -> list[float]:
    """Level with or ahead of the best completed trial at every step, noise and all."""
    leader = np.minimum.accumulate(_history(history)[0])
    return list(leader - 0.05 - np.abs(rng.normal(0, noise, EPOCHS)))


@pytest.mark.parametrize(("direction", "baseline", "history"), SETTINGS, ids=IDS)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_a_curve_that_keeps_pace_with_the_best_is_never_pruned(direction, baseline, history, noise):
    rng = np.random.default_rng(1)
    for _ in range(10):
        assert _run(_study(direction, baseline, history), _ahead(history, rng, noise)) == (None, "")


@pytest.mark.parametrize(("direction", "baseline", "history"), SETTINGS, ids=IDS)
@pytest.mark.parametrize("knee", [0, 4])
def test_a_decay_that_ends_best_and_keeps_pace_is_kept(direction, baseline, history, knee):
    """Clean and noisy decays, starting at once or after a plateau, ending below the others."""
    rng = np.random.default_rng(2)
    leader = np.minimum.accumulate(_history(history)[0])
    for noise in (0.0, 0.3):
        study = _study(direction, baseline, history)
        shape = [23.0 + 17 * math.exp(-0.6 * max(0, e - knee)) for e in range(EPOCHS)]
        ahead = np.minimum(shape, leader - 0.01) - np.abs(rng.normal(0, noise, EPOCHS))
        assert _run(study, list(ahead)) == (None, "")


@pytest.mark.parametrize(("direction", "baseline", "history"), SETTINGS, ids=IDS)
def test_a_curve_that_learned_the_best_then_overfits_is_left_to_early_stopping(
    direction, baseline, history
):
    leader = np.minimum.accumulate(_history(history)[0])
    bottom = int(np.argmax(leader <= leader[-1] + 0.01))
    curve = list(leader - 0.05)
    curve[bottom + 1 :] = [curve[bottom] + 0.3 * k for k in range(1, EPOCHS - bottom)]
    assert _run(_study(direction, baseline, history), curve) == (None, "")


@pytest.mark.parametrize(("direction", "baseline", "history"), SETTINGS, ids=IDS)
def test_no_skill_white_noise_is_pruned_mostly_by_its_fifth_epoch(direction, baseline, history):
    rng = np.random.default_rng(3)
    study = _study(direction, baseline, history)
    steps = [_run(study, list(31 + rng.normal(0, 1.0, EPOCHS)))[0] for _ in range(30)]
    assert None not in steps, steps
    assert np.mean([step <= 4 for step in steps]) >= 0.85, steps


@pytest.mark.parametrize(("direction", "baseline", "history"), SETTINGS, ids=IDS)
def test_no_skill_random_walks_are_pruned_mostly_by_their_fifth_epoch(direction, baseline, history):
    rng = np.random.default_rng(4)
    study = _study(direction, baseline, history)
    steps = [_run(study, list(31 + np.cumsum(rng.normal(0, 0.7, EPOCHS))))[0] for _ in range(30)]
    early = [step is not None and step <= 4 for step in steps]
    assert np.mean(early) >= 0.9, steps


@pytest.mark.parametrize(("direction", "baseline", "history"), SETTINGS, ids=IDS)
def test_a_diverging_curve_is_pruned_at_its_first_nan(direction, baseline, history):
    curve = [40.0, 35.0, math.nan, math.nan]
    assert _run(_study(direction, baseline, history), curve) == (2, "diverged")
