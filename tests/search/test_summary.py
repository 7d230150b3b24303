"""What a run prints at its end: the study, the best against the baselines, what next."""

import optuna

from tuner.search import attrs
from tuner.search.location import StudyLocation
from tuner.search.summary import RunSummary, summarize


def _summary(**given) -> RunSummary:
    fields = dict(
        study_name="beijing-lstm_baseline",
        storage="sqlite:///results/tuner.db",
        next_command="tuner export --storage postgresql://tuner@db-host/studies --study beijing",
        complete=97,
        pruned=3,
        failed=0,
        best_value=22.922,
        best_trial=71,
        persistence_val_rmse=24.863,
        seconds=2492.4,
        unit="µg/m³",
    )
    return RunSummary(**{**fields, **given})


def test_a_run_s_summary_names_the_storage_the_best_against_persistence_and_what_next():
    assert _summary().describe().splitlines() == [
        "study 'beijing-lstm_baseline' in sqlite:///results/tuner.db: 97 complete, 3 pruned, "
        "0 failed (2492 s)",
        "best: trial 71, validation RMSE 22.922 µg/m³, 7.8% better than persistence 24.863 µg/m³",
        "next: tuner export --storage postgresql://tuner@db-host/studies --study beijing",
    ]


def test_a_summary_without_a_completed_trial_or_a_known_unit():
    text = _summary(best_value=None, best_trial=None, unit=None, interrupted=True).describe()
    assert text.splitlines()[1] == "no completed trial yet; persistence 24.863"
    assert text.startswith("interrupted: ") and "next:" not in text


def test_the_best_stands_against_gradient_boosting_too_when_the_study_has_it():
    line = _summary(boosting_val_rmse=22.5).describe().splitlines()[1]
    assert line.endswith(
        "7.8% better than persistence 24.863 µg/m³, 1.9% worse than gradient boosting 22.500"
    )


def test_the_summary_reads_the_study(tmp_path):
    study = optuna.create_study()
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, 25.0)
    study.set_user_attr(attrs.BOOSTING_VAL_RMSE, 22.0)
    study.add_trial(optuna.trial.create_trial(value=23.0))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED))
    location = StudyLocation.of(f"sqlite:///{tmp_path / 'tuner.db'}", None, environ={})
    summary = summarize(study, location, seconds=3.0)
    assert (summary.complete, summary.pruned, summary.failed) == (1, 1, 0)
    assert (summary.best_value, summary.best_trial) == (23.0, 0)
    assert (summary.persistence_val_rmse, summary.boosting_val_rmse) == (25.0, 22.0)
    assert summary.next_command.startswith(f"tuner export --storage sqlite:///{tmp_path}/")


def test_a_summary_of_several_steps_shows_the_first_and_last_beside_persistence(tmp_path):
    study = optuna.create_study()
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, 25.0)
    study.set_user_attr(attrs.FREQ, "D")
    study.set_user_attr(attrs.BASELINES_VAL_BY_STEP, {"persistence": [20.0, 30.0]})
    study.add_trial(
        optuna.trial.create_trial(value=23.0, user_attrs={attrs.VAL_RMSE_BY_STEP: [18.0, 27.0]})
    )
    location = StudyLocation.of(f"sqlite:///{tmp_path / 'tuner.db'}", None, environ={})
    lines = summarize(study, location).describe().splitlines()
    assert lines[2] == (
        "by step: best 18.000 at 1 day to 27.000 at 2 days ahead, persistence 20.000 at 1 day "
        "to 30.000 at 2 days; tuner best shows each step"
    )


def test_a_single_step_summary_has_no_line_by_step(tmp_path):
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(value=23.0))
    location = StudyLocation.of(f"sqlite:///{tmp_path / 'tuner.db'}", None, environ={})
    assert summarize(study, location).by_step is None
