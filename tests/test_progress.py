import io

import optuna

from tuner.progress import Progress


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
    progress(study, study.trials[-1])
    assert (
        stream.getvalue() == "[2/10] trial 1 pruned (noise) after ? epochs; pruned 1, best 3.000\n"
    )


def test_a_bar_on_a_terminal():
    stream, study = Terminal(), _study()
    progress = Progress(10, stream=stream)
    progress.start(study)
    progress(study, study.trials[-1])
    progress.close()
    assert "2/10" in stream.getvalue() and "pruned=1" in stream.getvalue()


def test_quiet_says_nothing():
    stream, study = Terminal(), _study()
    progress = Progress(10, quiet=True, stream=stream)
    progress(study, study.trials[-1])
    progress.close()
    assert stream.getvalue() == ""
