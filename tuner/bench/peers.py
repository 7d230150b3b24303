"""The peers of `tuner bench engines`, each run in a process of its own: plain Optuna and
KerasTuner's Hyperband, written as their users write them, training by tuner's recipe.

Usage (by `tuner.bench.engines`): python -m tuner.bench.peers ENGINE --budget S --space
SPACE --seed N --events FILE --folder DIR. Each finished trial is appended to the events file
as a JSON line (time, value).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable
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

HYPERBAND = {"max_epochs": 27, "factor": 3}


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
        pruned = []

        def report(epoch: int, rmse: float) -> bool:
            trial.report(rmse, epoch)
            pruned.append(trial.should_prune())
            return pruned[-1]

        params = space.suggest(trial)
        seeded = derive_seed(seed, trial.number)
        _, record = train(params, data, space.training, seed=seeded, on_epoch=report)
        if any(pruned) or record.diverged:
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
        # Models built so far, KerasTuner's first build (which only reads the space)
        # included: each model is seeded by its count, as a tuner trial by its number.
        built = 0

        def build(self, hp: kt.HyperParameters):
            fresh_session()
            import keras

            keras.utils.set_random_seed(derive_seed(seed, self.built))
            self.built += 1
            return build(params_of(hp), data.n_features, space.training, scales=data.target_scales)

        def fit(self, hp: kt.HyperParameters, model, *args, **kwargs) -> dict[str, float]:
            kwargs.pop("verbose", None)  # KerasTuner passes search()'s; the recipe is silent
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
    parser = argparse.ArgumentParser(prog="python -m tuner.bench.peers")
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
