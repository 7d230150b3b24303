import pytest

from tuner.errors import TunerError
from tuner.search.cost import CostRule, epoch_cost, excess

RULE = CostRule(ratio=2.0, margin=0.003)


def test_an_epoch_costs_the_median_of_those_after_the_first():
    assert epoch_cost([9.0, 1.0, 3.0, 2.0]) == 2.0  # the first compiled
    assert epoch_cost([4.0]) == 4.0
    assert epoch_cost([]) is None and epoch_cost(None) is None


def test_costly_when_a_much_cheaper_trial_scored_as_well():
    assert excess(22.72, 2.4, [(22.73, 0.3)], RULE) == pytest.approx(2.4 / 0.6 - 1)


def test_a_cheaper_rival_must_be_ratio_times_cheaper():
    assert excess(22.72, 2.4, [(22.70, 1.5)], RULE) < 0
    assert excess(22.72, 2.4, [(22.70, 1.1)], RULE) > 0


def test_a_clearly_better_trial_is_never_costly():
    """Better than every cheaper trial by more than the margin: TPE should follow it."""
    assert excess(22.60, 9.0, [(22.70, 0.1), (23.5, 0.05)], RULE) <= 0


def test_the_margin_is_a_fraction_of_the_trial_s_value():
    assert excess(100.0, 4.0, [(100.29, 1.0)], RULE) > 0
    assert excess(100.0, 4.0, [(100.31, 1.0)], RULE) <= 0


def test_the_cheapest_rival_sets_how_far_over():
    assert excess(22.0, 4.0, [(22.0, 1.0), (22.0, 0.5)], RULE) == pytest.approx(3.0)


def test_untimed_trials_are_neither_costly_nor_rivals():
    assert excess(22.0, None, [(22.0, 0.1)], RULE) == 0.0
    assert excess(22.0, 4.0, [(22.0, None), (22.0, 0.0)], RULE) == 0.0
    assert excess(22.0, 4.0, [], RULE) == 0.0


@pytest.mark.parametrize("ratio, margin", [(1.0, 0.003), (0.5, 0.0), (2.0, -0.1), (2.0, 1.0)])
def test_a_rule_that_means_nothing_is_refused(ratio, margin):
    with pytest.raises(TunerError):
        CostRule(ratio, margin)
