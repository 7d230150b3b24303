"""The headline run: `tuner run` in an empty folder, timed, then both exports, scored.

Usage: python benchmarks/search_and_export.py --seed S [--trials 100] [--data FILE
       --target COL] [--name beijing] [--variant default] [tuner run options ...]

Writes `results/speed/NAME-VARIANT-seedS.json` (wall time, trials by outcome, best
validation RMSE, noise floor) and `results/forecast/NAME-VARIANT-seedS.json` (the default
export's and `--single`'s test RMSE; for several steps ahead, the export's and the
baselines' test RMSE by step), each with its provenance (`record.py`). The variant names
what the run options change (`24steps` for `--horizon 24 --every-step`). The folder
has an empty JAX cache, as a user's first run does; the machine should be otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import record


def tuner(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args], cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"tuner {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")
    return done


def metadata(bundle: Path) -> dict:
    return json.loads((bundle / "metadata.json").read_text())


def by_step(meta: dict) -> dict:
    """The export's and the baselines' test RMSE by step, for a bundle of several steps."""
    if len(meta.get("steps", [1])) < 2:
        return {}
    return {
        "steps": meta["steps"],
        "export_test_rmse_by_step": [round(v, 3) for v in meta["test_rmse_by_step"]],
        "baselines_test": {
            name: {"rmse": round(b["rmse"], 3), "by_step": [round(v, 3) for v in b["by_step"]]}
            for name, b in meta["baselines_test"].items()
        },
    }


def measure(run_args: list[str], folder: Path) -> tuple[dict, dict]:
    """The speed and forecast results of one run in `folder`."""
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(folder / "jax-cache")
    start = time.monotonic()
    tuner("run", "--quiet", *run_args, cwd=folder)
    wall = time.monotonic() - start
    best = json.loads(tuner("best", "--json", cwd=folder).stdout)
    tuner("export", "--quiet", cwd=folder)
    tuner("export", "--quiet", "--single", "--out", "results/single", cwd=folder)
    floor = best["noise_floor"]
    trials = run_args[run_args.index("--trials") + 1]
    speed = {
        "trials": int(trials),
        "wall_seconds": round(wall),
        "complete": best["trials"].get("complete", 0),
        "pruned": best["trials"].get("pruned", 0),
        "best_val_rmse": round(best["best"]["val_rmse"], 3),
        "noise_floor": None if floor is None else round(floor["floor"], 3),
    }
    export = metadata(folder / "results" / "best")
    forecast = {
        "trials": int(trials),
        "export_test_rmse": round(export["test_rmse"], 3),
        "single_test_rmse": round(metadata(folder / "results" / "single")["test_rmse"], 3),
        **by_step(export),
    }
    return speed, forecast


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--name", default="beijing", help="the dataset's name in result files")
    parser.add_argument("--variant", default="default", help="what the run options change")
    parser.add_argument("--out", type=Path, default=record.RESULTS, help="the results folder")
    args, run_args = parser.parse_known_args(argv)
    run_args = [*run_args, "--trials", str(args.trials), "--seed", str(args.seed)]
    with tempfile.TemporaryDirectory(prefix="tuner-headline-") as folder:
        speed, forecast = measure(run_args, Path(folder))
    stem = f"{args.name}-{args.variant}-seed{args.seed}.json"
    command = [Path(sys.executable).name, *sys.argv]
    for headline, result in (("speed", speed), ("forecast", forecast)):
        print(record.write(args.out / headline / stem, result, command))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
