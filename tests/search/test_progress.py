import io

import optuna

from tuner.search.progress import FINISHED, Progress, pace


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
    assert pace(0, 10, 5.0) == ""
    assert pace(4, 96, 4 * 3600) == "; 60 min/trial, 96.0 h left"
    assert pace(10, 0, 50) == "; 5 s/trial, 0 s left"


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


def test_the_bar_s_time_left_is_this_run_s_mean_pace():
    """As the log lines' is: a moving average of the last trials swings with each one's length."""
    stream, study = Terminal(), optuna.create_study()
    progress = Progress(10, stream=stream)
    progress.start([])
    bar = progress._bar
    bar.start_t -= 100.0  # the run started 100 s ago: 50 s a trial once two have finished
    for value in (3.0, 2.0):
        study.add_trial(optuna.trial.create_trial(value=value))
        progress.show(study.trials[-1])
    meter = bar.format_meter(**bar.format_dict)
    progress.close()
    assert "<06:40" in meter and "best=2.000" in meter  # 8 trials left at 50 s each
