"""`RunConfig`: what one search is given, checked whole before anything is read or written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import optuna

from tuner.data.sources import DataSpec
from tuner.errors import TunerError
from tuner.search.cost import CostRule
from tuner.search.location import StudyLocation
from tuner.search.pruner import NoiseAwarePruner
from tuner.search.replicates import REPLICATES
from tuner.search.space import SearchSpace
from tuner.search.storage import STORAGE_WAIT_S, stale_after
from tuner.search.workers import usable_cores

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
        heartbeat: seconds between a trial's heartbeats; a trial silent for `grace_period`
            is failed, and retried once.
        storage_wait: seconds a call waits for a database server that stopped answering
            (a restart) before the run stops (`tuner.search.storage.PatientStorage`); the
            grace period outlasts it, so no trial waiting out an outage is failed as stale.
            SQLite, a local file, has no outage to wait for.
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
        problem = bad_setting(self)
        if problem:
            raise TunerError(problem)

    @property
    def grace_period(self) -> float:
        """Seconds without a heartbeat after which a running trial is failed as stale (the
        storage's stale check, `tuner.search.storage.open_storage`, uses the same)."""
        on_server = self.location.url.get_backend_name() != "sqlite"
        return stale_after(self.heartbeat, self.storage_wait if on_server else 0.0)


def default_study_name(data_name: str, space_name: str) -> str:
    """DATA-SPACE: the same data and space resume the same study."""
    return f"{data_name}-{space_name}"


def bad_setting(config: RunConfig) -> str | None:
    """The first setting out of its range, as one line; None when all are in range."""
    checks = (
        (config.trials >= 1, f"trials must be at least 1, got {config.trials}"),
        (
            config.max_epochs is None or config.max_epochs >= 1,
            f"max_epochs must be at least 1, got {config.max_epochs}",
        ),
        (
            config.timeout is None or config.timeout > 0,
            f"timeout must be positive, got {config.timeout}",
        ),
        (config.jobs >= 1, f"jobs must be at least 1, got {config.jobs}"),
        (
            config.storage_wait >= 0,  # False for NaN too
            f"storage_wait must be 0 or more, got {config.storage_wait}",
        ),
        (
            config.storage_wait != float("inf"),
            "storage_wait must be finite: a dead worker's trial is failed after it",
        ),
        (config.heartbeat >= 1, f"heartbeat must be at least 1 second, got {config.heartbeat}"),
        (config.seed >= 0, f"seed must be 0 or more, got {config.seed}"),
        (config.replicates >= 0, f"replicates must be 0 or more, got {config.replicates}"),
    )
    return next((message for ok, message in checks if not ok), None)
