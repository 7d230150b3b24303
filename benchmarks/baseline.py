"""The LightGBM baseline (`tuner/model/baseline.py`) against persistence, in target units.

Usage: TUNER_DATA_DIR=path/to/data python benchmarks/baseline.py [--seeds 0,1,2]
       [--data beijing,PATH.csv,...] [--target PM2.5] [--horizon H [--every-step]]
       [--threads N] [--out benchmarks/results/forecast]

Each dataset is prepared with its test rows (the built-in with its own dates and target, a
CSV with `--target` and the default 70/15/15 split), fitted once per seed, and scored on
validation and test on exactly the origins persistence is scored on, over every step. With
`--every-step` (steps 1..H), each seed's RMSE step by step follows, beside persistence's
and the seasonal naive forecast's. The multi-site stations are read from `$TUNER_DATA_DIR`
by default. With `--out`, each dataset's rows are also written to
`OUT/<dataset>-boosting.json` (benchmarks/record.py; `-steps` after the name with
`--every-step`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tuner.data import naive
from tuner.data.prepared import PreparedData, prepare
from tuner.data.sources import BUILTINS, resolve
from tuner.model.baseline import fit_baseline

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402

STATIONS = ("Aotizhongxin", "Changping")


def _default_data() -> list[str]:
    folder = Path(os.environ.get("TUNER_DATA_DIR", "."))
    return ["beijing"] + [str(folder / f"PRSA_Data_{s}_20130301-20170228.csv") for s in STATIONS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data", default=None, help="comma-separated; default: the three files")
    parser.add_argument("--target", default="PM2.5", help="the target of a CSV not built in")
    parser.add_argument("--horizon", type=int, default=1)
    parser.add_argument("--every-step", action="store_true", help="steps 1..H, each scored")
    parser.add_argument("--threads", type=int, default=1, help="steps fitted at once")
    parser.add_argument("--out", type=Path, help="folder of the result files")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    sources = args.data.split(",") if args.data else _default_data()

    print("| data | seed | rounds | fit s | val RMSE | persistence | test RMSE | persistence |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for source in sources:
        spec = resolve(
            source,
            target=None if source in BUILTINS else args.target,
            horizon=args.horizon,
            every_step=args.every_step,
        )
        data = prepare(spec, with_test=True)
        result = _dataset(spec.name, data, seeds, args.threads, by_step=args.every_step)
        if args.out:
            suffix = "-steps" if args.every_step else ""
            record.write(args.out / f"{dataset_name(spec.name)}-boosting{suffix}.json", result)


def _dataset(name: str, data: PreparedData, seeds: list[int], threads: int, *, by_step: bool):
    """Fit and score each seed, printing its row: the dataset's result document."""
    val_p, test_p = data.persistence_rmse("val"), data.persistence_rmse("test")
    rows = []
    for seed in seeds:
        start = time.perf_counter()
        model = fit_baseline(data, seed=seed, threads=threads)
        seconds = time.perf_counter() - start
        rounds = "/".join(str(r) for r in model.best_iterations)
        print(
            f"| {name} | {seed} | {rounds} | {seconds:.1f} "
            f"| {model.rmse('val'):.3f} | {val_p:.3f} "
            f"| {model.rmse('test'):.3f} | {test_p:.3f} |",
            flush=True,
        )
        row = {"seed": seed, "fit_seconds": round(seconds, 1)}
        row["rounds"] = model.best_iterations[0] if len(data.steps) == 1 else model.best_iterations
        row |= {"val_rmse": model.rmse("val"), "test_rmse": model.rmse("test")}
        if by_step:
            row |= {f"{p}_rmse_by_step": model.rmse_by_step(p) for p in ("val", "test")}
        rows.append(row)
    result = {"persistence_val_rmse": val_p, "persistence_test_rmse": test_p, "seeds": rows}
    if by_step:
        result["steps"] = list(data.steps)
        result["naive_by_step"] = {part: _naive_by_step(data, part) for part in ("val", "test")}
        _print_steps(name, data, rows, result["naive_by_step"])
    return result


def _naive_by_step(data: PreparedData, part: str) -> dict[str, list[float]]:
    origins = data.scored_origins(part)
    observed = data.observed(origins)
    forecasts = data.naive_forecasts(origins)
    return {k: list(naive.rmse_by_step(f, observed)) for k, f in forecasts.items()}


def _print_steps(name: str, data: PreparedData, rows: list[dict], naive_by_step: dict) -> None:
    """One line per step: each seed's test RMSE, then each naive forecast's."""
    names = list(naive_by_step["test"])
    seeds = [f"seed {row['seed']}" for row in rows]
    print(f"\n{name}, test RMSE by step:\n")
    print("| step | " + " | ".join(seeds + names) + " |")
    print("| --- |" + " --- |" * (len(seeds) + len(names)))
    for i, step in enumerate(data.steps):
        values = [row["test_rmse_by_step"][i] for row in rows]
        values += [naive_by_step["test"][k][i] for k in names]
        print(f"| {step} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    print()


def dataset_name(stem: str) -> str:
    """`PRSA_Data_Changping_20130301-20170228` -> `changping`; `beijing` stays."""
    parts = stem.split("_")
    return (parts[2] if len(parts) > 3 and parts[0] == "PRSA" else stem).lower()


if __name__ == "__main__":
    main()
