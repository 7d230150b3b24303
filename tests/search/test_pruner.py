import math

import numpy as np
import optuna
import pytest

from tuner import NoiseAwarePruner, noise_verdict
from tuner.search.pruner import reachable

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
        study.set_user_attr("baseline_val_rmse", baseline)
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


def _others(study, final, curve):
    for _ in range(5):
        study.add_trial(
            optuna.trial.create_trial(
                value=final, intermediate_values={s: v for s, v in enumerate(curve)}
            )
        )


def test_pruner_prunes_clearly_worse_than_median():
    study = optuna.create_study(pruner=NoiseAwarePruner(tolerance=1e9))  # no behind-best
    study.set_user_attr("baseline_val_rmse", BASELINE)
    _others(study, 22.0, [30.0 - 2 * s for s in range(5)])
    trial = study.ask()
    _report(trial, [60, 50, 45, 42, 40])  # learning, but far behind everyone at each epoch
    assert trial.should_prune()
    verdict = study.pruner.verdict(study, study.trials[-1])
    assert verdict.reason == "worse-than-median"
    assert "median 22" in verdict.detail


def test_worse_than_median_is_judged_against_the_median_optuna_used():
    """Optuna's MedianPruner compares with completed trials only; pruned ones do not count."""
    study = optuna.create_study(pruner=NoiseAwarePruner(tolerance=1e9))
    study.set_user_attr("baseline_val_rmse", BASELINE)
    _others(study, 22.0, [30.0 - 2 * s for s in range(5)])
    for _ in range(6):
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.PRUNED, intermediate_values={4: 100.0}
            )
        )
    trial = study.ask()
    _report(trial, [60, 50, 45, 42, 40])
    assert trial.should_prune()
    assert "vs median 22," in study.pruner.verdict(study, study.trials[-1]).detail


def test_pruner_prunes_what_cannot_reach_the_best():
    study = _study(baseline=BASELINE)
    _others(study, 22.0, [30.0 - 2 * s for s in range(5)])
    trial = study.ask()
    _report(trial, [24.6, 24.0, 23.9, 24.1, 24.0])  # skilled, flat, 9% behind the best
    assert trial.should_prune()
    verdict = study.pruner.verdict(study, study.trials[-1])
    assert verdict.reason == "behind-best" and "22.66" in verdict.detail  # 22 + 3%


def test_with_a_horizon_a_slow_starter_that_is_still_falling_fast_is_kept():
    """By default a curve is judged where it stands; a horizon extrapolates its descent."""
    slow_start = [60, 45, 34]  # far behind at the end of the warm-up, closing in quickly
    for horizon, pruned in ((0, True), (3, False)):
        study = _study(baseline=BASELINE, pruner=NoiseAwarePruner(horizon=horizon))
        _others(study, 22.0, [30.0 - 2 * s for s in range(5)])
        trial = study.ask()
        _report(trial, slow_start)
        assert study.pruner.prune(study, study.trials[-1]) is pruned


@pytest.mark.parametrize(
    "values, target, horizon, expected",
    [
        ([30, 28, 26], 20, 3, True),  # falling 2 per step: 26 - 6 = 20
        ([30, 28, 26], 20, 2, False),
        ([30, 26, 27], 20, 3, False),  # rising last: judged where it stands, best 26
        ([30, 31, 29.5, 30], 29.5, 0, True),
    ],
)
def test_reachable(values, target, horizon, expected):
    assert reachable(values, target, horizon=horizon) is expected


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
        {"warmup_steps": 2},
        {"noise_steps": 2},
        {"min_drop": 0.0},
        {"min_drop": -1},
        {"horizon": -1},
        {"tolerance": -0.1},
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
