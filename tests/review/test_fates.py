"""How each trial ended, read from its state and the reasons tuner stored."""

import math

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from tuner.review.fates import counts, curves, fate
from tuner.search import attrs


@pytest.mark.parametrize(
    ("state", "user_attrs", "expected"),
    [
        (TrialState.COMPLETE, {}, "completed"),
        (TrialState.PRUNED, {attrs.PRUNED_REASON: "noise"}, "noise"),
        (TrialState.PRUNED, {attrs.PRUNED_REASON: "behind"}, "behind"),
        (TrialState.PRUNED, {attrs.PRUNED_REASON: "behind-best"}, "behind"),  # earlier pruner
        (TrialState.PRUNED, {attrs.PRUNED_REASON: "diverged"}, "diverged"),
        (TrialState.PRUNED, {attrs.PRUNED_REASON: "MedianPruner"}, "pruned"),
        (TrialState.PRUNED, {attrs.PRUNED_REASON: "worse-than-median"}, "behind"),  # earlier
        (TrialState.PRUNED, {attrs.PRUNED_REASON: "behind-the-times"}, "pruned"),  # read whole
        (TrialState.PRUNED, {}, "pruned"),
        (TrialState.FAIL, {attrs.FAIL_REASON: "interrupted"}, "failed"),
        (TrialState.FAIL, {}, "failed"),  # failed by the heartbeat
        (TrialState.RUNNING, {}, None),
        (TrialState.WAITING, {}, None),
    ],
)
def test_fate(state, user_attrs, expected):
    assert fate(state, user_attrs) == expected


def _trial(state, values, **user_attrs):
    kwargs = {"value": min(values)} if state == TrialState.COMPLETE else {}
    return create_trial(
        state=state,
        intermediate_values=dict(enumerate(values)),
        user_attrs=user_attrs,
        **kwargs,
    )


def test_curves_keep_finite_values_in_step_order_and_skip_unfinished_trials():
    study = optuna.create_study()
    study.add_trial(_trial(TrialState.COMPLETE, [30.0, 25.0, 24.0]))
    study.add_trial(_trial(TrialState.PRUNED, [40.0, math.nan], pruned_reason="diverged"))
    study.add_trial(_trial(TrialState.FAIL, [], fail_reason="OOM: no memory"))
    study.add_trial(_trial(TrialState.PRUNED, [28.0, 29.0, 27.5], pruned_reason="noise"))
    study.ask()  # running
    found = curves(study.get_trials())
    assert [(c.number, c.fate) for c in found] == [
        (0, "completed"),
        (1, "diverged"),
        (2, "failed"),
        (3, "noise"),
    ]
    assert found[0].steps == (0, 1, 2) and found[0].values == (30.0, 25.0, 24.0)
    assert found[1].values == (40.0,) and found[2].values == ()
    assert counts(found) == {"completed": 1, "noise": 1, "diverged": 1, "failed": 1}
