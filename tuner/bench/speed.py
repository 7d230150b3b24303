"""`tuner bench speed`: per-epoch cost of tuner's training path, and trials per hour by --jobs.

Each backend is measured in its own process (the backend is fixed at Keras's import); within
that process the tuner path (`tuner.model.training.fit` inside a trial) and a bare `model.fit` of
the same model and windows, as a user writes it (partial last batch, validation in batches
of the training size), alternate, `repeats` times each, each first in turn, and their
medians are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tuner.errors import TunerError

BENCH_PARAMS = {"units": 24, "seq_len": 24, "learning_rate": 1e-3, "batch_size": 64}


@dataclass(frozen=True)
class EpochTimes:
    backend: str
    windows: int
    tuner_s: float  # median seconds per epoch, tuner's objective
    bare_s: float  # median seconds per epoch, bare model.fit

    @property
    def ratio(self) -> float:
        """Throughput of the tuner path as a share of a bare fit's."""
        return self.bare_s / self.tuner_s


@dataclass(frozen=True)
class Throughput:
    jobs: int
    finished: int
    seconds: float

    @property
    def per_hour(self) -> float:
        return 3600 * self.finished / self.seconds


def epoch_times(backend: str, *, epochs: int = 5, repeats: int = 3) -> EpochTimes:
    """Run `measure_here` in a fresh process with `backend`."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuner.bench.speed",
            "--backend",
            backend,
            "--epochs",
            str(epochs),
            "--repeats",
            str(repeats),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise TunerError(f"speed benchmark on {backend} failed: {result.stderr.strip()[-300:]}")
    return EpochTimes(**json.loads(result.stdout.strip().splitlines()[-1]))


def measure_here(backend: str, epochs: int, repeats: int) -> EpochTimes:
    from tuner.model.backend import use_backend

    use_backend(backend)
    import keras
    import optuna

    from tuner.data.prepared import prepare
    from tuner.data.sources import resolve
    from tuner.model.network import build_model
    from tuner.model.params import TrainingSettings
    from tuner.model.training import fresh_session
    from tuner.search.objective import Objective
    from tuner.search.pruner import NoiseAwarePruner
    from tuner.search.space import ModelParams, ParamSpec, SearchSpace

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    params = ModelParams(**BENCH_PARAMS)
    data = prepare(resolve("beijing"))
    train, val = data.windows("train", params.seq_len), data.windows("val", params.seq_len)
    fixed = {k: ParamSpec(k, "fixed", choices=(v,)) for k, v in BENCH_PARAMS.items()}
    space = SearchSpace("bench", fixed, TrainingSettings(max_epochs=epochs, patience=epochs))
    objective = Objective(data, space, space.training, seed=0)

    def tuner_path() -> None:
        optuna.create_study(pruner=NoiseAwarePruner()).optimize(objective, n_trials=1)

    def bare_fit() -> None:
        fresh_session()
        keras.utils.set_random_seed(0)
        model = build_model(params, data.n_features, space.training, scales=data.target_scales)
        model.fit(
            train.x,
            train.y,
            batch_size=params.batch_size,
            epochs=epochs,
            validation_data=(val.x, val.y),
            verbose=0,
        )

    seconds: dict[str, list[float]] = {"tuner": [], "bare": []}
    pair = [("tuner", tuner_path), ("bare", bare_fit)]
    for repeat in range(repeats):
        # Each goes first in turn, so that neither pays alone for what the other leaves behind.
        for name, run in pair if repeat % 2 == 0 else pair[::-1]:
            start = time.perf_counter()
            run()
            seconds[name].append((time.perf_counter() - start) / epochs)
    return EpochTimes(
        backend=backend,
        windows=len(train),
        tuner_s=statistics.median(seconds["tuner"]),
        bare_s=statistics.median(seconds["bare"]),
    )


def throughput(jobs: int, budget: float, *, space: str, seed: int = 0) -> Throughput:
    """Finished trials of a fresh `tuner run --jobs jobs` stopped after `budget` seconds.

    Fresh down to its JAX compilation cache, so that one run does not compile for the next.
    """
    with tempfile.TemporaryDirectory() as folder:
        storage = f"sqlite:///{Path(folder) / 'speed.db'}"
        start = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tuner.cli",
                "run",
                "--trials",
                "100000",
                "--timeout",
                str(budget),
                "--jobs",
                str(jobs),
                "--storage",
                storage,
                "--artifacts",
                str(Path(folder) / "artifacts"),
                "--space",
                space,
                "--seed",
                str(seed),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "JAX_COMPILATION_CACHE_DIR": str(Path(folder) / "jax-cache")},
        )
        seconds = time.monotonic() - start
        if result.returncode != 0:
            raise TunerError(f"tuner run --jobs {jobs} failed: {result.stderr.strip()[-300:]}")
        import optuna

        study = optuna.load_study(study_name=None, storage=storage)
        finished = sum(t.state.is_finished() and t.state.name != "FAIL" for t in study.trials)
    return Throughput(jobs=jobs, finished=finished, seconds=seconds)


def format_tables(epochs: list[EpochTimes], runs: list[Throughput]) -> str:
    lines = [
        "| backend | tuner s/epoch | bare model.fit s/epoch | tuner/bare throughput |",
        "| --- | --- | --- | --- |",
        *(f"| {e.backend} | {e.tuner_s:.3f} | {e.bare_s:.3f} | {e.ratio:.3f} |" for e in epochs),
    ]
    if runs:
        base = runs[0].per_hour
        lines += [
            "",
            "| --jobs | finished trials | seconds | trials per hour | vs --jobs 1 |",
            "| --- | --- | --- | --- | --- |",
            *(
                f"| {r.jobs} | {r.finished} | {r.seconds:.0f} | {r.per_hour:.0f} "
                f"| {r.per_hour / base:.2f}x |"
                for r in runs
            ),
        ]
    return "\n".join(lines)


def to_json(epochs: list[EpochTimes], runs: list[Throughput]) -> str:
    return json.dumps(
        {
            "epochs": [asdict(e) | {"ratio": e.ratio} for e in epochs],
            "throughput": [asdict(r) | {"per_hour": r.per_hour} for r in runs],
        },
        indent=2,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asdict(measure_here(args.backend, args.epochs, args.repeats))))
