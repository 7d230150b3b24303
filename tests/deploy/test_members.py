"""Which trials an export averages, and the study-level refusals before anything trains:
plain data and in-memory studies, no Keras."""

import math

import optuna
import pytest

from tuner.deploy.members import (
    DEFAULT,
    SINGLE,
    ExportPlan,
    Member,
    as_member,
    best_to_export,
    choose,
    plan_members,
)
from tuner.errors import TunerError
from tuner.model.params import ModelParams
from tuner.search import attrs
from tuner.search.space import load_space

A = ModelParams(units=64, seq_len=24, learning_rate=1e-3, batch_size=32)
B = ModelParams(units=32, seq_len=12, learning_rate=3e-3, batch_size=64)
C = ModelParams(units=16, seq_len=6, learning_rate=1e-2, batch_size=16)


def _attrs(params: ModelParams, rates: list, kept) -> dict:
    return {
        attrs.MODEL_PARAMS: params.__dict__,
        attrs.LEARNING_RATES: rates,
        attrs.KEPT_EPOCH: kept,
    }


def _trial(number: int, value: float, params: ModelParams, **changes) -> optuna.trial.FrozenTrial:
    """A completed trial that recorded what a refit replays (two epochs kept)."""
    trial = optuna.trial.create_trial(
        value=value, user_attrs={**_attrs(params, [1e-3, 5e-4], kept=2), **changes}
    )
    trial.number = number
    return trial


def test_the_best_distinct_configurations_best_first():
    trials = [_trial(0, 22.9, A), _trial(1, 22.7, B), _trial(2, 22.8, C)]
    assert [m.trial for m in choose(trials, 2)] == [1, 2]
    assert [m.trial for m in choose(trials, 5)] == [1, 2, 0]  # fewer than asked: all


def test_a_configuration_met_twice_counts_once_at_its_better_value():
    trials = [_trial(0, 22.9, A), _trial(3, 22.6, A), _trial(1, 22.7, B)]
    assert [m.trial for m in choose(trials, 2)] == [3, 1]


def test_equal_values_keep_the_earlier_trial_first():
    assert [m.trial for m in choose([_trial(5, 22.0, A), _trial(2, 22.0, B)], 2)] == [2, 5]


def test_only_completed_trials_with_a_finite_value_and_a_replayable_record_are_members():
    pruned = optuna.trial.create_trial(
        state=optuna.trial.TrialState.PRUNED, user_attrs=_attrs(C, [1e-3], kept=1)
    )
    pruned.number = 4
    trials = [
        _trial(0, math.inf, A),
        _trial(1, 22.9, B),
        _trial(2, 20.0, C, **{attrs.KEPT_EPOCH: None}),  # best, but no refit to replay
        pruned,
    ]
    assert [m.trial for m in choose(trials, 5)] == [1]


def test_a_member_replays_the_epochs_its_trial_kept_at_their_rates():
    member = as_member(7, 22.5, _attrs(A, [1e-3, 1e-3, 5e-4, 2.5e-4], kept=3))
    assert member == Member(7, 22.5, A, (1e-3, 1e-3, 5e-4))
    assert member.epochs == 3


@pytest.mark.parametrize(
    "user_attrs",
    [
        {},  # a study made before tuner recorded rates and kept epochs
        _attrs(A, [1e-3], kept=None),  # no epoch gave a finite value
        _attrs(A, [1e-3], kept=2),  # kept an epoch that was not trained
        _attrs(A, [1e-3], kept=0),
        _attrs(A, [1e-3], kept=True),
        {**_attrs(A, [1e-3], kept=1), attrs.MODEL_PARAMS: {"units": 3}},
    ],
)
def test_a_trial_without_what_a_refit_replays_is_no_member(user_attrs):
    assert as_member(1, 22.0, user_attrs) is None


def test_the_plans():
    assert ExportPlan().refit and ExportPlan().members > 1
    assert SINGLE.single and SINGLE.members == 1
    with pytest.raises(ValueError):
        ExportPlan(members=0)
    with pytest.raises(ValueError, match="one member"):
        ExportPlan(members=3, refit=False)


def _study(*trials: optuna.trial.FrozenTrial, space: str = "lstm_baseline") -> optuna.Study:
    study = optuna.create_study()
    study.set_user_attr(attrs.SPACE, space)
    for trial in trials:
        study.add_trial(trial)
    return study


def test_the_bundle_is_named_after_the_best_trial_the_earlier_of_a_tie():
    study = _study(_trial(0, 22.9, A), _trial(1, 22.5, B), _trial(2, 22.5, C))
    assert best_to_export(study, saved=False).number == 1
    with pytest.raises(TunerError, match="trial 1 of .* has no saved model"):
        best_to_export(study, saved=True)
    with pytest.raises(TunerError, match="no completed trial to export"):
        best_to_export(_study(), saved=False)


def test_a_study_that_did_not_record_how_its_trials_trained_is_refused_before_training():
    """A study from before tuner recorded learning rates and kept epochs: no member can be
    refitted, and the user is told to export the best trial's own model."""
    study = _study(optuna.trial.create_trial(value=20.0, user_attrs={attrs.MODEL_PARAMS: {}}))
    with pytest.raises(TunerError, match="did not record how its trials trained: .* --single"):
        plan_members(study, DEFAULT)


def test_the_training_of_a_study_that_did_not_record_it_is_its_built_in_space_s():
    study = _study(
        optuna.trial.create_trial(value=20.0, user_attrs=_attrs(A, [0.01, 0.005], kept=2))
    )
    members, training = plan_members(study, DEFAULT)
    assert [m.trial for m in members] == [0] and members[0].learning_rates == (0.01, 0.005)
    assert training == load_space("lstm_baseline").training
    study.set_user_attr(attrs.SPACE, "my_own.toml")  # not built in: nothing to fall back on
    with pytest.raises(TunerError, match="--single"):
        plan_members(study, DEFAULT)
