"""The noise floor from replicates: which trials are trained again, and what they measured."""

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from tuner.search import attrs
from tuner.search.replicates import (
    MIN_FINISHED,
    NoiseFloor,
    describe,
    noise_floor,
    to_replicate,
    within,
)

UNITS = {"units": IntDistribution(1, 1000)}


def _trial(number, value, units, state=TrialState.COMPLETE, replicate_of=None):
    user_attrs = {} if replicate_of is None else {attrs.REPLICATE_OF: replicate_of}
    trial = create_trial(
        state=state,
        value=value if state == TrialState.COMPLETE else None,
        params={"units": units},
        distributions=UNITS,
        user_attrs=user_attrs,
    )
    trial.number = number
    return trial


def _search(values):
    """A finished search: trial i has `values[i]` and units 10 + i."""
    return [_trial(i, v, 10 + i) for i, v in enumerate(values)]


VALUES = [23.0, 22.5, 22.9, 22.6, 22.55, 23.4, 23.1, 22.8, 22.7, 23.3]


def test_the_best_distinct_originals_not_yet_replicated():
    assert [t.number for t in to_replicate(_search(VALUES), 3)] == [1, 4, 3]
    twin = _trial(10, 22.52, units=11)  # trial 1's configuration met again
    assert [t.number for t in to_replicate([*_search(VALUES), twin], 3)] == [1, 4, 3]


def test_a_replicate_waiting_running_or_finished_counts_and_a_failed_one_does_not():
    trials = _search(VALUES)
    for state in (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE):
        replicate = _trial(10, 22.58, 11, state=state, replicate_of=1)
        assert [t.number for t in to_replicate([*trials, replicate], 3)] == [4, 3]
    failed = _trial(10, None, 11, state=TrialState.FAIL, replicate_of=1)
    assert [t.number for t in to_replicate([*trials, failed], 3)] == [1, 4, 3]


def test_a_replicate_is_never_replicated_itself():
    trials = [*_search(VALUES), _trial(10, 22.1, 11, replicate_of=1)]  # luckier than all
    assert 10 not in [t.number for t in to_replicate(trials, 5)]


def test_configurations_are_told_apart_by_what_the_trials_recorded_and_a_tie_by_number():
    trials = _search(VALUES)
    fixed = {"units": 11, "seq_len": 24, "learning_rate": 0.003, "batch_size": 64}
    for number, seq_len in ((1, 24), (10, 48), (11, 24)):
        trial = _trial(number, 22.5, units=11)  # the same Optuna params, tied for the best
        trial.user_attrs[attrs.MODEL_PARAMS] = {**fixed, "seq_len": seq_len}
        trials[number : number + 1] = [trial]
    # 10 differs from 1 by a value the space fixed; 11 is 1's configuration met again.
    assert [t.number for t in to_replicate(trials, 3)] == [1, 10, 4]


def test_nothing_among_too_few_trials_or_when_none_are_asked():
    assert to_replicate(_search(VALUES[: MIN_FINISHED - 1]), 3) == []
    assert to_replicate(_search(VALUES), 0) == []


def test_the_floor_is_the_largest_move_and_the_trials_within_it_of_the_best():
    trials = [
        *_search(VALUES),
        _trial(10, 22.62, 11, replicate_of=1),  # moved 0.12
        _trial(11, 22.58, 14, replicate_of=4),  # moved 0.03
        _trial(12, None, 13, state=TrialState.PRUNED, replicate_of=3),  # no value: no pair
    ]
    floor = noise_floor(trials)
    assert floor.pairs == ((1, 22.5, 22.62), (4, 22.55, 22.58))
    assert floor.floor == pytest.approx(0.12) and floor.median == pytest.approx(0.075)
    assert within(trials, floor) == [1, 4, 11, 3, 10]  # 22.5 .. 22.62
    text = describe(floor, within(trials, floor), " µg/m³")
    assert text == (
        "the seed alone moved the best 2 configurations by up to 0.120 µg/m³ (median 0.075); "
        "within that of the best: 5 trials (1, 4, 11, 3, 10)"
    )


def test_a_long_list_of_trials_within_the_floor_is_counted_and_cut():
    floor = NoiseFloor(((1, 22.5, 22.6),))
    text = describe(floor, list(range(20)))
    assert text.endswith("within that of the best: 20 trials (0, 1, 2, 3, 4, 5, 6, 7, …)")
    assert describe(floor, [1]).endswith("within that of the best: 1 trial (1)")


def test_no_floor_before_a_replicate_completed():
    assert noise_floor(_search(VALUES)) is None
    waiting = _trial(10, None, 11, state=TrialState.WAITING, replicate_of=1)
    assert noise_floor([*_search(VALUES), waiting]) is None


def test_the_floor_as_plain_data():
    floor = NoiseFloor(((1, 22.5, 22.6),))
    assert floor.to_dict() == {
        "floor": pytest.approx(0.1),
        "median": pytest.approx(0.1),
        "pairs": [{"trial": 1, "value": 22.5, "replicate": 22.6}],
    }


def test_an_enqueued_replicate_carries_its_tag_to_the_trial_that_runs_it():
    """What the objective reads to never prune a replicate: Optuna's own enqueue."""
    study = optuna.create_study()
    study.enqueue_trial({"units": 11}, user_attrs={attrs.REPLICATE_OF: 1})
    trial = study.ask(UNITS)
    assert trial.params == {"units": 11} and trial.user_attrs == {attrs.REPLICATE_OF: 1}
