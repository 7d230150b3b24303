"""The LightGBM baseline (`tuner/model/baseline.py`) against persistence, in target units.

Usage: TUNER_DATA_DIR=path/to/data python benchmarks/baseline.py [--seeds 0,1,2]
       [--data beijing,PATH.csv,...] [--target PM2.5] [--out benchmarks/results/forecast]

Each dataset is prepared with its test rows (the built-in with its own dates and target, a
CSV with `--target` and the default 70/15/15 split), fitted once per seed, and scored on
validation and test on exactly the rows persistence is scored on. The multi-site stations
are read from `$TUNER_DATA_DIR` by default. With `--out`, each dataset's rows are also
written to `OUT/<dataset>-boosting.json` (benchmarks/record.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tuner.data.prepared import prepare
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
    parser.add_argument("--out", type=Path, help="folder of the result files")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    sources = args.data.split(",") if args.data else _default_data()

    print("| data | seed | rounds | fit s | val RMSE | persistence | test RMSE | persistence |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for source in sources:
        spec = resolve(source, target=None if source in BUILTINS else args.target)
        data = prepare(spec, with_test=True)
        val_p, test_p = data.persistence_rmse("val"), data.persistence_rmse("test")
        rows = []
        for seed in seeds:
            start = time.perf_counter()
            model = fit_baseline(data, seed=seed)
            seconds = time.perf_counter() - start
            print(
                f"| {spec.name} | {seed} | {model.best_iteration} | {seconds:.1f} "
                f"| {model.rmse('val'):.3f} | {val_p:.3f} "
                f"| {model.rmse('test'):.3f} | {test_p:.3f} |",
                flush=True,
            )
            rows.append(
                {"seed": seed, "rounds": model.best_iteration, "fit_seconds": round(seconds, 1),
                 "val_rmse": model.rmse("val"), "test_rmse": model.rmse("test")}
            )  # fmt: skip
        if args.out:
            result = {"persistence_val_rmse": val_p, "persistence_test_rmse": test_p, "seeds": rows}
            record.write(args.out / f"{dataset_name(spec.name)}-boosting.json", result)


def dataset_name(stem: str) -> str:
    """`PRSA_Data_Changping_20130301-20170228` -> `changping`; `beijing` stays."""
    parts = stem.split("_")
    return (parts[2] if len(parts) > 3 and parts[0] == "PRSA" else stem).lower()


if __name__ == "__main__":
    main()
