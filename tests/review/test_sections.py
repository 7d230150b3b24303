"""What the report's page says: the search's facts as `tuner best` counts them, and what the
exported bundle holds in `BundleMetadata.describe`'s words. In-memory studies, no Keras."""

from dataclasses import asdict, replace

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState, create_trial

from tests.deploy.test_bundle import META
from tuner.deploy.metadata import BundleMember, StepScores
from tuner.model.params import ModelParams
from tuner.review.best import best_report, format_report
from tuner.review.fates import counts, curves
from tuner.review.forecasts import StepForecasts
from tuner.review.sections import model_facts, model_section, search_facts
from tuner.search import attrs
from tuner.search.attrs import PrunedReason
from tuner.search.outcomes import most_first, outcomes

PARAMS = ModelParams(units=32, seq_len=24, learning_rate=0.003, batch_size=64)


def _study(persistence: float | None = 25.0, boosting: float | None = None) -> optuna.Study:
    """Two trials tied for the best, and trials pruned and failed for every kind of reason,
    some of several words."""
    study = optuna.create_study()
    for key, value in (
        (attrs.PERSISTENCE_VAL_RMSE, persistence),
        (attrs.BOOSTING_VAL_RMSE, boosting),
    ):
        if value is not None:
            study.set_user_attr(key, value)
    for units, value in ((16, 24.0), (32, 23.0), (64, 23.0)):
        recorded = asdict(replace(PARAMS, units=units))
        study.add_trial(create_trial(value=value, user_attrs={attrs.MODEL_PARAMS: recorded}))
    pruned = ["noise", "behind", "behind", "diverged", "behind-best", "worse-than-median",
              "MedianPruner", "behind-the-times", None]  # fmt: skip
    failed = [attrs.INTERRUPTED, attrs.error_reason("ValueError", "bad: shape (3,)"),
              attrs.error_reason("ValueError", "other"), "OOM: no memory", None]  # fmt: skip
    for state, reasons, key in (
        (TrialState.PRUNED, pruned, attrs.PRUNED_REASON),
        (TrialState.FAIL, failed, attrs.FAIL_REASON),
    ):
        for reason in reasons:
            user_attrs = {} if reason is None else {key: reason}
            study.add_trial(
                create_trial(state=state, intermediate_values={0: 30.0}, user_attrs=user_attrs)
            )
    return study


def test_the_report_and_tuner_best_count_each_reason_alike():
    study = _study()
    best = best_report(study)
    assert best["pruned_reasons"] == {
        "behind": 4, "noise": 1, "diverged": 1, "MedianPruner": 1, "behind-the-times": 1,
        "unknown": 1,
    }  # fmt: skip
    assert best["fail_reasons"] == {"interrupted": 1, "ValueError": 2, "OOM": 1, "no heartbeat": 1}
    # The learning curves' colours.
    fates = counts(curves(study.get_trials()))
    for reason in PrunedReason:
        assert fates.get(reason, 0) == best["pruned_reasons"].get(reason, 0)
    others = sum(n for r, n in best["pruned_reasons"].items() if r not in set(PrunedReason))
    assert fates["pruned"] == others
    assert fates["failed"] == sum(best["fail_reasons"].values())
    assert fates["completed"] == best["trials"]["complete"]
    # The page's line of trials, and `tuner best`'s lines, name the same counts.
    trials = dict(search_facts(study.user_attrs, outcomes(study.get_trials())))["trials"]
    text = format_report(best)
    for reasons in (best["pruned_reasons"], best["fail_reasons"]):
        assert f"({most_first(reasons)})" in trials
        assert most_first(reasons) in text


def test_the_best_fact_is_the_earlier_of_two_tied_trials_against_each_baseline():
    facts = dict(search_facts(_study(boosting=22.5).user_attrs, outcomes(_study().get_trials())))
    assert (
        facts["best"]
        == "trial 1: 23.000 (units=32, seq_len=24, learning_rate=0.003, batch_size=64)"
    )
    assert facts["persistence"] == "25.000; the best trial is 2.000 (8.0%) better"
    assert facts["gradient boosting"] == "22.500; the best trial is 0.500 (2.2%) worse"


def test_without_a_completed_trial_the_baselines_stand_alone():
    study = optuna.create_study()
    study.add_trial(create_trial(state=TrialState.PRUNED))
    facts = dict(search_facts({attrs.PERSISTENCE_VAL_RMSE: 25.0}, outcomes(study.get_trials())))
    assert "best" not in facts and facts["persistence"] == "25.000"
    assert facts["trials"] == "0 complete, 1 pruned (1 unknown), 0 failed"


def _forecast(steps: tuple[int, ...] = (1,)) -> StepForecasts:
    """Three weeks of hourly origins; the model 1 off at every step."""
    origins = pd.date_range("2014-01-01", periods=24 * 21, freq="h")
    t = np.arange(len(origins))[:, None] + np.asarray(steps)[None, :]
    observed = 50 + 20 * np.sin(t / 6)
    naive = {"persistence": np.repeat(observed[:, :1] - 20 * np.sin(1 / 6), len(steps), 1)}
    return StepForecasts(origins, steps, pd.Timedelta(hours=1), observed, observed + 1.0, naive)


def test_the_bundle_is_said_in_the_bundle_s_own_words(tmp_path):
    members = (BundleMember(41, PARAMS, 9), BundleMember(7, replace(PARAMS, units=16), 5))
    for meta in (META, replace(META, members=members[:1]), replace(META, members=members)):
        bundle = dict(model_facts(tmp_path, meta, _forecast()))["bundle"]
        assert bundle == f"{tmp_path} ({meta.describe()}, {meta.backend} backend)"
        assert "taught" not in bundle


def test_a_single_step_model_section_is_as_it_was(tmp_path):
    section = model_section(tmp_path, META, _forecast(), unit="µg/m³")
    assert [p.name for p in section.plots] == ["test_weeks", "test_by_hour"]
    facts = dict(section.facts)
    assert facts["test RMSE"].endswith("over 504 observed hours from 2014-01-01")
    assert "test RMSE by step" not in facts
    assert "forecast 1 hour ahead, and persistence" in section.plots[0].caption


def test_every_step_adds_the_error_by_step_and_its_figures(tmp_path):
    steps = tuple(range(1, 25))
    meta = replace(
        META,
        horizon=24,
        every_step=True,
        test_rmse_by_step=(1.0,) * 24,
        baselines_test={"boosting": StepScores(5.0, tuple(float(s) for s in steps))},
    )
    section = model_section(tmp_path, meta, _forecast(steps), unit="µg/m³")
    assert [p.name for p in section.plots] == ["test_weeks", "test_by_hour", "test_by_step"]
    assert section.plots[2].png.startswith(b"\x89PNG")
    assert "1 hour ahead (its first step)" in section.plots[0].caption
    facts = dict(section.facts)
    assert "forecasting every step from 1 to 24 hours ahead" in facts["bundle"]
    assert facts["test RMSE"].endswith("over 504 observed origins from 2014-01-01")
    by_step = facts["test RMSE by step"].split("; ")
    assert [part.split(":")[0] for part in by_step] == [
        "1 hour ahead", "12 hours ahead", "24 hours ahead",
    ]  # fmt: skip
    assert by_step[0].startswith("1 hour ahead: model 1.000, persistence ")
    assert by_step[-1].endswith("gradient boosting 24.000")


def test_a_daily_model_section_has_no_hours_of_day(tmp_path):
    origins = pd.date_range("2014-01-01", periods=120, freq="D")
    observed = 50 + 20 * np.sin(np.arange(len(origins)) / 6)[:, None]
    daily = StepForecasts(
        origins, (1,), pd.Timedelta(days=1), observed, observed + 1.0, {"persistence": observed}
    )
    section = model_section(tmp_path, replace(META, freq="D"), daily, unit=None)
    assert [p.name for p in section.plots] == ["test_weeks"]
