"""The dashboard's texts: the metric's name, the study's note, a pruned trial's note."""

import math
from types import SimpleNamespace

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState, create_trial

from tuner.data.sources import BEIJING, DataSpec
from tuner.data.split import Split
from tuner.search import attrs
from tuner.search.location import StudyLocation
from tuner.search.notes import (
    Best,
    Periods,
    StudyReview,
    export_command,
    metric_name,
    name_metric,
    periods,
    pruned_note,
    review,
    save_note,
    steps_note,
    study_note,
)
from tuner.search.pruner import Verdict

BEIJING_SPEC = DataSpec(
    path="/data/PRSA.csv",
    name="beijing",
    sha256=BEIJING.sha256,
    target="pm2.5",
    val_start="2013-01-01",
    test_start="2014-01-01",
)
SALES = DataSpec(path="sales.csv", name="sales", sha256="ab" * 32, target="units", horizon=6)
PERIODS = Periods(
    train=("2010-01-01 00:00", "2012-12-31 23:00"),
    val=("2013-01-01 00:00", "2013-12-31 23:00"),
    test_start="2014-01-01 00:00",
)
EXPORT = "tuner export --storage postgresql://tuner@db-host/studies --study beijing-lstm_baseline"


def _review(**changes) -> StudyReview:
    fields = dict(
        study_name="beijing-lstm_baseline",
        data=BEIJING_SPEC,
        periods=PERIODS,
        baseline=24.863,
        best=Best(82, 22.922, {"units": 117, "seq_len": 24, "learning_rate": 0.00281}),
        states={"complete": 67, "pruned": 33},
        pruned_reasons={"noise": 13, "behind": 20},
        fail_reasons={},
        export=EXPORT,
    )
    return StudyReview(**{**fields, **changes})


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        (BEIJING_SPEC, "validation RMSE (µg/m³)"),
        (DataSpec("/data/PRSA.csv", "beijing", BEIJING.sha256, "TEMP"), "validation RMSE of TEMP"),
        (SALES, "validation RMSE of units"),
    ],
)
def test_the_metric_has_its_unit_or_names_its_target(spec, name):
    assert metric_name(spec) == name


def test_the_study_note_says_what_was_found_and_how():
    assert study_note(_review()) == (
        "**Best validation RMSE (µg/m³): 22.922**, trial 82 (units=117, seq_len=24, "
        "learning_rate=0.00281): 1.941 (7.8%) better than persistence.\n"
        "\n"
        "- **Persistence** (the value 1 hour earlier as the forecast): "
        "validation RMSE (µg/m³) 24.863\n"
        "- **Trials**: 67 complete, 33 pruned (20 behind, 13 noise), 0 failed\n"
        f"- **Data**: `/data/PRSA.csv`, sha256 `{BEIJING.sha256}`; target `pm2.5`, 1 hour ahead\n"
        "- **Split**: train 2010-01-01 00:00 to 2012-12-31 23:00; validation 2013-01-01 00:00 "
        "to 2013-12-31 23:00; test from 2014-01-01 00:00, scored only by export\n"
        f"- **Export** the best model: `{EXPORT}`\n"
    )


def test_the_note_names_the_gradient_boosting_baseline_when_the_study_has_one():
    text = study_note(_review(boosting=22.547))
    assert text.splitlines()[0].endswith(
        "1.941 (7.8%) better than persistence, 0.375 (1.7%) worse than gradient boosting."
    )
    assert "fitted once on the training rows): validation RMSE (µg/m³) 22.547\n" in text


def test_a_study_with_nothing_completed_interrupted_and_still_running_elsewhere():
    text = study_note(
        _review(
            data=SALES,
            best=None,
            states={"pruned": 1, "fail": 2, "running": 1},
            pruned_reasons={"diverged": 1},
            fail_reasons={"interrupted": 1, "no heartbeat": 1},
            interrupted=True,
        )
    )
    assert text.startswith("**No completed trial yet.**\n")
    assert "validation RMSE of units 24.863" in text
    assert "0 complete, 1 pruned (1 diverged), 2 failed (1 interrupted, 1 no heartbeat), " in text
    assert "1 running" in text and "6 hours ahead" in text and "6 hours earlier" in text
    assert text.endswith("_The last run was interrupted: the same `tuner run` resumes it._\n")


def test_a_best_worse_than_persistence_says_so():
    text = study_note(_review(best=Best(0, 25.0, {"units": 8})))
    assert "trial 0 (units=8): 0.137 (0.6%) worse than persistence" in text


@pytest.mark.parametrize(
    ("verdict", "best", "expected"),
    [
        (
            Verdict(True, "noise", "drop 0.1 < 3 x noise 0.2; best 26 >= reference 24.9"),
            26.0,
            "**Pruned (noise)**: its curve looks like noise: no downward trend, and no skill to "
            "show.\n\n`drop 0.1 < 3 x noise 0.2; best 26 >= reference 24.9`\n\n"
            "Stopped after epoch 5; its best validation RMSE (µg/m³): 26.000.\n",
        ),
        (
            Verdict(True, "diverged", "loss nan, val_loss nan at epoch 1"),
            math.inf,
            "**Pruned (diverged)**: its loss became NaN or infinite.\n\n"
            "`loss nan, val_loss nan at epoch 1`\n\nStopped after epoch 5.\n",
        ),
        (
            Verdict(True, "MedianPruner", ""),
            25.5,
            "**Pruned (MedianPruner)**: stopped by MedianPruner.\n\n"
            "Stopped after epoch 5; its best validation RMSE (µg/m³): 25.500.\n",
        ),
    ],
)
def test_a_pruned_trial_says_why_with_its_figures(verdict, best, expected):
    assert pruned_note(verdict, 5, best, "validation RMSE (µg/m³)") == expected


def test_the_export_command_works_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    local = StudyLocation.of("sqlite:///results/tuner.db", None, environ={})
    assert export_command(local, "beijing-lstm_baseline") == (
        f"tuner export --storage sqlite:///{tmp_path}/results/tuner.db "
        "--study beijing-lstm_baseline"
    )
    server = StudyLocation.of("postgresql://me:secret@db/tuner", None, environ={})
    shared = export_command(server, "my study")
    assert shared == "tuner export --storage 'postgresql://me:***@db/tuner' --study 'my study'"


def test_the_periods_are_the_first_and_last_hours_of_each_part():
    index = pd.date_range("2020-01-01", periods=10 * 24, freq="h")
    split = Split(pd.Timestamp("2020-01-08"), pd.Timestamp("2020-01-10"))
    searched = index[index < split.test_start]  # the test rows are dropped while searching
    assert periods(searched, split) == Periods(
        train=("2020-01-01 00:00", "2020-01-07 23:00"),
        val=("2020-01-08 00:00", "2020-01-09 23:00"),
        test_start="2020-01-10 00:00",
    )


def test_a_study_is_named_once_and_a_named_one_keeps_its_name():
    study = optuna.create_study()
    name_metric(study, BEIJING_SPEC)
    name_metric(study, SALES)
    assert study.metric_names == ["validation RMSE (µg/m³)"]


def test_the_review_reads_the_study_and_the_note_is_what_the_dashboard_reads(tmp_path):
    from optuna_dashboard import get_note

    study = optuna.create_study(study_name="sales-fast")
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, 10.0)
    params = {"units": 8, "seq_len": 6, "learning_rate": 0.01, "batch_size": 256}
    study.add_trial(create_trial(value=9.0, params={}, user_attrs={attrs.MODEL_PARAMS: params}))
    study.add_trial(
        create_trial(state=TrialState.PRUNED, user_attrs={attrs.PRUNED_REASON: "behind"})
    )
    index = pd.date_range("2020-01-01", periods=10 * 24, freq="h")
    split = Split(pd.Timestamp("2020-01-08"), pd.Timestamp("2020-01-10"))
    data = SimpleNamespace(
        spec=SALES, index=index[index < split.test_start], split=split, step=pd.Timedelta("1h")
    )
    location = StudyLocation.of(f"sqlite:///{tmp_path}/t.db", None, environ={})
    reviewed = review(study, data, location, interrupted=True)
    assert reviewed.best == Best(0, 9.0, params)
    assert (reviewed.baseline, reviewed.interrupted) == (10.0, True)
    assert reviewed.states == {"complete": 1, "pruned": 1}
    assert reviewed.pruned_reasons == {"behind": 1}
    assert reviewed.periods.test_start == "2020-01-10 00:00"
    assert reviewed.export.endswith(f"{tmp_path}/t.db --study sales-fast")
    save_note(study, study_note(reviewed))
    assert get_note(study) == study_note(reviewed)


def test_the_note_says_what_the_replicates_measured():
    noise = "the seed alone moved the best 3 configurations by up to 0.080 (median 0.050)"
    text = study_note(_review(noise=noise))
    assert f"- **Noise floor**: {noise}\n" in text
    assert "Noise floor" not in study_note(_review())


QUARTERS = DataSpec(
    path="load.csv", name="load", sha256="cd" * 32, target="load", horizon=3, every_step=True
)
BASELINES_BY_STEP = {
    "persistence": (10.0, 14.0, 17.0),
    "seasonal": (20.0, 20.5, 21.0),
    "boosting": (9.0, 12.0, 15.0),
}


def test_a_study_of_several_steps_words_them_by_the_series_step_and_shows_each():
    text = study_note(
        _review(
            data=QUARTERS,
            step=pd.Timedelta("15min"),
            by_step=(8.0, 11.0, 13.5),
            baselines_by_step=BASELINES_BY_STEP,
            seasonal=20.5,
        )
    )
    assert "- **Persistence** (the value at the origin as the forecast of every step): " in text
    assert "- **Seasonal naive** (the value 1 day before each target): " in text
    assert "every step of 15 minutes up to 45 minutes ahead (3 steps)\n" in text
    table = text[text.index("**By step**") :].splitlines()
    assert table[0] == "**By step** (validation RMSE of load):"
    assert table[2] == "| step | ahead | best | persistence | seasonal naive | gradient boosting |"
    assert table[4] == "| 1 | 15 minutes | 8.000 | 10.000 | 20.000 | 9.000 |"
    assert table[6] == "| 3 | 45 minutes | 13.500 | 17.000 | 21.000 | 15.000 |"


def test_one_step_ahead_is_worded_by_the_step_and_shows_no_table():
    text = study_note(_review(data=SALES, step=pd.Timedelta("1D"), seasonal=3.0))
    assert "the value 6 days earlier as the forecast" in text and "6 days ahead\n" in text
    assert "By step" not in text and "Seasonal" not in text


def test_a_baseline_without_every_step_is_left_out_of_the_table():
    note = steps_note((8.0, 11.0, 13.5), {"persistence": (10.0, 14.0)}, pd.Timedelta("1h"))
    assert note.splitlines()[2] == "| step | ahead | trial |"
    assert "| 2 | 2 hours | 11.000 |" in note


def test_a_long_horizon_shows_a_selection_of_its_steps():
    rmse = tuple(float(i) for i in range(96))
    lines = steps_note(rmse, {}, pd.Timedelta("15min")).splitlines()
    rows = [line for line in lines if line.startswith("| ") and "step" not in line]
    assert rows[0].startswith("| 1 | 15 minutes |") and rows[-1].startswith("| 96 | 1 day |")
    assert (
        len(rows) == 20
        and lines[-1] == "_20 of 96 steps shown; `tuner best --json` has every one._"
    )


def test_the_review_of_several_steps_reads_the_best_trial_and_the_baselines_by_step():
    study = optuna.create_study(study_name="load-lstm_baseline")
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, 14.0)
    study.set_user_attr(attrs.SEASONAL_VAL_RMSE, 20.5)
    study.set_user_attr(
        attrs.BASELINES_VAL_BY_STEP, {k: list(v) for k, v in BASELINES_BY_STEP.items()}
    )
    by_step = {attrs.VAL_RMSE_BY_STEP: [8.0, 11.0, 13.5]}
    study.add_trial(create_trial(value=11.0, user_attrs=by_step))
    index = pd.date_range("2020-01-01", periods=10 * 96, freq="15min")
    split = Split(pd.Timestamp("2020-01-08"), pd.Timestamp("2020-01-10"))
    data = SimpleNamespace(spec=QUARTERS, index=index, split=split, step=pd.Timedelta("15min"))
    reviewed = review(study, data, StudyLocation.of("sqlite:///t.db", None, environ={}))
    assert reviewed.by_step == (8.0, 11.0, 13.5) and reviewed.seasonal == 20.5
    assert reviewed.baselines_by_step == BASELINES_BY_STEP
    assert reviewed.step == pd.Timedelta("15min")
