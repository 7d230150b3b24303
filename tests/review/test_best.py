"""`tuner best`: the best trial against persistence, and why the others stopped."""

import dataclasses
import json

import optuna
from optuna.trial import TrialState, create_trial

from tuner.review.best import best_report, format_report
from tuner.search import attrs


def _study() -> optuna.Study:
    study = optuna.create_study()
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, 25.0)
    params = {"units": 32, "seq_len": 24, "learning_rate": 0.003, "batch_size": 64}
    study.add_trial(create_trial(value=24.0, user_attrs={attrs.MODEL_PARAMS: params}))
    best = {**params, "units": 64}
    study.add_trial(
        create_trial(
            value=23.0,
            user_attrs={attrs.MODEL_PARAMS: best, attrs.EPOCHS: 9, attrs.EPOCH_SECONDS: [4, 2, 1]},
        )
    )
    for reason in ("behind", "behind", "noise"):
        study.add_trial(
            create_trial(state=TrialState.PRUNED, user_attrs={attrs.PRUNED_REASON: reason})
        )
    study.add_trial(
        create_trial(state=TrialState.FAIL, user_attrs={attrs.FAIL_REASON: "OOM: no memory"})
    )
    study.add_trial(create_trial(state=TrialState.FAIL))  # failed by the heartbeat
    return study


def test_best_against_the_baseline_and_the_reasons():
    report = best_report(_study())
    assert report["best"]["trial"] == 1 and report["best"]["params"]["units"] == 64
    assert report["best"]["vs_baseline"] == 2.0 and report["best"]["vs_baseline_pct"] == 8.0
    assert report["trials"] == {"complete": 2, "pruned": 3, "fail": 2}
    assert report["pruned_reasons"] == {"behind": 2, "noise": 1}
    assert report["fail_reasons"] == {"OOM": 1, "no heartbeat": 1}


def test_the_text_says_the_same():
    text = format_report(best_report(_study()))
    assert "best trial 1: val RMSE 23.000, 2.000 (8.0%) better" in text
    assert "pruned: 2 behind, 1 noise" in text


def test_the_gradient_boosting_baseline_stands_beside_persistence_when_the_study_has_one():
    study = _study()
    assert best_report(study)["boosting_val_rmse"] is None
    assert "gradient" not in format_report(best_report(study))
    study.set_user_attr(attrs.BOOSTING_VAL_RMSE, 22.5)
    report = best_report(study)
    assert report["boosting_val_rmse"] == 22.5
    text = format_report(report)
    assert "gradient-boosting baseline: val RMSE 22.500" in text
    assert "better than persistence, 0.500 (2.2%) worse than gradient boosting" in text


def test_the_top_trials_as_a_table_best_first():
    lines = format_report(best_report(_study(), top=10)).splitlines()
    table = lines[lines.index("") + 1 :]
    assert table[0].split() == [
        "rank", "trial", "val", "RMSE", "vs", "persistence", "epochs", "s/epoch",
        "units", "seq_len", "learning_rate", "batch_size", "model", "artifact",
    ]  # fmt: skip
    assert table[1].split() == [
        "1", "1", "23.000", "-8.0%", "9", "1.50", "64", "24", "0.003", "64", "-",
    ]  # fmt: skip
    assert table[2].split()[:6] == ["2", "0", "24.000", "-4.0%", "-", "-"] and len(table) == 3


def test_a_costly_trial_is_marked():
    study = _study()
    study.add_trial(
        create_trial(
            value=23.5,
            user_attrs={attrs.EPOCH_SECONDS: [9.0, 8.0]},
            system_attrs={"constraints:costly": 15.0},
        )
    )
    report = best_report(study)
    assert [row["costly"] for row in report["top"]] == [False, True, False]
    lines = format_report(report).splitlines()
    assert lines[-3].split()[:2] == ["2", "7c"] and lines[-1].startswith("c costly: ")


def test_top_holds_the_list_and_a_known_unit_labels_it(beijing_spec):
    study = _study()
    study.set_user_attr(attrs.DATA, dataclasses.asdict(beijing_spec))
    report = best_report(study, top=1)
    assert [row["trial"] for row in report["top"]] == [1] and report["unit"] == "µg/m³"
    assert "val RMSE (µg/m³)" in format_report(report)


def test_a_study_with_nothing_completed():
    study = optuna.create_study()
    study.add_trial(create_trial(state=TrialState.PRUNED))
    report = best_report(study)
    assert report["best"] is None
    assert "no completed trial yet" in format_report(report)


def test_a_study_without_a_baseline_still_shows_its_best_and_valid_json():
    study = optuna.create_study()
    study.add_trial(create_trial(value=23.0, user_attrs={attrs.MODEL_PARAMS: {"units": 8}}))
    report = best_report(study)
    assert report["best"]["vs_baseline"] is None and report["best"]["vs_baseline_pct"] is None
    json.loads(json.dumps(report, allow_nan=False))
    text = format_report(report)
    assert "best trial 0: val RMSE 23.000\n" in text and "baseline" not in text


def _steps_study(steps: int = 3) -> optuna.Study:
    study = _study()
    study.set_user_attr(attrs.FREQ, "15min")
    study.set_user_attr(attrs.SEASONAL_VAL_RMSE, 30.0)
    study.set_user_attr(
        attrs.BASELINES_VAL_BY_STEP,
        {
            "persistence": [20.0 + i for i in range(steps)],
            "seasonal": [30.0] * steps,
            "boosting": [19.0 + i for i in range(steps)],
        },
    )
    by_step = [18.0 + i for i in range(steps)]
    study.add_trial(create_trial(value=22.0, user_attrs={attrs.VAL_RMSE_BY_STEP: by_step}))
    return study


def test_several_steps_show_the_best_s_rmse_of_each_beside_the_baselines():
    report = best_report(_steps_study())
    assert report["step"] == "15 minutes" and report["seasonal_val_rmse"] == 30.0
    assert report["by_step"] == {
        "best": [18.0, 19.0, 20.0],
        "persistence": [20.0, 21.0, 22.0],
        "seasonal": [30.0, 30.0, 30.0],
        "boosting": [19.0, 20.0, 21.0],
    }
    assert report["best"]["val_rmse_by_step"] == [18.0, 19.0, 20.0]
    json.loads(json.dumps(report, allow_nan=False))
    lines = format_report(report).splitlines()
    assert "seasonal naive baseline: val RMSE 30.000" in lines
    start = lines.index("by step (val RMSE; 3 steps of 15 minutes, best trial 7):")
    assert lines[start + 1].split() == [
        "step", "ahead", "best", "persistence", "seasonal", "naive", "gradient", "boosting",
    ]  # fmt: skip
    assert lines[start + 3].split() == [
        "2",
        "30",
        "minutes",
        "19.000",
        "21.000",
        "30.000",
        "20.000",
    ]
    assert lines[start + 4].split()[:3] == ["3", "45", "minutes"] and lines[start + 5] == ""


def test_a_day_of_quarter_hours_lists_a_selection_and_says_so():
    lines = format_report(best_report(_steps_study(96))).splitlines()
    assert "20 of 96 steps shown; --json has every one" in lines
    assert any(line.split()[:3] == ["96", "1", "day"] for line in lines)


def test_a_single_step_study_says_nothing_by_step():
    report = best_report(_study())
    assert report["by_step"] is None and report["step"] == "1 hour"
    assert "by step" not in format_report(report) and "seasonal" not in format_report(report)
