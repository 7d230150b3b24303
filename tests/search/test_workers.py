import os

import optuna
import pytest
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState

from tuner.data.sources import DataSpec
from tuner.search.space import load_space
from tuner.search.study import RunConfig
from tuner.search.workers import TrialBudget, core_groups, thread_settings, usable_cores

SPEC = DataSpec(path="data.csv", name="data", sha256="0" * 64, target="y")


@pytest.mark.parametrize(
    "cores, jobs, groups",
    [
        ([0, 1], 1, [{0, 1}]),
        ([0, 1], 2, [{0}, {1}]),
        ([0, 1, 2, 3], 2, [{0, 2}, {1, 3}]),
        ([3, 5], 3, [{3}, {5}, {3}]),  # more workers than cores: they share
    ],
)
def test_core_groups(cores, jobs, groups):
    assert core_groups(cores, jobs) == groups


def test_thread_settings_hold_every_library_to_the_share():
    one = thread_settings(1)
    assert one["OMP_NUM_THREADS"] == one["TF_NUM_INTRAOP_THREADS"] == "1"
    assert "--xla_cpu_multi_thread_eigen=false" in one["XLA_FLAGS"]
    assert "intra_op_parallelism_threads=2" in thread_settings(2)["XLA_FLAGS"]


def test_without_an_affinity_call_every_core_is_usable(monkeypatch):
    """macOS has no sched_getaffinity: `--help` and `run` must not need it."""
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert usable_cores() == [0, 1, 2]
    assert RunConfig(data=SPEC, space=load_space("lstm_baseline")).jobs == 3


class _Worker:
    """A worker's view of the study, recording whether its callbacks asked it to stop."""

    def __init__(self, study: optuna.Study) -> None:
        self.study, self.stopped = study, False

    def get_trials(self, **kwargs):
        return self.study.get_trials(**kwargs)

    def stop(self) -> None:
        self.stopped = True


def _two_workers_finish_together(callback_a, callback_b, study) -> int:
    """Workers A and B each tell their trial, then both run their callbacks: trials started."""
    a, b = _Worker(study), _Worker(study)
    first, second = study.ask(), study.ask()
    study.tell(first, 1.0)
    study.tell(second, 2.0)
    callback_a(a, study.trials[0])
    callback_b(b, study.trials[1])
    return 2 + (not a.stopped) + (not b.stopped)


def test_a_count_taken_after_the_trial_lets_two_workers_overshoot():
    study = optuna.create_study()
    enough = MaxTrialsCallback(3, states=(TrialState.COMPLETE, TrialState.RUNNING))
    assert _two_workers_finish_together(enough, enough, study) == 4  # why TrialBudget exists


def test_a_trial_budget_does_not():
    budget, study = TrialBudget(3), optuna.create_study()
    assert budget.allows(study) and budget.allows(study)  # each worker's first trial
    assert _two_workers_finish_together(budget, budget, study) == 3


def test_trials_running_elsewhere_count():
    """Another machine's running trials are claimed: this run starts none beyond the total."""
    study = optuna.create_study()
    elsewhere = [study.ask(), study.ask()]
    budget = TrialBudget(3)
    assert budget.allows(study)
    mine = study.ask()  # what a worker does once allowed
    assert not budget.allows(study), "a fourth trial while three are claimed"
    study.tell(mine, 1.0)
    study.tell(elsewhere[0], state=TrialState.FAIL)  # failed elsewhere: a slot is free again
    assert budget.allows(study)


def test_a_replicate_phase_claims_only_waiting_trials():
    """A replicate another machine took leaves this run nothing to do: no searched trial is
    started in its place."""
    study = optuna.create_study()
    study.tell(study.ask({"x": optuna.distributions.FloatDistribution(0, 1)}), 1.0)
    study.enqueue_trial({"x": 0.5})
    budget = TrialBudget(3, finished=1, waiting_only=True)
    assert budget.allows(study)
    study.ask()  # another machine pops the replicate
    assert not budget.allows(study), "nothing is waiting: no trial to claim"
    study.enqueue_trial({"x": 0.25})
    assert budget.allows(study)


def test_a_resumed_study_has_only_what_is_left():
    study = optuna.create_study()
    for value in (1.0, 2.0):
        study.tell(study.ask(), value)
    budget = TrialBudget(3, finished=2)
    assert budget.remaining == 1
    assert budget.allows(study)
    assert not budget.allows(optuna.create_study()), "this run's one ticket is taken"


def test_a_failed_trial_gives_its_ticket_back():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    budget = TrialBudget(3)
    study = optuna.create_study()
    assert budget.allows(study)
    outcomes = iter([ValueError, 1.0, ValueError, 2.0, 3.0])

    def objective(trial):
        outcome = next(outcomes)
        if outcome is ValueError:
            raise ValueError("one configuration's error")
        return outcome

    study.optimize(objective, catch=(ValueError,), callbacks=[budget])
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == 3 and states.count(TrialState.FAIL) == 2
    assert not budget.allows(study)
