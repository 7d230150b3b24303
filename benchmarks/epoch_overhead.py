"""Seconds per epoch: tuner's training path against a bare `model.fit` of the same model.

Usage: TUNER_DATA_DIR=../shared/data python benchmarks/epoch_overhead.py [--backend jax]

Both fit the same windows with the same validation data, in the same process, alternating,
3 times each; the median per-epoch time of each and their ratio are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tuner.backend import use_backend


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    backend = use_backend(args.backend)

    import keras
    import optuna

    from tuner.dataset import prepare
    from tuner.model import build_model
    from tuner.objective import Objective, TrainSettings
    from tuner.pruner import NoiseAwarePruner
    from tuner.sources import resolve
    from tuner.space import ModelParams, ParamSpec, SearchSpace

    params = ModelParams(units=24, seq_len=24, learning_rate=1e-3, batch_size=64)
    data = prepare(resolve("beijing"))
    train, val = data.windows("train", params.seq_len), data.windows("val", params.seq_len)
    fixed = {k: ParamSpec(k, "fixed", choices=(v,)) for k, v in vars(params).items()}
    space = SearchSpace("bench", fixed, max_epochs=args.epochs, patience=args.epochs)
    settings = TrainSettings(max_epochs=args.epochs, patience=args.epochs, seed=0)
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def tuner_path() -> None:
        study = optuna.create_study(pruner=NoiseAwarePruner())
        study.optimize(Objective(data, space, settings), n_trials=1)

    def bare_fit() -> None:
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = build_model(params, data.n_features)
        model.fit(
            train.x,
            train.y,
            batch_size=params.batch_size,
            epochs=args.epochs,
            validation_data=(val.x, val.y),
            verbose=0,
        )

    times: dict[str, list[float]] = {"tuner": [], "bare": []}
    for _ in range(args.repeats):
        for name, run in (("tuner", tuner_path), ("bare", bare_fit)):
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / args.epochs)
    tuner_s, bare_s = statistics.median(times["tuner"]), statistics.median(times["bare"])
    print(f"backend {backend}: {len(train)} training windows, units 24, seq_len 24, batch 64")
    print(f"tuner training path: {tuner_s:.3f} s/epoch (median of {args.repeats})")
    print(f"bare model.fit:      {bare_s:.3f} s/epoch (median of {args.repeats})")
    print(f"throughput ratio tuner/bare: {bare_s / tuner_s:.3f}")


if __name__ == "__main__":
    main()
