import math

import numpy as np
import optuna
import pytest

from tuner import NoiseAwarePruner, noise_verdict
from tuner.search import attrs
from tuner.search.pruner import Completed, behind_verdict

BASELINE = 24.8
_rng = np.random.default_rng(7)
WHITE_NOISE = list(30 + _rng.normal(0, 1.0, 8))
RANDOM_WALK = list(30 + np.cumsum(_rng.normal(0, 1.0, 8)))
NOISY_DECREASING = [40, 36, 38, 32, 34, 29, 30, 27]


@pytest.mark.parametrize(
    "values, reason",
    [
        ([40, 30, 27, 26, 25.5, 25.2], ""),  # clean decay, no skill yet: kept by its trend
        (WHITE_NOISE, "noise"),  # flat white noise
        (RANDOM_WALK, "noise"),  # random walk
        (NOISY_DECREASING, ""),  # noisy but clearly decreasing
        ([40, 30, 28, 27.5, 28, 29, 30, 31], ""),  # learned, then overfit: early stopping's job
        ([24.5, 24.6, 24.4, 24.7, 24.5], ""),  # noise, but below the baseline: skill
        ([30.0, 30.0, 30.0, 30.0, 30.0], "noise"),  # dead flat
        ([30, 29, 31, 30], ""),  # too short to judge
        ([30, math.nan, 29, 28], "diverged"),
        ([30, 29, math.inf], "diverged"),
    ],
)
def test_noise_verdict(values, reason):
    verdict = noise_verdict(values, BASELINE)
    assert verdict.reason == reason
    assert verdict.prune is (reason != "")
    assert verdict.detail


def test_noise_verdict_without_reference_cannot_rule_out_skill():
    assert not noise_verdict(WHITE_NOISE, None).prune


def test_noise_verdict_reports_its_figures():
    detail = noise_verdict([30.0, 30.5, 29.8, 30.2, 30.1], BASELINE).detail
    assert "24.8" in detail and "noise" in detail


def _study(direction="minimize", baseline=None, pruner=None):
    study = optuna.create_study(direction=direction, pruner=pruner or NoiseAwarePruner())
    if baseline is not None:
        study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, baseline)
    return study


def _report(trial, values):
    for step, value in enumerate(values):
        trial.report(value, step)


def test_pruner_uses_the_study_baseline():
    study = _study(baseline=BASELINE)
    trial = study.ask()
    _report(trial, WHITE_NOISE[:5])
    assert trial.should_prune()
    assert study.pruner.verdict(study, study.trials[0]).reason == "noise"


def test_pruner_calls_nothing_noise_before_noise_steps():
    study = _study(baseline=BASELINE)
    trial = study.ask()
    _report(trial, WHITE_NOISE[:4])
    assert not trial.should_prune()  # four values: the noise unit is not yet trusted
    trial.report(WHITE_NOISE[4], 4)
    assert trial.should_prune()


def test_pruner_without_baseline_compares_with_completed_trials():
    study = _study()
    noisy = study.ask()
    _report(noisy, WHITE_NOISE[:5])
    assert not noisy.should_prune()  # nothing to compare with yet
    study.tell(noisy, state=optuna.trial.TrialState.PRUNED)
    study.add_trial(optuna.trial.create_trial(value=20.0, intermediate_values={0: 20.0}))
    trial = study.ask()
    _report(trial, WHITE_NOISE[:5])
    assert trial.should_prune()


def test_pruner_maximizing_study_mirrors_the_curve():
    study = _study(direction="maximize", baseline=-BASELINE)
    trial = study.ask()
    _report(trial, [-v for v in WHITE_NOISE[:5]])
    assert trial.should_prune()
    good = study.ask()
    _report(good, [-40, -30, -27, -26, -25.5])
    assert not good.should_prune()


def _completed(curves):
    """Completed trials whose value is the best of their curve, as early stopping keeps it."""
    return [Completed(tuple(c), min(c)) for c in curves]


FAST = [[23 + 0.2 * j + (17 + j) * math.exp(-1.5 * e) for e in range(12)] for j in range(6)]


@pytest.mark.parametrize(
    ("values", "pruned"),
    [
        ([30.4, 30.0, 29.8], True),  # nearly flat, far above every peer's end
        ([40.0, 30.0, 25.0], False),  # still falling fast: its own descent could get there
        ([23.5, 23.2, 23.1], False),  # level with the best at the same step
        ([40.0, 30.0, 23.4], False),  # within the tolerance of the best end
    ],
)
def test_behind_verdict(values, pruned):
    verdict = behind_verdict(values, _completed(FAST))
    assert verdict.prune is pruned and verdict.reason == ("behind" if pruned else "")
    assert verdict.detail


def test_behind_verdict_explains_itself_with_its_figures():
    detail = behind_verdict([30.4, 30.0, 29.8], _completed(FAST)).detail
    assert "29.8 at step 2" in detail and "best trial 23" in detail and "+ 1%" in detail


def test_a_skilled_curve_that_could_end_among_the_best_few_is_kept():
    """Completed trials that end 2-13% apart: a settled curve 4% behind the best, but third
    of them, is finished when it beats the baseline, and pruned otherwise."""
    ends = (23, 23.5, 24, 25, 26, 27)
    spread = [[end + 10 * math.exp(-1.5 * e) for e in range(12)] for end in ends]
    settled = [24.0 + 0.05 * math.exp(-e) for e in range(6)]
    kept = behind_verdict(settled, _completed(spread), baseline=BASELINE)
    assert not kept.prune and "trial ranked 5 of 6" in kept.detail
    for verdict in (
        behind_verdict(settled, _completed(spread)),
        behind_verdict(settled, _completed(spread), baseline=23.5),
        behind_verdict(settled, _completed(spread), baseline=BASELINE, keep=1),
    ):
        assert verdict.prune and "best trial 23 + 1%" in verdict.detail


def test_a_steady_descent_is_judged_by_its_own_pace_not_by_neighbours_that_settled():
    """Completed trials that settled by epoch 5; a curve 5% behind at step 4 that has not
    slowed yet is kept, and the same curve slowing down is pruned."""
    settled = [[end + 0.1 * math.exp(-0.7 * e) for e in range(15)] for end in (1.075, 1.08, 1.09)]
    steady = [1.186, 1.167, 1.156, 1.144, 1.127]
    slowing = [1.186, 1.150, 1.137, 1.131, 1.127]
    assert not behind_verdict(steady, _completed(settled)).prune
    assert behind_verdict(slowing, _completed(settled)).prune


def test_behind_verdict_waits_for_enough_completed_trials():
    assert not behind_verdict([30.4, 30.0, 29.8], _completed(FAST[:2])).prune
    assert behind_verdict([30.4, 30.0, 29.8], _completed(FAST[:3])).prune


def test_a_completed_trial_that_stopped_early_stands_at_its_end():
    trial = Completed((30.0, 25.0, 24.0), 24.0)
    assert (trial.standing(0), trial.standing(1), trial.standing(9)) == (30.0, 25.0, 24.0)


def _finished(curve, value=None):
    return optuna.trial.create_trial(
        value=min(curve) if value is None else value,
        intermediate_values=dict(enumerate(curve)),
    )


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_a_slow_starter_ahead_of_slow_learners_is_kept_to_the_end(noise):
    """The completed trials follow 23 + 0.2j + (17 + j) exp(-0.35 epoch), j = 0..5; the new
    one, 23 + 17 exp(-0.4 epoch), is ahead of them all at every epoch and ends the best."""
    rng = np.random.default_rng(0)
    study = _study(baseline=BASELINE)
    for j in range(6):
        study.add_trial(
            _finished([23 + 0.2 * j + (17 + j) * math.exp(-0.35 * e) for e in range(20)])
        )
    trial = study.ask()
    for step in range(20):
        trial.report(23 + 17 * math.exp(-0.4 * step) + rng.normal(0, noise), step)
        assert not trial.should_prune(), study.pruner.verdict(study, study.trials[-1])


def test_pruner_keeps_a_good_trial_among_others():
    study = _study(baseline=BASELINE)
    for _ in range(5):
        study.add_trial(
            optuna.trial.create_trial(
                value=26.0, intermediate_values={s: 32.0 - s for s in range(5)}
            )
        )
    trial = study.ask()
    _report(trial, [30, 26, 25, 24.5, 24.2])
    assert not trial.should_prune()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"warmup_steps": 1},
        {"noise_steps": 2},
        {"min_drop": 0.0},
        {"min_drop": -1},
        {"horizon": -1},
        {"tolerance": -0.1},
        {"min_trials": 0},
        {"peers": 0},
        {"slack": -1},
        {"keep": 0},
    ],
)
def test_pruner_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        NoiseAwarePruner(**kwargs)


def test_pruner_with_its_defaults_in_a_plain_optuna_study():
    """As a user's own study would run it: optimize, report, should_prune, TrialPruned."""
    rng = np.random.default_rng(3)
    descent = 30 + 10 * np.exp(-np.arange(12) / 2) + rng.normal(0, 0.2, 12)
    noise = 45 + rng.normal(0, 2, 12)  # no trend, far above the other trial
    curves = [descent, noise]

    def objective(trial: optuna.Trial) -> float:
        for step, value in enumerate(curves[trial.number]):
            trial.report(float(value), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(min(curves[trial.number]))

    study = optuna.create_study(pruner=NoiseAwarePruner())
    study.optimize(objective, n_trials=len(curves))
    kept, stopped = study.trials
    assert kept.state == optuna.trial.TrialState.COMPLETE and len(kept.intermediate_values) == 12
    assert stopped.state == optuna.trial.TrialState.PRUNED
    assert len(stopped.intermediate_values) <= 5


def test_noise_verdict_rates_on_simulated_curves():
    """The verdict's two error rates on many seeded curves of five epochs."""
    rng = np.random.default_rng(0)
    steps = np.arange(5)
    noise = [noise_verdict(list(30 + rng.normal(0, 1, 5)), BASELINE).prune for _ in range(500)]
    decay = [
        noise_verdict(list(30 + 10 * np.exp(-steps / 2) + rng.normal(0, 1, 5)), BASELINE).prune
        for _ in range(500)
    ]
    assert np.mean(noise) >= 0.85
    assert np.mean(decay) <= 0.01
