"""How trials ended, counted once for `tuner best`, the run's summary and the study's note."""

from optuna.trial import TrialState, create_trial

from tuner.search import attrs
from tuner.search.outcomes import against_baseline, best_distinct, outcomes


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


def test_against_the_baseline_in_every_report_s_words():
    assert against_baseline(22.671, 24.863) == "2.192 (8.8%) better"
    assert against_baseline(26.0, 25.0) == "1.000 (4.0%) worse"


def test_the_best_distinct_are_the_first_of_each_configuration_in_rank_order():
    ranked = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("d", 5)]
    assert best_distinct(ranked, 3, config=lambda item: item[0]) == [("a", 1), ("b", 2), ("c", 4)]
    assert best_distinct(ranked, 0, config=lambda item: item[0]) == []
    assert len(best_distinct(ranked, 9, config=lambda item: item[0])) == 4
