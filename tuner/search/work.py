"""The body of one worker process: its own sampler, pruner, objective and share of the study.

Each worker is a fresh process (`tuner.search.workers.run_workers`); it reopens the study
from the storage and trains trials until the study has enough.
"""

from __future__ import annotations

import signal
import warnings
from dataclasses import dataclass, replace

import optuna

from tuner.model.backend import silence_native_logs
from tuner.search.config import PRUNERS, RunConfig
from tuner.search.failures import (
    CATCH,
    RetryUnsavedModel,
    RunStopped,
    StopAfterFailures,
    stop_reason,
    storage_error_behind,
)
from tuner.search.seeds import derive_seed
from tuner.search.storage import open_storage
from tuner.search.stores import open_store
from tuner.search.workers import TrialBudget, Worker


@dataclass(frozen=True)
class WorkerTask:
    """What every worker process of a run is given."""

    config: RunConfig
    budget: TrialBudget


def work(task: WorkerTask, worker: Worker) -> None:
    """One worker process's share of the study: trials until the study has enough.

    SIGINT interrupts the running trial through `Objective.interrupt`; the trial fails as
    "interrupted" and this raises KeyboardInterrupt once it is recorded. A trial's own error
    fails that trial and the search goes on; an error that stops the run (`failures`) is
    raised as `RunStopped`, which the worker reports in one line.
    """
    if not task.config.verbose:
        silence_native_logs()
    try:
        _work(task.config, task.budget, worker)
    except Exception as e:  # outside a trial: loading the study, asking, telling
        lost = None if isinstance(e, RunStopped) else storage_error_behind(e)
        if lost is None:
            raise
        raise RunStopped(f"worker {worker.index}: {stop_reason(lost)}") from e


def _work(config: RunConfig, budget: TrialBudget, worker: Worker) -> None:
    from tuner.data.prepared import prepare
    from tuner.search.objective import Objective

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    data = prepare(config.data)
    study = _load_study(config, worker)
    training = config.space.training
    if config.max_epochs is not None:
        training = replace(training, max_epochs=min(training.max_epochs, config.max_epochs))
    objective = Objective(
        data,
        config.space,
        training,
        seed=derive_seed(config.seed, worker.index),
        store=open_store(config.location.artifacts, create=False),
        cost=config.cost,
    )
    signal.signal(signal.SIGINT, lambda *_: objective.interrupt())
    if worker.stopping.is_set():
        raise KeyboardInterrupt
    # A trial left RUNNING by a worker that died, its heartbeat stale, must not hold a
    # place in the budget: Optuna would fail it only once a trial runs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    if budget.allows(study):
        # No `gc_after_trial`: each trial starts with `fresh_session`, whose `clear_session`
        # collects already; a second full collection would only cost time.
        study.optimize(
            objective,
            timeout=config.timeout,
            catch=CATCH,
            callbacks=[
                objective.stop_if_interrupted,
                StopAfterFailures(),
                RetryUnsavedModel(),
                budget,
            ],
        )
    if objective.interrupted:
        raise KeyboardInterrupt


def _load_study(config: RunConfig, worker: Worker) -> optuna.Study:
    """The study as this worker sees it: its own storage connection, sampler and pruner."""
    storage = open_storage(
        config.location, heartbeat_interval=config.heartbeat, wait=config.storage_wait
    )
    previous = len(storage.get_all_trials(storage.get_study_id_from_name(config.study_name)))
    # Seeded by worker and by the trials already run: a resumed study must not replay samples.
    # The constant liar counts the other workers' running trials as bad, so that two workers
    # do not train near-copies of one configuration side by side (Optuna's advice for
    # parallel studies).
    sampler = optuna.samplers.TPESampler(
        multivariate=True,
        constant_liar=True,
        seed=derive_seed(config.seed, worker.index, previous),
    )
    return optuna.load_study(
        study_name=config.study_name,
        storage=storage,
        sampler=sampler,
        pruner=PRUNERS[config.pruner](),
    )
