"""One trial for real: Keras training on the Beijing windows, reported to an in-memory study."""

import math
from dataclasses import replace

import optuna
import pytest

from tests.conftest import FAST_SPACE
from tuner.data.prepared import prepare
from tuner.model.params import TrainingSettings
from tuner.search import attrs
from tuner.search.cost import COSTLY, CostRule, epoch_cost
from tuner.search.objective import Objective
from tuner.search.pruner import NoiseAwarePruner
from tuner.search.space import ParamSpec, load_space

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def data(beijing_spec):
    return prepare(beijing_spec)


@pytest.fixture
def objective(data, tmp_path):
    from tuner.search.stores import open_store

    def make(max_epochs: int = 2, lr_patience: int = 0, space=None, cost=None) -> Objective:
        space = space or load_space(FAST_SPACE)
        training = replace(
            space.training, max_epochs=max_epochs, patience=max_epochs, lr_patience=lr_patience
        )
        store = open_store(tmp_path / "artifacts")
        return Objective(data, space, training, seed=0, store=store, cost=cost)

    return make


def test_trial_reports_val_rmse_per_epoch_and_keeps_the_best(objective):
    study = optuna.create_study(pruner=NoiseAwarePruner())
    study.optimize(objective(), n_trials=2)
    first, second = study.trials
    assert first.state == optuna.trial.TrialState.COMPLETE
    assert first.user_attrs[attrs.EPOCHS] == len(first.intermediate_values) == 2
    assert len(first.user_attrs[attrs.LEARNING_RATES]) == 2
    assert len(first.user_attrs[attrs.EPOCH_SECONDS]) == 2
    assert all(s > 0 for s in first.user_attrs[attrs.EPOCH_SECONDS])
    kept = first.user_attrs[attrs.KEPT_EPOCH]
    assert first.intermediate_values[kept - 1] == first.value
    assert first.value == min(first.intermediate_values.values())
    assert 10 < first.value < 200  # µg/m³, not a scaled loss
    assert attrs.ARTIFACT_ID in first.user_attrs  # the first trial is the best so far
    if second.value >= first.value:
        assert attrs.ARTIFACT_ID not in second.user_attrs
    assert first.user_attrs[attrs.MODEL_PARAMS]["seq_len"] in (6, 12)
    assert attrs.VAL_RMSE_BY_STEP not in first.user_attrs  # one step: the value says it all


def _rival(value: float, epoch_seconds: list[float], **user_attrs) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(
        value=value, user_attrs={attrs.EPOCH_SECONDS: epoch_seconds, **user_attrs}
    )


def test_a_trial_that_a_much_cheaper_one_matched_is_costly_to_the_sampler(objective):
    """Only completed originals are rivals: a replicate that cost nothing is not one."""
    study = optuna.create_study()
    study.add_trial(_rival(1.0, [3.0, 1e-4, 1e-4], **{attrs.REPLICATE_OF: 0}))
    study.optimize(objective(cost=CostRule()), n_trials=1)
    assert study.trials[-1].constraints == {COSTLY: 0.0}  # a replicate is no rival
    study.add_trial(_rival(1.0, [3.0, 1e-4, 1e-4]))  # as good as any, and next to free
    study.optimize(objective(cost=CostRule()), n_trials=1)
    costly = study.trials[-1]
    assert costly.constraints[COSTLY] > 0
    seconds = epoch_cost(costly.user_attrs[attrs.EPOCH_SECONDS])
    assert costly.constraints[COSTLY] == pytest.approx(seconds / (2 * 1e-4) - 1)
    study.optimize(objective(), n_trials=1)  # --ignore-cost
    assert study.trials[-1].constraints == {}


@pytest.mark.parametrize("lr_patience", [0, 1])
def test_learning_rate_halves_after_each_epoch_without_a_better_val_loss(
    objective, data, lr_patience
):
    space = load_space(FAST_SPACE)
    fast_rate = ParamSpec("learning_rate", "fixed", choices=(0.05,))  # too fast to settle
    # Raw weights, and 12 epochs: an averaged or shorter curve can improve in every epoch,
    # leaving no halving to check.
    space = replace(
        space,
        params={**space.params, "learning_rate": fast_rate},
        training=replace(space.training, ema_momentum=0),
    )
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    study.optimize(objective(max_epochs=12, lr_patience=lr_patience, space=space), n_trials=1)
    trial = study.trials[0]
    best, halvings = math.inf, 0
    for rmse in trial.intermediate_values.values():
        val_mse = (rmse / data.target_std) ** 2
        if val_mse < best - 1e-4:  # ReduceLROnPlateau's default min_delta
            best = val_mse
        elif lr_patience:
            halvings += 1
    assert halvings or not lr_patience, "no epoch without a better val loss: nothing shown"
    expected = 0.05 * 0.5**halvings
    assert trial.user_attrs[attrs.FINAL_LEARNING_RATE] == pytest.approx(expected, rel=1e-5)


def test_pruned_trial_says_why(objective):
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=1.0))
    study.optimize(objective(), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs[attrs.PRUNED_REASON] == "ThresholdPruner"
    assert trial.user_attrs[attrs.EPOCHS] == 1


def test_noise_prune_carries_its_figures(objective):
    """A pruner that calls every curve noise: its verdict reaches the trial's attributes."""
    noise = NoiseAwarePruner(warmup_steps=3, noise_steps=3, min_drop=1e9)
    study = optuna.create_study(pruner=noise)
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, 1.0)  # no model beats 1 µg/m³: no skill
    study.optimize(objective(max_epochs=6), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs[attrs.PRUNED_REASON] == "noise"
    assert "reference 1" in trial.user_attrs[attrs.PRUNED_DETAIL]
    assert trial.user_attrs[attrs.EPOCHS] == 3


def test_diverged_trial_says_why(data):
    """A learning rate that overflows the weights: pruned as diverged after its first epoch."""
    from dataclasses import replace

    from tuner.search.space import ParamSpec

    space = load_space(FAST_SPACE)
    exploding = ParamSpec("learning_rate", "fixed", choices=(1e30,))
    objective = Objective(
        data,
        replace(space, params=dict(space.params, learning_rate=exploding)),
        TrainingSettings(max_epochs=3, patience=3),
    )
    study = optuna.create_study(pruner=NoiseAwarePruner())
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs[attrs.PRUNED_REASON] == "diverged"
    assert "epoch 1" in trial.user_attrs[attrs.PRUNED_DETAIL]


def test_a_trial_of_several_steps_records_each_step_s_rmse_and_notes_it(beijing_spec, tmp_path):
    """Each step's val RMSE of the kept weights; together, the trial's value."""
    from optuna_dashboard import get_note

    data = prepare(replace(beijing_spec, horizon=3, every_step=True))
    space = load_space(FAST_SPACE)
    training = replace(space.training, max_epochs=2, patience=2, lr_patience=0)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/s.db")
    study.set_user_attr(attrs.BASELINES_VAL_BY_STEP, {"persistence": [25.0, 35.0, 41.0]})
    study.optimize(Objective(data, space, training, seed=0), n_trials=1)
    (trial,) = study.trials
    by_step = trial.user_attrs[attrs.VAL_RMSE_BY_STEP]
    assert len(by_step) == 3 and by_step[0] < by_step[-1]
    overall = math.sqrt(sum(v**2 for v in by_step) / 3)
    assert overall == pytest.approx(trial.value, rel=1e-4)
    note = get_note(optuna.Trial(study, trial._trial_id))
    assert "| step | ahead | trial | persistence |" in note
    assert f"| 3 | 3 hours | {by_step[2]:.3f} | 41.000 |" in note
