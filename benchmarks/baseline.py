"""The LightGBM baseline (`tuner/model/baseline.py`) against persistence, in target units.

Usage: TUNER_DATA_DIR=path/to/data python benchmarks/baseline.py [--seeds 0,1,2]
       [--data beijing,PATH.csv,...] [--target PM2.5]

Each dataset is prepared with its test rows (the built-in with its own dates and target, a
CSV with `--target` and the default 70/15/15 split), fitted once per seed, and scored on
validation and test on exactly the rows persistence is scored on. The multi-site stations
are read from `$TUNER_DATA_DIR` by default.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tuner.data.prepared import prepare
from tuner.data.sources import BUILTINS, resolve
from tuner.model.baseline import fit_baseline

STATIONS = ("Aotizhongxin", "Changping")


def _default_data() -> list[str]:
    folder = Path(os.environ.get("TUNER_DATA_DIR", "."))
    return ["beijing"] + [str(folder / f"PRSA_Data_{s}_20130301-20170228.csv") for s in STATIONS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data", default=None, help="comma-separated; default: the three files")
    parser.add_argument("--target", default="PM2.5", help="the target of a CSV not built in")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    sources = args.data.split(",") if args.data else _default_data()

    print("| data | seed | rounds | fit s | val RMSE | persistence | test RMSE | persistence |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for source in sources:
        spec = resolve(source, target=None if source in BUILTINS else args.target)
        data = prepare(spec, with_test=True)
        val_p, test_p = data.persistence_rmse("val"), data.persistence_rmse("test")
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


if __name__ == "__main__":
    main()
