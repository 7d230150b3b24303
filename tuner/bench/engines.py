"""`tuner bench engines`: `tuner run` against plain Optuna and KerasTuner's Hyperband.

The engines search the same space on the same data, split and scaling, and train every
model by tuner's own recipe (`tuner.model.training`: the network, seeding, whole batches,
weight averaging, learning-rate schedule, early stopping), so that they differ in their
search alone. They run one after the other on the same machine, each in its own process
with the same wall-clock budget. The clock starts when the process is launched, so imports
and data preparation count as they would for a user. Every finished trial is an event
(seconds since launch, best val RMSE in target units, or None for a pruned trial); the
table reads each engine's best at fixed times.

- `tuner`: `tuner run` with its defaults (one worker per core, NoiseAwarePruner);
  `tuner-tensorflow` is the same on TensorFlow, to separate the backend from the rest, and
  `tuner-median` and `tuner-nopruning` the same with Optuna's MedianPruner or no pruning,
  to measure the pruner's effect on a real search;
- `optuna`: plain Optuna in one process, TPE and MedianPruner with their defaults;
- `kerastuner`: KerasTuner's Hyperband(max_epochs=27, factor=3) in one process (27
  whatever the space's max_epochs), iterations repeated until the budget ends. Each
  Hyperband round of a configuration counts as a trial.
The two peers run on tuner's default backend, in one process: a search in one process is
how their users run them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tuner.errors import TunerError
from tuner.model.backend import DEFAULT_BACKEND

# `tuner run` as each engine runs it: (backend, --pruner).
TUNER_ENGINES = {
    "tuner": (DEFAULT_BACKEND, "noise-aware"),
    "tuner-tensorflow": ("tensorflow", "noise-aware"),
    "tuner-median": (DEFAULT_BACKEND, "median"),
    "tuner-nopruning": (DEFAULT_BACKEND, "none"),
}
ENGINES = (*TUNER_ENGINES, "optuna", "kerastuner")
DEFAULT_ENGINES = ("tuner", "optuna", "kerastuner")
SETUPS = {
    name: f"{backend}, a worker per core, --pruner {pruner}"
    for name, (backend, pruner) in TUNER_ENGINES.items()
} | {
    "optuna": f"{DEFAULT_BACKEND}, one process, TPE + Median",
    "kerastuner": f"{DEFAULT_BACKEND}, one process, Hyperband",
}
CHECKPOINTS = (150.0, 300.0, 600.0, 1500.0)
SHUTDOWN_GRACE = 120.0  # seconds for `tuner run` to record its interrupted trials


@dataclass(frozen=True)
class Event:
    seconds: float  # since the engine's process was launched
    value: float | None  # the trial's val RMSE; None when it was pruned


@dataclass(frozen=True)
class EngineRun:
    engine: str
    budget: float
    events: list[Event] = field(default_factory=list)
    error: str | None = None  # why the engine stopped before its budget, if it did

    def best_at(self, seconds: float) -> float | None:
        values = [e.value for e in self.events if e.seconds <= seconds and e.value is not None]
        return min(values, default=None)

    def finished_by(self, seconds: float) -> int:
        return sum(e.seconds <= seconds for e in self.events)

    def first_reaching(self, value: float) -> float | None:
        """Seconds until a trial at or below `value` finished."""
        hits = [e.seconds for e in self.events if e.value is not None and e.value <= value]
        return min(hits, default=None)


def checkpoints(budget: float) -> list[float]:
    """The standard times that fall within `budget`, and the budget itself."""
    return sorted({t for t in CHECKPOINTS if t < budget} | {budget})


def format_table(runs: list[EngineRun], baseline: float) -> str:
    times = checkpoints(max(run.budget for run in runs))
    head = " | ".join(f"best val RMSE at {_minutes(t)}" for t in times)
    lines = [
        f"| engine | setup | {head} | trials finished |",
        "| --- | --- |" + " --- |" * (len(times) + 1),
    ]
    for run in runs:
        cells = " | ".join(_value(run.best_at(t)) for t in times)
        setup = SETUPS.get(run.engine, "")
        lines.append(f"| {run.engine} | {setup} | {cells} | {run.finished_by(run.budget)} |")
    persistence = " | ".join([f"{baseline:.3f}"] * len(times))
    lines.append(f"| persistence | no model | {persistence} | |")
    notes = [f"- {run.engine} stopped early: {run.error}" for run in runs if run.error]
    notes += catch_up(runs)
    return "\n".join(lines + ([""] + notes if notes else []))


def catch_up(runs: list[EngineRun], leader: str = "tuner") -> list[str]:
    """When `leader` first matched each other engine's final best: the issue's speed target."""
    first = next((run for run in runs if run.engine == leader), None)
    if first is None:
        return []
    notes = []
    for other in runs:
        final = other.best_at(other.budget)
        if other is first or final is None:
            continue
        when = first.first_reaching(final)
        target = f"{other.engine}'s final best ({final:.3f})"
        notes.append(
            f"- {leader} did not reach {target}"
            if when is None
            else f"- {leader} reached {target} after {when / 60:.1f} min"
        )
    return notes


def to_json(runs: list[EngineRun], baseline: float) -> str:
    return json.dumps(
        {
            "persistence_val_rmse": baseline,
            "runs": [
                asdict(run)
                | {"best_at": {f"{t:g}": run.best_at(t) for t in checkpoints(run.budget)}}
                for run in runs
            ],
        },
        indent=2,
    )


def from_json(text: str) -> tuple[list[EngineRun], float]:
    """The runs and baseline of a `--json` report, to show its table again; a result file of
    benchmarks/ holds the report under `result`, beside its provenance."""
    try:
        report = json.loads(text)
        if isinstance(report, dict) and "provenance" in report:
            report = report["result"]
        runs = [
            EngineRun(
                str(run["engine"]),
                _number(run["budget"]),
                [
                    Event(_number(e["seconds"]), _number(e["value"], none=True))
                    for e in run["events"]
                ],
                run["error"],
            )
            for run in report["runs"]
        ]
        if not runs:
            raise ValueError("no runs")
        return runs, _number(report["persistence_val_rmse"])
    except (ValueError, KeyError, TypeError) as e:
        raise TunerError(f"not a report of tuner bench engines --json: {e}") from e


def _number(value: object, *, none: bool = False) -> float | None:
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


# Parent side: one process per engine, stopped at the budget.


def check_engines(engines: list[str]) -> None:
    """Refuse an unknown engine, or a missing KerasTuner, before any budget is spent."""
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise TunerError(f"unknown engine {unknown[0]!r} (choose from {', '.join(ENGINES)})")
    if "kerastuner" in engines and importlib.util.find_spec("keras_tuner") is None:
        raise TunerError("KerasTuner is not installed: pip install -e '.[bench]'")


def run_engine(engine: str, budget: float, *, space: str, seed: int = 0) -> EngineRun:
    check_engines([engine])
    with tempfile.TemporaryDirectory(prefix=f"engine-{engine}-") as folder:
        folder = Path(folder)
        if engine in TUNER_ENGINES:
            return _run_tuner(engine, budget, space=space, seed=seed, folder=folder)
        events_file = folder / "events.jsonl"
        command = [
            sys.executable, "-m", "tuner.bench.peers", engine, "--budget", str(budget),
            "--space", space, "--seed", str(seed), "--events", str(events_file),
            "--folder", str(folder),
        ]  # fmt: skip
        started = time.time()
        error = _run_until(command, budget, stop=signal.SIGTERM)
        return EngineRun(engine, budget, _read_events(events_file, started, budget), error)


def _run_tuner(engine: str, budget: float, *, space: str, seed: int, folder: Path) -> EngineRun:
    """`tuner run` with its defaults but the backend, interrupted (Ctrl-C) at the budget.

    Its JAX compilation cache starts empty in the run's folder, as on a first run: what
    earlier runs compiled does not count for it.
    """
    import optuna
    from optuna.trial import TrialState

    storage = f"sqlite:///{folder / 'tuner.db'}"
    command = [
        sys.executable, "-m", "tuner.cli", "run", "--trials", "1000000",
        "--timeout", str(budget), "--backend", TUNER_ENGINES[engine][0],
        "--pruner", TUNER_ENGINES[engine][1],
        "--storage", storage, "--artifacts", str(folder / "artifacts"),
        "--space", space, "--seed", str(seed), "--quiet",
    ]  # fmt: skip
    started = time.time()
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(folder / "jax-cache")}
    error = _run_until(command, budget, stop=signal.SIGINT, env=env)
    names = optuna.get_all_study_names(storage)
    if len(names) != 1:  # the run died before it made its study
        return EngineRun(engine, budget, [], error or "no study was made")
    events = []
    for t in optuna.load_study(study_name=names[0], storage=storage).trials:
        if t.state not in (TrialState.COMPLETE, TrialState.PRUNED):
            continue
        seconds = t.datetime_complete.timestamp() - started
        if seconds <= budget:
            events.append(Event(seconds, t.value if t.state == TrialState.COMPLETE else None))
    return EngineRun(engine, budget, sorted(events, key=lambda e: e.seconds), error)


def _run_until(
    command: list[str], budget: float, *, stop: signal.Signals, env: dict[str, str] | None = None
) -> str | None:
    """Run `command` for `budget` seconds at most, then `stop` it: why it ended early, if so.

    However this returns (Ctrl-C included), the process is not left running.
    """
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        try:
            process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            if _stop(process, stop):
                return None
            return f"did not stop within {SHUTDOWN_GRACE:.0f} s of {stop.name}: killed"
        finally:
            _stop(process, stop)
        if process.returncode == 0:
            return f"ended by itself after {time.monotonic() - started:.0f} s"
        stderr.seek(0)
        lines = [line for line in stderr.read().splitlines() if line.strip()]
        return f"exit {process.returncode}: {lines[-1] if lines else 'no message'}"[:300]


def _stop(process: subprocess.Popen, stop: signal.Signals) -> bool:
    """Stop `process` with `stop`, or kill it after the grace period: whether `stop` did it."""
    if process.poll() is not None:
        return True
    process.send_signal(stop)
    try:
        process.wait(timeout=SHUTDOWN_GRACE)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


def _read_events(path: Path, started: float, budget: float) -> list[Event]:
    if not path.exists():
        return []
    events = [
        Event(record["time"] - started, record["value"])
        for record in map(json.loads, path.read_text().splitlines())
    ]
    return [e for e in events if e.seconds <= budget]
