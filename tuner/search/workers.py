"""Worker processes on one study: each held to its share of the cores; one progress display.

The parent never imports Keras. Workers run in their own process group, so a Ctrl-C at the
terminal reaches the parent alone, which forwards exactly one SIGINT to each worker: a
second signal arriving while a worker records its interrupted trial could otherwise leave
that trial RUNNING.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.synchronize import Event as EventType
from typing import TypeVar

import optuna
from optuna.trial import TrialState

from tuner.errors import TunerError
from tuner.search.failures import STORAGE_ERRORS
from tuner.search.progress import FINISHED, Progress
from tuner.search.storage import stale_grace

EXIT_FAILED, EXIT_INTERRUPTED = 1, 130
# On a stop request: SIGINT; again if a worker has not finished after 30 s (an interrupt
# can be swallowed); SIGKILL after 60 s more, leaving its trial to the heartbeat.
ESCALATION = ((signal.SIGINT, 30.0), (signal.SIGINT, 60.0), (signal.SIGKILL, 5.0))
T = TypeVar("T")


def usable_cores() -> list[int]:
    """The cores this process may run on: its affinity where the system has one (Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def core_groups(cores: Sequence[int], jobs: int) -> list[set[int]]:
    """Split the usable cores among `jobs` workers, round robin; they share when too few."""
    cores = sorted(cores)
    if jobs <= len(cores):
        return [set(cores[i::jobs]) for i in range(jobs)]
    return [{cores[i % len(cores)]} for i in range(jobs)]


def thread_settings(n_cores: int) -> dict[str, str]:
    """Environment that holds TensorFlow, XLA (JAX) and OpenMP to `n_cores` threads."""
    n = str(n_cores)
    eigen = "true" if n_cores > 1 else "false"
    return {
        "OMP_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": "1",
        "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={n}",
    }


class TrialBudget:
    """How many trials a study should finish, and the one guard that keeps it to that.

    `trials` counts the finished (complete or pruned) trials of the whole study, every
    worker of every machine included. Two things can overshoot it, and `allows` rules out
    both before a trial starts:
    - other machines share only the storage, so the study is counted, with the trials
      running elsewhere (Optuna's `MaxTrialsCallback` counts the same way);
    - two workers of one run that finish together both see room for one more trial (as
      `MaxTrialsCallback` does, since it looks after a trial ends), so this run's workers
      also take a ticket, atomically across its processes. A failed trial, which does not
      count, gives its ticket back.

    So one run finishes exactly the trials it lacks. Runs on several machines at once
    check the study, not a shared ticket: a worker can pass the check in the moment
    between another's check and the start of its trial, so the study finishes at most
    `trials + W - 1` searched trials, W being the workers of all the runs checking at once;
    a run that starts after the study has its trials starts none. Replicates are made once
    however many machines enqueue them (`tuner.search.patient`), and a budget made with
    `waiting_only` (the replicate phase) claims a trial only while one is waiting, so a
    worker whose replicate another machine took starts no searched trial in its place;
    only a pop that loses the moment between that look and the pop to another machine
    makes one searched trial more.
    """

    def __init__(self, trials: int, finished: int = 0, *, waiting_only: bool = False) -> None:
        self.trials = trials
        self.waiting_only = waiting_only
        self.remaining = max(trials - finished, 0)
        self._tickets = multiprocessing.get_context("spawn").Semaphore(self.remaining)

    def allows(self, study: optuna.Study) -> bool:
        """Claim the study's next trial for this worker; False when it has enough."""
        claimed = study.get_trials(deepcopy=False, states=(*FINISHED, TrialState.RUNNING))
        if self.waiting_only and not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            return False
        return len(claimed) < self.trials and self._tickets.acquire(block=False)

    def give_back(self) -> None:
        """A claimed trial did not finish (failed, or lost): its ticket is free again."""
        self._tickets.release()

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Optuna callback: give back a failed trial's ticket, then claim the next trial."""
        if trial.state == TrialState.FAIL:
            self.give_back()
        if not self.allows(study):
            study.stop()


@dataclass(frozen=True)
class Worker:
    """One worker process: its number, the cores it is held to, and the run's stop signal
    (set when the run is stopping, so that a worker still starting up does not begin)."""

    index: int
    cores: frozenset[int]
    stopping: EventType


def run_workers(
    target: Callable[[T, Worker], None],
    task: T,
    jobs: int,
    study: optuna.Study,
    progress: Progress,
    *,
    grace_period: float,
    watch: Callable[[], str | None] = lambda: None,
) -> tuple[bool, int]:
    """Start `jobs` workers `target(task, Worker(…))`; wait, showing progress.

    The target must handle SIGINT itself (SIG_IGN until then) and end by raising
    KeyboardInterrupt when it was interrupted, or when `worker.stopping` is set as it
    starts.
    The workers are stopped as on Ctrl-C as soon as `watch()` gives a reason.

    Returns (interrupted, number of workers that failed). A worker that died leaves its
    trial to the heartbeat: once the grace period has passed, the parent fails it.
    """
    context = multiprocessing.get_context("spawn")
    groups = core_groups(usable_cores(), jobs)
    stopping = context.Event()
    workers = [
        context.Process(
            target=_enter,
            args=(target, task, Worker(i, frozenset(groups[i]), stopping)),
            name=f"worker-{i}",
        )
        for i in range(jobs)
    ]
    finished = study.get_trials(deepcopy=False, states=FINISHED)  # one look: none counted twice
    seen = {t.number for t in finished}
    progress.start(finished)
    stop = threading.Event()
    handlers = _on_stop_signals(stop)
    try:
        for worker in workers:
            _start_deaf_to_interrupts(worker)
        _wait(workers, stop, stopping, watch, lambda: _show_new(study, seen, progress))
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    died = [w for w in workers if w.exitcode not in (0, EXIT_INTERRUPTED)]
    if died and study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        time.sleep(max(grace_period, stale_grace(study)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    _show_new(study, seen, progress)
    return stop.is_set(), len(died)


def _wait(
    workers: Sequence[multiprocessing.process.BaseProcess],
    stop: threading.Event,
    stopping: EventType,
    watch: Callable[[], str | None],
    show: Callable[[], None],
) -> None:
    """Until every worker has ended, showing progress; once `stop` is set (a signal, or a
    reason from `watch`), each live worker is stopped by the steps of `ESCALATION`."""
    escalation = iter(ESCALATION)
    deadline = None
    # One look at which workers live: the last one can exit between two looks.
    while alive := [w for w in workers if w.is_alive()]:
        alive[0].join(timeout=0.5)
        if not stop.is_set() and watch() is not None:
            stop.set()
        if stop.is_set() and (deadline is None or time.monotonic() > deadline):
            stopping.set()
            signum, wait = next(escalation, ESCALATION[-1])
            for worker in workers:
                if worker.is_alive():
                    os.kill(worker.pid, signum)
            deadline = time.monotonic() + wait
        try:
            show()
        except STORAGE_ERRORS:  # the workers meet it too, and stop if it lasts
            pass


def _on_stop_signals(stop: threading.Event) -> dict[int, object]:
    """Ctrl-C and SIGTERM set `stop` instead of raising: the loop above forwards them once.

    A KeyboardInterrupt raised at an arbitrary point of the parent can be swallowed (inside
    a weakref callback, say) and the workers would never hear of it.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }


def _start_deaf_to_interrupts(worker: multiprocessing.process.BaseProcess) -> None:
    """Start `worker` with SIGINT ignored, which survives exec, until the target listens.

    A SIGINT that reached a worker still importing its libraries would otherwise end it
    with a traceback; the target checks the stop event once its handler is in place.
    """
    if threading.current_thread() is not threading.main_thread():
        worker.start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        worker.start()
    finally:
        signal.signal(signal.SIGINT, previous)


def _enter(target: Callable[[T, Worker], None], task: T, worker: Worker) -> None:
    """A worker's first steps: its own process group, its cores, then the work."""
    os.setpgrp()
    threading.Thread(target=interrupt_when_orphaned, args=(os.getppid(),), daemon=True).start()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, worker.cores)
    os.environ.update(thread_settings(len(worker.cores)))
    while True:
        try:
            target(task, worker)  # installs its own SIGINT handler, then checks `stopping`
            return
        except KeyboardInterrupt:
            sys.exit(EXIT_INTERRUPTED)
        except TunerError as e:  # the run cannot go on (failures.py): one line, no traceback
            print(f"error: {e}", file=sys.stderr, flush=True)
            sys.exit(EXIT_FAILED)
        except Exception as e:
            if not lost_trial(e):
                raise
            budget = getattr(task, "budget", None)
            if isinstance(budget, TrialBudget):
                budget.give_back()
            print(f"worker {worker.index}: {LOST}", file=sys.stderr, flush=True)


LOST = "its trial was failed by another process (no heartbeat); going on with the next"


def lost_trial(error: BaseException | None) -> bool:
    """Whether `error` says this worker's trial was finished by another process: failed as
    stale after its heartbeat truly expired (Optuna refuses to record to it or tell it)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, optuna.exceptions.UpdateFinishedTrialError):
            return True
        if isinstance(error, ValueError) and str(error).startswith("Cannot tell a "):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def interrupt_when_orphaned(parent: int) -> None:
    """If the parent dies (even by SIGKILL), stop as on Ctrl-C: the trial fails as interrupted."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGINT)


def _show_new(study: optuna.Study, seen: set[int], progress: Progress) -> None:
    for trial in study.get_trials(deepcopy=False, states=(*FINISHED, TrialState.FAIL)):
        if trial.number not in seen:
            seen.add(trial.number)
            progress.show(trial)
