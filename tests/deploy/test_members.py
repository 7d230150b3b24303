"""Which trials an export averages: plain data, no Keras."""

import pytest

from tuner.deploy.members import SINGLE, ExportPlan, Member, as_member, choose
from tuner.model.params import ModelParams
from tuner.search import attrs

A = ModelParams(units=64, seq_len=24, learning_rate=1e-3, batch_size=32)
B = ModelParams(units=32, seq_len=12, learning_rate=3e-3, batch_size=64)
C = ModelParams(units=16, seq_len=6, learning_rate=1e-2, batch_size=16)


def _member(trial: int, value: float, params: ModelParams) -> Member:
    return Member(trial, value, params, (1e-3, 5e-4))


def _attrs(params: ModelParams, rates: list, kept) -> dict:
    return {
        attrs.MODEL_PARAMS: params.__dict__,
        attrs.LEARNING_RATES: rates,
        attrs.KEPT_EPOCH: kept,
    }


def test_the_best_distinct_configurations_best_first():
    candidates = [_member(0, 22.9, A), _member(1, 22.7, B), _member(2, 22.8, C)]
    assert [m.trial for m in choose(candidates, 2)] == [1, 2]
    assert [m.trial for m in choose(candidates, 5)] == [1, 2, 0]  # fewer than asked: all


def test_a_configuration_met_twice_counts_once_at_its_better_value():
    candidates = [_member(0, 22.9, A), _member(3, 22.6, A), _member(1, 22.7, B)]
    assert [m.trial for m in choose(candidates, 2)] == [3, 1]


def test_equal_values_keep_the_earlier_trial_first():
    assert [m.trial for m in choose([_member(5, 22.0, A), _member(2, 22.0, B)], 2)] == [2, 5]


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
    assert ExportPlan().teacher == 0.0 and ExportPlan(teacher=0.75).teacher == 0.75
    for weight in (-0.5, 1.01, float("nan")):
        with pytest.raises(ValueError, match="between 0 and 1"):
            ExportPlan(teacher=weight)
