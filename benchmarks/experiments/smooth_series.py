"""Does the default export beat persistence and stay near gradient boosting on series nothing
was tuned on, smooth ones included (temperature, pressure, dew point)?

Usage: python benchmarks/experiments/smooth_series.py [--stations Aotizhongxin,Changping]
       [--targets TEMP,PRES,DEWP,PM2.5] [--seeds 0] [--timeout 600 | --trials N]
       [--against REF] [--out FILE.jsonl] [--max-epochs N] [--replicates N]

A station is one of the multi-site files (Aotizhongxin, Changping) or `beijing`, the
Beijing PM2.5 file (its PM2.5 column is `pm2.5`). For each station, target and seed:
`tuner run --timeout S --seed N` then `tuner export`, each in a fresh temporary folder, by
this tree's tuner; with `--against REF` (a git revision, e.g. main), the same run and
export again by that revision's tuner, so that the two products are paired by data, target
and seed. Each export's metadata gives the test RMSE beside persistence and the
gradient-boosting baseline, both scored by export on the same test windows; the best
trial's validation RMSE beside validation persistence and boosting says what the search
found. Rows are appended to `--out` as JSON lines (an interrupted run resumes); the table
is printed from them. Timed runs should run one at a time; `--trials N` instead of
`--timeout` is a budget that the machine's load does not change.
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

ROOT = Path(__file__).resolve().parents[2]
STATIONS = ("Aotizhongxin", "Changping")
TARGETS = ("TEMP", "PRES", "DEWP", "PM2.5")
FILE = "PRSA_Data_{}_20130301-20170228.csv"


def data_dir() -> Path:
    return Path(os.environ.get("TUNER_DATA_DIR", ROOT.parent / "shared" / "data"))


def tree_of(ref: str, into: Path) -> Path:
    """The tuner package of git revision `ref`, unpacked under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "tuner"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def tuner(tree: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree), "TUNER_DATA_DIR": str(data_dir())}
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )


def source(station: str, target: str) -> tuple[str, str]:
    """`--data` and `--target` of a station's target."""
    if station == "beijing":
        return "beijing", "pm2.5" if target.upper() == "PM2.5" else target
    return str(data_dir() / FILE.format(station)), target


def run_and_export(tree: Path, station: str, target: str, seed: int, run_args: list[str]) -> dict:
    """One `tuner run` and `tuner export` in a fresh folder: what the table shows."""
    with tempfile.TemporaryDirectory(prefix="smooth-") as folder:
        folder = Path(folder)
        started = time.monotonic()
        data, column = source(station, target)
        args = ["--data", data, "--target", column, *run_args]
        done = tuner(tree, folder, "run", *args, "--seed", str(seed), "--quiet")
        if done.returncode != 0:
            raise SystemExit(f"tuner run failed: {done.stderr.strip()[-400:]}")
        best = json.loads(tuner(tree, folder, "best", "--json").stdout)
        done = tuner(tree, folder, "export", "--quiet")
        if done.returncode != 0:
            raise SystemExit(f"tuner export failed: {done.stderr.strip()[-400:]}")
        meta = json.loads((folder / "results" / "best" / "metadata.json").read_text())
    return {
        "seconds": round(time.monotonic() - started, 1),
        "trials": (best.get("trials") or {}).get("complete"),
        "boosting_val_rmse": best.get("boosting_val_rmse"),
        "val_rmse": meta["search_val_rmse"],
        "persistence_val_rmse": meta["persistence_val_rmse"],
        "test_rmse": meta["test_rmse"],
        "persistence_test_rmse": meta["persistence_test_rmse"],
        "boosting_test_rmse": meta["boosting_test_rmse"],
        "members": [[m["trial"], m["epochs"]] for m in meta.get("members") or []],
    }


def gain(value: float, reference: float | None) -> str:
    """How much lower `value` is than `reference`, in percent (negative: worse)."""
    if reference is None:
        return "-"
    return f"{100 * (1 - value / reference):+.1f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def table(rows: list[dict]) -> str:
    head = (
        f"{'station':<13}{'target':<7}{'seed':>4} {'product':<9}{'trials':>7}"
        f"{'val vs pers':>12}{'vs boost':>9}{'test':>10}{'persist':>9}{'boost':>9}"
        f"{'vs pers':>9}{'vs boost':>9}  members (trial, epochs)"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['station']:<13}{r['target']:<7}{r['seed']:>4} {r['product']:<9}"
            f"{r['trials'] if r['trials'] is not None else '-':>7}"
            f"{gain(r['val_rmse'], r['persistence_val_rmse']):>12}"
            f"{gain(r['val_rmse'], r.get('boosting_val_rmse')):>9}{r['test_rmse']:>10.4f}"
            f"{r['persistence_test_rmse']:>9.4f}{_number(r['boosting_test_rmse']):>9}"
            f"{gain(r['test_rmse'], r['persistence_test_rmse']):>9}"
            f"{gain(r['test_rmse'], r['boosting_test_rmse']):>9}  {r['members']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", default=",".join(STATIONS))
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--trials", type=int, help="a budget of trials instead of --timeout")
    parser.add_argument("--against", help="a git revision whose tuner is run beside this one")
    parser.add_argument("--out", type=Path, help="JSON lines, appended (default: none)")
    parser.add_argument("--max-epochs", type=int, help="tuner run's, for a quick look")
    parser.add_argument("--replicates", type=int, help="tuner run's, for a quick look")
    args = parser.parse_args()
    budget = f"{args.trials} trials" if args.trials else args.timeout
    run_args = ["--trials", str(args.trials)] if args.trials else ["--timeout", str(args.timeout)]
    for option in ("max_epochs", "replicates"):
        if getattr(args, option) is not None:
            run_args += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    rows = (
        [json.loads(line) for line in args.out.read_text().splitlines()]
        if (args.out and args.out.exists())
        else []
    )
    with tempfile.TemporaryDirectory(prefix="smooth-tree-") as unpacked:
        products = {"this": ROOT}
        if args.against:
            products[args.against] = tree_of(args.against, Path(unpacked))
        for station in args.stations.split(","):
            for target in args.targets.split(","):
                for seed in map(int, args.seeds.split(",")):
                    for product, tree in products.items():
                        key = (station, target, seed, product, budget)
                        if any(_key(r) == key for r in rows):
                            continue
                        row = {"station": station, "target": target, "seed": seed}
                        row |= {"product": product, "timeout": budget}
                        row |= run_and_export(tree, station, target, seed, run_args)
                        rows.append(row)
                        if args.out:
                            with args.out.open("a") as f:
                                f.write(json.dumps(row) + "\n")
                        print(table([row]).splitlines()[1], flush=True)
    print(table(rows))


def _key(row: dict) -> tuple:
    return (row["station"], row["target"], row["seed"], row["product"], row["timeout"])


if __name__ == "__main__":
    main()
