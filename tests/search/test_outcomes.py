"""How trials ended, counted once for `tuner best`, the run's summary, the note and the report;
the best trial, the gain against a baseline and the same configuration, each decided once."""

import math
from dataclasses import asdict

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from tuner.model.params import ModelParams
from tuner.search import attrs
from tuner.search.outcomes import (
    Outcomes,
    against_baseline,
    best_distinct,
    best_trial,
    configuration,
    gain,
    most_first,
    outcomes,
    ranked,
)

PARAMS = ModelParams(units=32, seq_len=24, learning_rate=0.003, batch_size=64)


def test_states_reasons_and_the_best():
    trials = [
        create_trial(value=24.0),
        create_trial(value=23.0),
        create_trial(state=TrialState.PRUNED, user_attrs={attrs.PRUNED_REASON: "noise"}),
        create_trial(state=TrialState.PRUNED),
        create_trial(state=TrialState.FAIL, user_attrs={attrs.FAIL_REASON: "OOM: no memory"}),
        create_trial(state=TrialState.FAIL),
    ]
    tally = outcomes(trials)
    assert tally.states == {"complete": 2, "pruned": 2, "fail": 2}
    assert tally.pruned_reasons == {"noise": 1, "unknown": 1}
    assert tally.fail_reasons == {"OOM": 1, "no heartbeat": 1}
    assert tally.best is trials[1]
    assert (tally.count(TrialState.PRUNED), tally.count(TrialState.RUNNING)) == (2, 0)


def test_nothing_completed_has_no_best():
    assert outcomes([create_trial(state=TrialState.PRUNED)]).best is None
    assert outcomes([]).states == {}


def _numbered(trials):
    study = optuna.create_study()
    for trial in trials:
        study.add_trial(trial)
    return study.get_trials()


def test_the_best_is_the_lowest_finite_value_and_a_tie_goes_to_the_earlier_trial():
    trials = _numbered(
        [
            create_trial(value=23.0),
            create_trial(value=22.0),
            create_trial(state=TrialState.PRUNED, intermediate_values={0: 1.0}),
            create_trial(value=math.inf),
            create_trial(value=22.0),
        ]
    )
    assert [t.number for t in ranked(trials)] == [1, 4, 0]
    assert best_trial(trials).number == 1
    assert best_trial(reversed(trials)).number == 1  # whatever order they come in
    assert best_trial(trials[2:4]) is None


def test_the_trials_in_one_phrase_by_reason_most_first():
    tally = Outcomes(
        states={"complete": 8, "pruned": 3, "fail": 1, "running": 2},
        pruned_reasons={"noise": 1, "behind": 2},
        fail_reasons={"interrupted": 1},
        best=None,
    )
    assert tally.describe() == (
        "8 complete, 3 pruned (2 behind, 1 noise), 1 failed (1 interrupted), 2 running"
    )
    assert Outcomes({}, {}, {}, None).describe() == "0 complete, 0 pruned, 0 failed"
    assert most_first({"b": 1, "a": 1, "c": 2}) == "2 c, 1 a, 1 b"


@pytest.mark.parametrize(
    ("value", "baseline", "expected"),
    [(22.5, 25.0, 0.1), (27.5, 25.0, -0.1), (25.0, 25.0, 0.0)],
)
def test_the_gain_is_a_fraction_of_the_baseline(value, baseline, expected):
    assert gain(value, baseline) == pytest.approx(expected)


@pytest.mark.parametrize("baseline", [0.0, -2.0, math.nan])  # 0: a perfect baseline
def test_no_gain_against_a_baseline_that_is_not_positive(baseline):
    assert gain(1.0, baseline) is None


def test_against_the_baseline_in_every_report_s_words():
    assert against_baseline(22.671, 24.863) == "2.192 (8.8%) better"
    assert against_baseline(26.0, 25.0) == "1.000 (4.0%) worse"
    assert against_baseline(1.0, 0.0) == "1.000 worse"


def test_the_best_distinct_are_the_first_of_each_configuration_in_rank_order():
    ranked = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("d", 5)]
    assert best_distinct(ranked, 3, config=lambda item: item[0]) == [("a", 1), ("b", 2), ("c", 4)]
    assert best_distinct(ranked, 0, config=lambda item: item[0]) == []
    assert len(best_distinct(ranked, 9, config=lambda item: item[0])) == 4


def _trained(units: int, recorded: ModelParams | None) -> optuna.trial.FrozenTrial:
    return create_trial(
        value=23.0,
        params={"units": units},
        distributions={"units": IntDistribution(1, 100)},
        user_attrs={} if recorded is None else {attrs.MODEL_PARAMS: asdict(recorded)},
    )


def test_the_same_configuration_is_the_same_recorded_model_params():
    same = configuration(_trained(32, PARAMS))
    assert configuration(_trained(32, PARAMS)) == same
    assert same == PARAMS  # what the export's members compare
    # A value the space fixed, which Optuna's params do not hold, tells two apart.
    other = ModelParams(units=32, seq_len=48, learning_rate=0.003, batch_size=64)
    assert configuration(_trained(32, other)) != same


def test_a_trial_that_recorded_no_model_params_is_compared_by_optuna_s_params():
    assert configuration(_trained(32, None)) == configuration(_trained(32, None))
    assert configuration(_trained(32, None)) != configuration(_trained(33, None))
