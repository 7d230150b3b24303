import io

import optuna

from tuner.search.progress import FINISHED, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _study():
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(value=3.0))
    pruned = study.ask()
    pruned.set_user_attr("pruned_reason", "noise")
    study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
    return study


def test_log_lines_when_not_a_terminal():
    stream, study = io.StringIO(), _study()
    progress = Progress(10, stream=stream)
    for trial in study.trials:
        progress(study, trial)
    assert stream.getvalue().splitlines()[-1] == (
        "[2/10] trial 1 pruned (noise) after ? epochs; pruned 1, best 3.000"
    )


def test_trials_shown_together_get_their_own_counts():
    """Two workers' trials that finish between two polls: [1/10] then [2/10], not [2/10] twice."""
    stream, study = io.StringIO(), optuna.create_study()
    progress = Progress(10, stream=stream)
    progress.start(study.get_trials(states=FINISHED))
    study.add_trial(optuna.trial.create_trial(value=3.0))
    study.add_trial(optuna.trial.create_trial(value=2.0))
    for trial in study.trials:
        progress(study, trial)
    assert [line.split()[0] for line in stream.getvalue().splitlines()] == ["[1/10]", "[2/10]"]


def test_a_resumed_study_counts_on():
    stream, study = io.StringIO(), _study()
    progress = Progress(10, stream=stream)
    progress.start(study.get_trials(states=FINISHED))
    study.add_trial(optuna.trial.create_trial(value=1.0))
    progress(study, study.trials[-1])
    assert stream.getvalue().startswith("[3/10] trial 2 complete 1.000")


def test_a_bar_on_a_terminal():
    stream, study = Terminal(), optuna.create_study()
    study.add_trial(optuna.trial.create_trial(value=3.0))
    progress = Progress(10, stream=stream)
    progress.start(study.get_trials(states=FINISHED))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED))
    progress(study, study.trials[-1])
    progress.close()
    assert "2/10" in stream.getvalue() and "pruned=1" in stream.getvalue()


def test_quiet_says_nothing():
    stream, study = Terminal(), _study()
    progress = Progress(10, quiet=True, stream=stream)
    progress(study, study.trials[-1])
    progress.close()
    assert stream.getvalue() == ""
