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

import argparse
import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tuner.errors import TunerError
from tuner.model.backend import DEFAULT_BACKEND
from tuner.model.params import ModelParams
from tuner.search.seeds import derive_seed

if TYPE_CHECKING:
    import optuna

    from tuner.data.prepared import PreparedData
    from tuner.search.space import SearchSpace

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
CHECKPOINTS = (300.0, 600.0, 1500.0)
HYPERBAND = {"max_epochs": 27, "factor": 3}
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
    """The runs and baseline of a `--json` report, to show its table again."""
    try:
        report = json.loads(text)
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
            sys.executable, "-m", "tuner.bench.engines", engine, "--budget", str(budget),
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


# Child side: the two other engines, as their users would write them.


def _recorder(path: Path) -> Callable[[float | None], None]:
    def record(value: float | None) -> None:
        with path.open("a") as f:
            f.write(json.dumps({"time": time.time(), "value": value}) + "\n")

    return record


def optuna_objective(
    data: PreparedData, space: SearchSpace, seed: int
) -> Callable[[optuna.Trial], float]:
    """Plain Optuna's objective: tuner's recipe, reported every epoch, pruned as asked."""
    import optuna

    from tuner.model.training import train

    def objective(trial: optuna.Trial) -> float:
        def report(epoch: int, rmse: float) -> bool:
            trial.report(rmse, epoch)
            return trial.should_prune()

        params = space.suggest(trial)
        seeded = derive_seed(seed, trial.number)
        _, record = train(params, data, space.training, seed=seeded, on_epoch=report)
        if trial.should_prune() or record.diverged:
            raise optuna.TrialPruned()
        return record.best

    return objective


def plain_optuna(
    space_path: str, seed: int, budget: float | None, record: Callable[[float | None], None]
) -> None:
    import optuna

    from tuner.data.prepared import prepare
    from tuner.data.sources import resolve
    from tuner.search.space import load_space

    space = load_space(space_path)
    objective = optuna_objective(prepare(resolve("beijing")), space, seed)

    def on_finished(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        # A pruned trial's value is its last reported one: not a result to count as best.
        if trial.state == optuna.trial.TrialState.COMPLETE:
            record(trial.value)
        elif trial.state == optuna.trial.TrialState.PRUNED:
            record(None)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed), pruner=optuna.pruners.MedianPruner()
    )
    study.optimize(objective, timeout=budget, callbacks=[on_finished])


def hypermodel(data: PreparedData, space: SearchSpace, seed: int):
    """KerasTuner's HyperModel of the space: tuner's recipe, split into KerasTuner's two
    calls (`build`, then `fit` with KerasTuner's own callbacks and epochs)."""
    import keras_tuner as kt

    from tuner.model.network import VALIDATION_MSE
    from tuner.model.training import build, fit, fresh_session
    from tuner.search.space import ParamSpec

    def hyperparameter(hp: kt.HyperParameters, spec: ParamSpec) -> int | float:
        sampling = "log" if spec.log else "linear"
        if spec.kind == "int":
            return hp.Int(spec.name, int(spec.low), int(spec.high), sampling=sampling)
        if spec.kind == "float":
            return hp.Float(spec.name, spec.low, spec.high, sampling=sampling)
        if spec.kind == "categorical":
            return hp.Choice(spec.name, list(spec.choices))
        return hp.Fixed(spec.name, spec.choices[0])

    def params_of(hp: kt.HyperParameters) -> ModelParams:
        return ModelParams(**{n: hyperparameter(hp, s) for n, s in space.params.items()})

    class LSTMBaseline(kt.HyperModel):
        built = 0  # models built so far: each is seeded as the trial of that number

        def build(self, hp: kt.HyperParameters):
            fresh_session()
            import keras

            keras.utils.set_random_seed(derive_seed(seed, self.built))
            self.built += 1
            return build(params_of(hp), data.n_features, space.training)

        def fit(self, hp: kt.HyperParameters, model, *args, **kwargs) -> dict[str, float]:
            record = fit(model, params_of(hp), data, space.training, **kwargs)
            best = record.best / data.target_std
            return {VALIDATION_MSE: best**2 if math.isfinite(best) else math.inf}

    return LSTMBaseline()


def keras_tuner_hyperband(
    space_path: str, seed: int, record: Callable[[float | None], None], folder: Path
) -> None:
    import keras_tuner as kt

    from tuner.data.prepared import prepare
    from tuner.data.sources import resolve
    from tuner.model.network import VALIDATION_MSE
    from tuner.search.space import load_space

    space = load_space(space_path)
    data = prepare(resolve("beijing"))

    class RecordedHyperband(kt.Hyperband):
        def on_trial_end(self, trial) -> None:
            super().on_trial_end(trial)
            score = self.oracle.trials[trial.trial_id].score
            if score is not None and math.isfinite(score):
                record(math.sqrt(score) * data.target_std)

    tuner = RecordedHyperband(
        hypermodel(data, space, seed),
        objective=kt.Objective(VALIDATION_MSE, direction="min"),
        **HYPERBAND,
        hyperband_iterations=1000,  # runs until the budget stops it
        seed=seed,
        directory=str(folder),
        project_name="hyperband",
        overwrite=True,
    )
    tuner.search(verbose=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuner.bench.engines")
    parser.add_argument("engine", choices=("optuna", "kerastuner"))
    parser.add_argument("--budget", type=float, help="seconds; the parent stops it anyway")
    parser.add_argument("--space", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--events", required=True)
    parser.add_argument("--folder", required=True)
    args = parser.parse_args(argv)

    from tuner.model.backend import use_backend
    from tuner.search.workers import interrupt_when_orphaned

    use_backend(DEFAULT_BACKEND)
    threading.Thread(target=interrupt_when_orphaned, args=(os.getppid(),), daemon=True).start()
    record = _recorder(Path(args.events))
    try:
        if args.engine == "optuna":
            plain_optuna(args.space, args.seed, args.budget, record)
        else:
            keras_tuner_hyperband(args.space, args.seed, record, Path(args.folder))
    except TunerError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
