"""`run_study(config)`: data, space and storage checked, then a resumable Optuna study whose
trials worker processes share.

The run's parts live by job: its configuration (`tuner.search.config`), the study's record
and the resume check (`tuner.search.record`), the baselines (`tuner.search.baselines`), and
a worker process's body (`tuner.search.work`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from tuner.data.grid import freq_alias
from tuner.data.sources import target_unit
from tuner.errors import TunerError
from tuner.search import attrs, notes, record
from tuner.search.baselines import boosting_val_rmse, missing_baselines
from tuner.search.config import PRUNERS, RunConfig, default_study_name
from tuner.search.failures import STORAGE_ERRORS, RunStopped, describe, stop_reason, storage_cause
from tuner.search.progress import FINISHED, Progress
from tuner.search.replicates import to_replicate
from tuner.search.seq_len import for_step, windows_line
from tuner.search.storage import DatabaseFile, open_storage
from tuner.search.stores import open_store, same_store, settled
from tuner.search.summary import RunSummary, summarize
from tuner.search.work import WorkerTask, work
from tuner.search.workers import TrialBudget, run_workers

if TYPE_CHECKING:
    from tuner.data.prepared import PreparedData

__all__ = ["PRUNERS", "RunConfig", "boosting_val_rmse", "default_study_name", "run_study"]


def run_study(config: RunConfig) -> RunSummary:
    """Run trials until the study has `config.trials` finished ones (complete or pruned).

    Everything the user gave is checked before the storage is touched, so that bad input
    changes nothing stored; then `config.jobs` worker processes share the study. Ctrl-C
    fails each running trial with `fail_reason = "interrupted"` and returns a summary
    marked interrupted.

    Args:
        config: the run; see `RunConfig`.

    Returns:
        The study's state once the run ended.
    """
    from tuner.data.prepared import prepare

    started = time.monotonic()
    data = prepare(config.data)
    space = for_step(config.space, data.step)
    data.check_enough_rows(space.max_seq_len)
    line = windows_line(config.space, space, data.step)
    if line and not config.quiet:
        print(line, file=sys.stderr, flush=True)
    config = replace(config, space=space)
    storage, config, baselines = _checked(config, data)
    database = DatabaseFile.of(config.location)
    try:
        study = record.open_study(storage, config)
        for key, value in baselines.items():
            study.set_user_attr(key, value)
        if attrs.FREQ not in study.user_attrs:
            study.set_user_attr(attrs.FREQ, freq_alias(data.step))
    except STORAGE_ERRORS as e:  # the first write: a read-only database, say
        reason = describe(storage_cause(e))
        raise TunerError(f"{config.location}: cannot write the study: {reason}") from e
    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    interrupted, failed_workers = _search(config, study, database, config.trials, finished)
    if not interrupted:
        interrupted, failed = _replicate(config, study, database)
        failed_workers += failed
    try:
        reviewed = notes.review(study, data, config.location, interrupted=interrupted)
        notes.save_note(study, notes.study_note(reviewed))
    except STORAGE_ERRORS as e:  # the trials are stored; the storage went after them
        raise RunStopped(f"writing the study's note: {stop_reason(e)}") from e
    return summarize(
        study,
        config.location,
        unit=target_unit(config.data),
        seconds=time.monotonic() - started,
        interrupted=interrupted,
        failed_workers=failed_workers,
    )


def _checked(
    config: RunConfig, data: PreparedData
) -> tuple[optuna.storages.BaseStorage, RunConfig, dict[str, float]]:
    """Everything checked, nothing written: the storage, the run with its artifact store
    settled, and the baselines the study lacks (fitted after a resume was checked, since
    they cost seconds)."""
    location = config.location
    checked = location.artifacts or location.beside
    if checked is not None:  # before the storage is made
        open_store(checked)
    storage = open_storage(location, heartbeat_interval=config.heartbeat, wait=config.storage_wait)
    recorded = record.recorded(storage, config.study_name)
    if recorded is not None:
        record.check_resumable(
            storage, config.study_name, recorded, asdict(config.data), config.space
        )
    recorded = recorded or {}
    artifacts = location.store_to_write(recorded.get(attrs.ARTIFACTS))
    if checked is None or not same_store(checked, artifacts):
        open_store(artifacts)
    config = replace(config, location=replace(location, artifacts=settled(artifacts)))
    return storage, config, missing_baselines(recorded, data)


def _search(
    config: RunConfig,
    study: optuna.Study,
    database: DatabaseFile | None,
    trials: int,
    finished: int,
    *,
    waiting_only: bool = False,
) -> tuple[bool, int]:
    """Workers until the study has `trials` finished ones: (interrupted, failed workers);
    with `waiting_only`, only the trials waiting in the queue (`TrialBudget`)."""
    budget = TrialBudget(trials, finished, waiting_only=waiting_only)
    if budget.remaining <= 0:
        return False, 0
    progress = Progress(trials, quiet=config.quiet, step=attrs.series_step(study.user_attrs))
    jobs = min(config.jobs, budget.remaining)  # each worker starts one trial at least
    try:
        interrupted, failed_workers = run_workers(
            work,
            WorkerTask(config, budget),
            jobs,
            study,
            progress,
            grace_period=config.grace_period,
            watch=database.lost if database else lambda: None,
        )
    except STORAGE_ERRORS as e:  # after the workers: the storage went with them
        raise RunStopped(stop_reason(e)) from e
    finally:
        progress.close()
    lost = database.lost() if database else None
    if lost:
        raise RunStopped(f"{lost}; stopped, since no trial of it could be kept")
    return interrupted, failed_workers


def _replicate(
    config: RunConfig, study: optuna.Study, database: DatabaseFile | None
) -> tuple[bool, int]:
    """Once the study has its trials, train the best configurations again as new trials
    (`tuner.search.replicates`), with the replicates an interrupted run left waiting."""
    trials = study.get_trials(deepcopy=False)
    finished = sum(t.state in FINISHED for t in trials)
    if finished < config.trials:
        return False, 0
    for original in to_replicate(trials, config.replicates):
        study.enqueue_trial(original.params, user_attrs={attrs.REPLICATE_OF: original.number})
    waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    return _search(config, study, database, finished + waiting, finished, waiting_only=True)
