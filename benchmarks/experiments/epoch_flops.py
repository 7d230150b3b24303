"""An epoch's achieved FLOP/s, for the configurations searches settle on, against one core's.

Usage: TUNER_DATA_DIR=path/to/data taskset -c 1 python benchmarks/experiments/epoch_flops.py \
           STORAGE_URL [STORAGE_URL ...] [--top 5]

For each study, its `--top` completed trials by validation RMSE: the arithmetic of one
epoch (the matrix products of the LSTM over every training window, forward and backward,
and over every validation window, forward), counted from the configuration and the
study's data, over the epoch's recorded seconds (the median of those after the first,
which compiles; each worker held to one core). The core's reach is measured here: the
best of a few float32 matrix products under XLA on one thread, as a worker runs. Run it
held to one core on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import optuna  # noqa: E402

from tuner.data.prepared import prepare  # noqa: E402
from tuner.search import attrs  # noqa: E402
from tuner.search.cost import epoch_cost  # noqa: E402


def lstm_flops(windows: int, seq_len: int, units: int, n_features: int) -> float:
    """Multiply-adds of the four gates' products, counted as 2 FLOPs each, per pass."""
    return 2.0 * windows * seq_len * 4 * units * (n_features + units)


def epoch_gflop(params: dict, data) -> float:
    """Training: forward and backward (twice the forward's products); validation: forward."""
    seq_len, units = params["seq_len"], params["units"]
    train = len(data.windows("train", seq_len))
    val = len(data.windows("val", seq_len))
    forward = lstm_flops(train, seq_len, units, data.n_features)
    return (3 * forward + lstm_flops(val, seq_len, units, data.n_features)) / 1e9


def core_gflops(size: int = 2048, repeats: int = 5) -> float:
    import jax
    import jax.numpy as jnp

    a = jnp.ones((size, size), jnp.float32)
    matmul = jax.jit(lambda x: x @ x)
    matmul(a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        matmul(a).block_until_ready()
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storages", nargs="+")
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    peak = core_gflops()
    print(f"one core, float32 matrix product 2048 x 2048 under XLA: {peak:.1f} GFLOP/s")
    prepared = {}
    rows = []
    for storage in args.storages:
        study = optuna.load_study(study_name=None, storage=storage)
        spec = attrs.data_spec(study.user_attrs)
        if spec not in prepared:
            prepared[spec] = prepare(spec)
        data = prepared[spec]
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        for trial in sorted(complete, key=lambda t: t.value)[: args.top]:
            params = trial.user_attrs[attrs.MODEL_PARAMS]
            seconds = epoch_cost(trial.user_attrs.get(attrs.EPOCH_SECONDS))
            gflop = epoch_gflop(params, data)
            rows.append(gflop / seconds)
            print(
                f"{storage} trial {trial.number}: units {params['units']}, seq_len "
                f"{params['seq_len']}, batch {params['batch_size']}: {gflop:.1f} GFLOP in "
                f"{seconds:.2f} s = {gflop / seconds:.1f} GFLOP/s ({gflop / seconds / peak:.0%})"
            )
    print(
        f"median over {len(rows)} trials: {statistics.median(rows):.1f} GFLOP/s "
        f"({statistics.median(rows) / peak:.0%} of the core's)"
    )


if __name__ == "__main__":
    main()
