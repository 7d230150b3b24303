"""`run_study(config)`: data and space checked, then a resumable Optuna study on RDB storage."""

from __future__ import annotations

import signal
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from tuner.data.sources import DataSpec, target_unit
from tuner.errors import TunerError
from tuner.model.backend import silence_native_logs
from tuner.search import attrs, notes
from tuner.search.cost import CostRule
from tuner.search.failures import (
    CATCH,
    STORAGE_ERRORS,
    RunStopped,
    StopAfterFailures,
    describe,
    stop_reason,
    storage_cause,
    storage_error_behind,
)
from tuner.search.location import StudyLocation
from tuner.search.progress import FINISHED, Progress
from tuner.search.pruner import NoiseAwarePruner
from tuner.search.replicates import REPLICATES, to_replicate
from tuner.search.seeds import derive_seed
from tuner.search.space import SearchSpace
from tuner.search.storage import STORAGE_WAIT_S, DatabaseFile, open_storage
from tuner.search.stores import open_store, same_store, settled
from tuner.search.summary import RunSummary, summarize
from tuner.search.workers import TrialBudget, Worker, run_workers, usable_cores

if TYPE_CHECKING:
    from tuner.data.prepared import PreparedData

# The pruners `tuner run --pruner` offers: tuner's own, and Optuna's two references.
PRUNERS: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
    "noise-aware": NoiseAwarePruner,
    "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
    "none": optuna.pruners.NopPruner,
}


@dataclass(frozen=True)
class RunConfig:
    """One search: what to train on, where to store it, and for how long.

    Args:
        data: the data, from `tuner.data.sources.resolve`.
        space: the search space, from `tuner.search.space.load_space`.
        location: the storage (`sqlite:///FILE`, or `postgresql://…` for a study that
            several machines share) and the artifact store where trial models are kept;
            by default as `tuner.search.location` looks them up.
        study_name: the study in that storage; by default DATA-SPACE, which a later run
            with the same data and space resumes.
        trials: finished (complete or pruned) trials the study should have; the run
            stops when the whole study, all workers included, has that many.
        timeout: seconds after which no new trial starts.
        seed: the run's seed, from which each worker's sampler and weights are derived.
        max_epochs: a cap on the space's `max_epochs`, for quick runs.
        heartbeat: seconds between a trial's heartbeats; a trial silent for twice as long
            is failed, and retried once.
        storage_wait: seconds a call waits for a database server that stopped answering
            (a restart) before the run stops (`tuner.search.storage.PatientStorage`).
        jobs: worker processes, each held to its share of the cores; one per core by
            default.
        quiet: no progress display.
        verbose: let the workers' libraries (TensorFlow, XLA, absl) log to the terminal.
        pruner: which trials to stop early, a key of `PRUNERS`: `NoiseAwarePruner`
            ("noise-aware"), Optuna's `MedianPruner` ("median"), or none.
        cost: when a completed trial is costly to the sampler (`tuner.search.cost`);
            None lets TPE follow a configuration whatever its cost.
        replicates: once the study has its trials, its best this many distinct
            configurations are each trained once more with another seed, as trials beyond
            `trials` (`tuner.search.replicates`): the study's noise floor. 0 measures none.
    """

    data: DataSpec
    space: SearchSpace
    location: StudyLocation = field(default_factory=StudyLocation.of)
    study_name: str = ""
    trials: int = 100
    timeout: float | None = None
    seed: int = 0
    max_epochs: int | None = None
    heartbeat: int = 60
    storage_wait: float = STORAGE_WAIT_S
    jobs: int = field(default_factory=lambda: len(usable_cores()))
    quiet: bool = False
    verbose: bool = False
    pruner: str = "noise-aware"
    cost: CostRule | None = field(default_factory=CostRule)
    replicates: int = REPLICATES

    def __post_init__(self) -> None:
        if self.pruner not in PRUNERS:
            raise TunerError(f"pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}")
        if not self.study_name:
            name = default_study_name(self.data.name, self.space.name)
            object.__setattr__(self, "study_name", name)
        if self.trials < 1:
            raise TunerError(f"trials must be at least 1, got {self.trials}")
        if self.max_epochs is not None and self.max_epochs < 1:
            raise TunerError(f"max_epochs must be at least 1, got {self.max_epochs}")
        if self.timeout is not None and self.timeout <= 0:
            raise TunerError(f"timeout must be positive, got {self.timeout}")
        if self.jobs < 1:
            raise TunerError(f"jobs must be at least 1, got {self.jobs}")
        if not self.storage_wait >= 0:
            raise TunerError(f"storage_wait must be 0 or more, got {self.storage_wait}")
        if self.heartbeat < 1:
            raise TunerError(f"heartbeat must be at least 1 second, got {self.heartbeat}")
        if self.seed < 0:
            raise TunerError(f"seed must be 0 or more, got {self.seed}")
        if self.replicates < 0:
            raise TunerError(f"replicates must be 0 or more, got {self.replicates}")


def default_study_name(data_name: str, space_name: str) -> str:
    """DATA-SPACE: the same data and space resume the same study."""
    return f"{data_name}-{space_name}"


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
    data.check_enough_rows(config.space.max_seq_len)
    location = config.location
    checked = location.artifacts or location.beside
    if checked is not None:  # before the storage is made
        open_store(checked)
    storage = open_storage(location, heartbeat_interval=config.heartbeat, wait=config.storage_wait)
    database = DatabaseFile.of(location)
    recorded = _recorded(storage, config.study_name)
    if recorded is not None:  # resumed: refused before the baselines cost seconds to fit
        _check_same_data(config.study_name, recorded, asdict(config.data), config.space)
    recorded = recorded or {}
    artifacts = location.store_to_write(recorded.get(attrs.ARTIFACTS))
    if checked is None or not same_store(checked, artifacts):
        open_store(artifacts)
    config = replace(config, location=replace(location, artifacts=settled(artifacts)))
    baselines = _missing_baselines(recorded, data)  # fitted before anything is written
    try:
        study = _open_study(storage, config)
        for key, value in baselines.items():
            study.set_user_attr(key, value)
    except STORAGE_ERRORS as e:  # the first write: a read-only database, say
        reason = describe(storage_cause(e))
        raise TunerError(f"{location}: cannot write the study: {reason}") from e
    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    interrupted, failed_workers = _search(config, study, database, config.trials, finished)
    if not interrupted:
        interrupted, failed = _replicate(config, study, database)
        failed_workers += failed
    try:
        reviewed = notes.review(study, data, location, interrupted=interrupted)
        notes.save_note(study, notes.study_note(reviewed))
    except STORAGE_ERRORS as e:  # the trials are stored; the storage went after them
        raise RunStopped(f"writing the study's note: {stop_reason(e)}") from e
    return summarize(
        study,
        location,
        unit=target_unit(config.data),
        seconds=time.monotonic() - started,
        interrupted=interrupted,
        failed_workers=failed_workers,
    )


def _search(
    config: RunConfig,
    study: optuna.Study,
    database: DatabaseFile | None,
    trials: int,
    finished: int,
) -> tuple[bool, int]:
    """Workers until the study has `trials` finished ones: (interrupted, failed workers)."""
    budget = TrialBudget(trials, finished)
    if budget.remaining <= 0:
        return False, 0
    progress = Progress(trials, quiet=config.quiet)
    jobs = min(config.jobs, budget.remaining)  # each worker starts one trial at least
    try:
        interrupted, failed_workers = run_workers(
            work,
            WorkerTask(config, budget),
            jobs,
            study,
            progress,
            grace_period=2 * config.heartbeat,
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
    return _search(config, study, database, finished + waiting, finished)


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
    study = optuna.load_study(
        study_name=config.study_name,
        storage=storage,
        sampler=sampler,
        pruner=PRUNERS[config.pruner](),
    )
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
            callbacks=[objective.stop_if_interrupted, StopAfterFailures(), budget],
        )
    if objective.interrupted:
        raise KeyboardInterrupt


def _open_study(storage: optuna.storages.BaseStorage, config: RunConfig) -> optuna.Study:
    """The study `config` names, made if new; its data were checked by `_check_same_data`."""
    existing = {s.study_name for s in storage.get_all_studies()}
    study = optuna.create_study(
        study_name=config.study_name,
        storage=storage,
        direction="minimize",
        load_if_exists=True,
    )
    if config.study_name not in existing:
        study.set_user_attr(attrs.DATA, asdict(config.data))
        study.set_user_attr(attrs.SPACE, config.space.name)
    if attrs.TRAINING not in study.user_attrs:
        study.set_user_attr(attrs.TRAINING, asdict(config.space.training))
    notes.name_metric(study, config.data)
    artifacts = str(config.location.artifacts)
    if study.user_attrs.get(attrs.ARTIFACTS) != artifacts:
        study.set_user_attr(attrs.ARTIFACTS, artifacts)
    return study


def _missing_baselines(recorded: Mapping[str, Any], data: PreparedData) -> dict[str, float]:
    """Persistence and gradient boosting on validation, for a study that lacks them (a new
    one, or one made before tuner fitted them): the bars a trial's value is read against
    (`tuner best`, the note, the report, the pruner's skill)."""
    missing = {}
    if attrs.PERSISTENCE_VAL_RMSE not in recorded:
        missing[attrs.PERSISTENCE_VAL_RMSE] = data.persistence_rmse("val")
    if attrs.BOOSTING_VAL_RMSE not in recorded:
        boosting = boosting_val_rmse(data)
        if boosting is not None:
            missing[attrs.BOOSTING_VAL_RMSE] = boosting
    return missing


def boosting_val_rmse(data: PreparedData) -> float | None:
    """The gradient-boosting baseline on validation (seconds to fit); None when it cannot be
    fitted (training rows too few for its features, say), which the search does not need."""
    from tuner.model.baseline import FIT_ERRORS, fit_baseline

    try:
        return fit_baseline(data).rmse("val")
    except FIT_ERRORS:
        return None


def _recorded(storage: optuna.storages.BaseStorage, name: str) -> Mapping[str, Any] | None:
    """The user attributes of the study `name`; None when there is no such study yet."""
    for summary in storage.get_all_studies():
        if summary.study_name == name:
            return summary.user_attrs
    return None


def _check_same_data(
    name: str, recorded: Mapping[str, Any], data_attrs: dict, space: SearchSpace
) -> None:
    """Refuse to resume the study `name` (its attributes `recorded`) on other data or space."""
    stored = recorded.get(attrs.DATA, {})
    same = ("sha256", "target", "val_start", "test_start", "horizon", "time_col")
    for key in same:
        if stored.get(key) != data_attrs[key]:
            raise TunerError(
                f"study '{name}' was made with {key}={stored.get(key)!r}, "
                f"not {data_attrs[key]!r}: choose another --study"
            )
    if recorded.get(attrs.SPACE) != space.name:
        raise TunerError(
            f"study '{name}' searches space '{recorded.get(attrs.SPACE)}', "
            f"not '{space.name}': choose another --study"
        )
