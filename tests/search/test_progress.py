import datetime
import io

import optuna
import pytest

from tuner.search.progress import FINISHED, RECENT, Progress, pace, seconds_per_trial


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _study():
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(value=3.0))
    pruned = study.ask()
    pruned.set_user_attr("pruned_reason", "noise")
    study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
    return study


def test_log_lines_when_not_a_terminal():
    stream, study, clock = io.StringIO(), _study(), Clock()
    progress = Progress(10, stream=stream, clock=clock)
    progress.start([])
    clock.now += 60
    for trial in study.trials:
        progress.show(trial)
    assert stream.getvalue().splitlines()[-1] == (
        "[2/10] trial 1 pruned (noise) after ? epochs; pruned 1, best 3.000; 30 s/trial, 4 min left"
    )


def test_trials_shown_together_get_their_own_counts():
    """Two workers' trials that finish between two polls: [1/10] then [2/10], not [2/10] twice."""
    stream, study = io.StringIO(), optuna.create_study()
    progress = Progress(10, stream=stream)
    progress.start(study.get_trials(states=FINISHED))
    study.add_trial(optuna.trial.create_trial(value=3.0))
    study.add_trial(optuna.trial.create_trial(value=2.0))
    for trial in study.trials:
        progress.show(trial)
    assert [line.split()[0] for line in stream.getvalue().splitlines()] == ["[1/10]", "[2/10]"]


def test_a_resumed_study_counts_on_and_times_this_run_s_trials_only():
    stream, study, clock = io.StringIO(), _study(), Clock()
    progress = Progress(10, stream=stream, clock=clock)
    progress.start(study.get_trials(states=FINISHED))
    clock.now += 120
    study.add_trial(optuna.trial.create_trial(value=1.0))
    progress.show(study.trials[-1])
    line = stream.getvalue()
    assert line.startswith("[3/10] trial 2 complete 1.000")
    assert line.endswith("; 2 min/trial, 14 min left\n")


def test_pace():
    assert pace(None, 10) == ""
    assert pace(3600, 96) == "; 60 min/trial, 96.0 h left"
    assert pace(5, 0) == "; 5 s/trial, 0 s left"


def test_the_mean_pace_until_the_trials_tell_more():
    assert seconds_per_trial(50.0, [], []) is None
    assert seconds_per_trial(60.0, [0.0, 0.0], [False, False]) == 30.0  # untimed
    assert seconds_per_trial(60.0, [10.0, 30.0], [False, False]) == 30.0  # all are recent


def test_the_recent_trials_the_sampler_keeps_set_the_pace():
    """Two workers: 10 trials of 20 s each in 100 s of wall time, 10 s of it per trial."""
    early, late = [20.0] * 10, [20.0] * 10
    assert seconds_per_trial(200.0, early + late, [False] * 20) == 10.0
    cheaper = [5.0] * RECENT  # the search went on at a quarter of the early trials' length
    assert seconds_per_trial(125.0, early + cheaper, [False] * 20) == pytest.approx(2.5)
    costly = [True] * 10 + [False] * 10  # not where the sampler will draw again
    assert seconds_per_trial(125.0, early + cheaper, costly) == pytest.approx(2.5)
    assert seconds_per_trial(125.0, cheaper + early, [False] * 10 + [True] * 10) == (
        pytest.approx(2.5)
    )


def _timed(trial, seconds: float, costly: float = 0.0):
    trial.datetime_start = trial.datetime_complete - datetime.timedelta(seconds=seconds)
    trial.system_attrs = {**trial.system_attrs, "constraints:costly": costly}
    return trial


def test_the_bar_and_the_log_tell_the_same_time_left():
    clock, bar_stream, log_stream = Clock(), Terminal(), io.StringIO()
    bar, log = (Progress(10, stream=s, clock=clock) for s in (bar_stream, log_stream))
    bar.start([]), log.start([])
    clock.now += 100.0  # 50 s a trial at the mean pace; the recent, kept trial took a third
    trials = [
        _timed(optuna.trial.create_trial(value=3.0), 90.0, costly=1.0),
        _timed(optuna.trial.create_trial(value=2.0), 30.0),
    ]
    for trial in trials:
        bar.show(trial), log.show(trial)
    meter = bar._bar.format_meter(**bar._bar.format_dict)
    bar.close()
    assert "<03:20" in meter and "best=2.000" in meter  # 8 trials left at 25 s each
    assert log_stream.getvalue().splitlines()[-1].endswith("; 25 s/trial, 3 min left")


def test_a_bar_on_a_terminal():
    stream, study = Terminal(), optuna.create_study()
    study.add_trial(optuna.trial.create_trial(value=3.0))
    progress = Progress(10, stream=stream)
    progress.start(study.get_trials(states=FINISHED))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED))
    progress.show(study.trials[-1])
    progress.close()
    assert "2/10" in stream.getvalue() and "pruned=1" in stream.getvalue()
    assert progress._bar.initial == 1  # tqdm's rate counts this run's trials only


def test_quiet_says_nothing():
    stream, study = Terminal(), _study()
    progress = Progress(10, quiet=True, stream=stream)
    progress.show(study.trials[-1])
    progress.close()
    assert stream.getvalue() == ""


def test_a_trial_of_several_steps_shows_its_first_and_last_worded_by_the_step():
    import pandas as pd

    from tuner.search import attrs

    stream, study = io.StringIO(), optuna.create_study()
    study.add_trial(
        optuna.trial.create_trial(value=3.0, user_attrs={attrs.VAL_RMSE_BY_STEP: [1.0, 2.0, 5.5]})
    )
    progress = Progress(10, stream=stream, step=pd.Timedelta("15min"))
    progress.start([])
    progress.show(study.trials[0])
    assert stream.getvalue().startswith(
        "[1/10] trial 0 complete 3.000 (1.000 at 15 minutes to 5.500 at 45 minutes ahead) after"
    )
