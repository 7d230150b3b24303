"""What averaging the weights changes: the same trials, trained with and without it, paired.

Usage: python benchmarks/averaging_effect.py train --ema-momentum M --out FILE
       python benchmarks/averaging_effect.py compare WITHOUT.jsonl WITH.jsonl

`train` runs one `tuner run` trial (the real objective: early stopping, the learning-rate
schedule, whole batches; no pruning) for each configuration and seed below, with the
default space's training settings but `ema_momentum` M, and writes one JSON line per trial.
Run it once with M = 0 and once with M = 0.99 (one process per core: `taskset -c 0`, `-c 1`),
then `compare` the two files line by line.

The configurations: eight around the best trials of the README's 100-trial runs (units
48-120, learning rates 8e-4 to 4.5e-3: where a study's best is decided) and ten drawn from
the default space (seed 7), each with seeds 1 and 2.
"""

import argparse
import json
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path

from tuner.model.backend import use_backend
from tuner.search import attrs

AROUND_BEST = [
    (96, 24, 0.0013, 16),
    (120, 12, 0.0025, 16),
    (100, 12, 0.0024, 32),
    (110, 24, 0.0045, 32),
    (48, 12, 0.0030, 32),
    (64, 24, 0.0010, 64),
    (90, 6, 0.0020, 32),
    (120, 12, 0.0008, 128),
]
DRAWN = 10
SEEDS = (1, 2)


def train(ema_momentum: float, out: Path) -> None:
    use_backend("jax")
    import optuna

    from tuner.bench.curves import draw_configs
    from tuner.data.prepared import prepare
    from tuner.data.sources import resolve
    from tuner.search.objective import Objective
    from tuner.search.space import ModelParams, ParamSpec, load_space

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = load_space("lstm_baseline")
    space = replace(space, training=replace(space.training, ema_momentum=ema_momentum))
    configs = [ModelParams(*c) for c in AROUND_BEST] + draw_configs(space, DRAWN, seed=7)
    data = prepare(resolve("beijing"))
    for seed in SEEDS:
        for params in configs:
            fixed = {k: ParamSpec(k, "fixed", choices=(v,)) for k, v in asdict(params).items()}
            objective = Objective(
                data,
                replace(space, params=fixed),
                space.training,
                seed=seed,
            )
            study = optuna.create_study(pruner=optuna.pruners.NopPruner())
            started = time.perf_counter()
            study.optimize(objective, n_trials=1)
            trial = study.trials[0]
            line = {
                **asdict(params),
                "seed": seed,
                "ema_momentum": ema_momentum,
                "value": trial.value,
                "epochs": trial.user_attrs[attrs.EPOCHS],
                "seconds": round(time.perf_counter() - started, 2),
            }
            print(json.dumps(line), flush=True)
            with out.open("a") as f:
                f.write(json.dumps(line) + "\n")


def compare(without: Path, with_: Path) -> None:
    a = [json.loads(line) for line in without.read_text().splitlines()]
    b = [json.loads(line) for line in with_.read_text().splitlines()]
    keys = ("units", "seq_len", "learning_rate", "batch_size", "seed")
    if [[x[k] for k in keys] for x in a] != [[x[k] for k in keys] for x in b]:
        raise SystemExit("the two files do not hold the same trials in the same order")
    diffs = [y["value"] - x["value"] for x, y in zip(a, b, strict=True)]
    per_seed = len(AROUND_BEST) + DRAWN
    near = [d for i, d in enumerate(diffs) if i % per_seed < len(AROUND_BEST)]
    print(f"trials: {len(diffs)}; better with averaging: {sum(d < 0 for d in diffs)}")
    print(
        f"best val RMSE change, median {statistics.median(diffs):+.3f}, "
        f"mean {statistics.mean(diffs):+.3f} µg/m³"
    )
    print(
        f"  around the best: median {statistics.median(near):+.3f} "
        f"({sum(d < 0 for d in near)} of {len(near)} better)"
    )
    for name in ("epochs", "seconds"):
        sa, sb = sum(x[name] for x in a), sum(x[name] for x in b)
        print(f"{name}: {sa:.0f} -> {sb:.0f} ({sb / sa - 1:+.1%})")
    print(f"best of all: {min(x['value'] for x in a):.3f} -> {min(x['value'] for x in b):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--ema-momentum", type=float, required=True)
    t.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("without", type=Path)
    c.add_argument("with_", type=Path)
    args = parser.parse_args()
    if args.command == "train":
        train(args.ema_momentum, args.out)
    else:
        compare(args.without, args.with_)


if __name__ == "__main__":
    main()
