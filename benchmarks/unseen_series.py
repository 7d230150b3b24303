"""Series nothing was tuned on: does the default export beat persistence and stay near
gradient boosting on them (hourly temperature, pressure, dew point; a daily and a
15-minute series)?

Usage: python benchmarks/unseen_series.py [--stations Aotizhongxin,Changping]
       [--targets TEMP,PRES,DEWP,PM2.5] [--seeds 0] [--timeout 600 | --trials N]
       [--against REF] [--out FILE.jsonl] [--results benchmarks/results]
       [--max-epochs N] [--replicates N]

A station is one of the multi-site files (Aotizhongxin, Changping), `beijing` (the Beijing
PM2.5 file, whose PM2.5 column is `pm2.5`), or a series of another step that
`benchmarks/series.py` makes (`beijing-daily`, `changping-15min`: their own target, split
and time column; `--targets` does not apply to them). For each station, target and seed:
`tuner run --timeout S --seed N` then `tuner export`, each in a fresh temporary folder, by
this tree's tuner; with `--against REF` (a git revision), the same run and export again by
that revision's tuner, so that the two products are paired by data, target and seed. Each
export's metadata gives the test RMSE beside persistence and the gradient-boosting
baseline, both scored by export on the same test windows; the best trial's validation RMSE
beside validation persistence and boosting says what the search found. Rows are appended
to `--out` as JSON lines (an interrupted run resumes); the table is printed from them.
Timed runs should run one at a time; `--trials N` is a budget the machine's load does not
change. `--results` writes `forecast/STATION-TARGET-unseen-seedS.json` there per series and
seed run, this tree's row with REF's beside it (`record.py`).
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

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402
import series  # noqa: E402
from series import data_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STATIONS = ("Aotizhongxin", "Changping")
TARGETS = ("TEMP", "PRES", "DEWP", "PM2.5")
FILE = "PRSA_Data_{}_20130301-20170228.csv"


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


def made_series(folder: Path) -> dict[str, tuple[str, ...]]:
    """`benchmarks/series.py`'s series written to `folder`: each one's `tuner run` data
    flags, by name."""
    written = series.write(folder, data_dir())
    return {s.name: ("--data", str(written[s.name]), *s.flags) for s in series.SERIES}


def flags(station: str, target: str, made: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """`tuner run`'s data flags for a station's target (a made series: its own)."""
    if station in made:
        return made[station]
    if station == "beijing":
        return ("--data", "beijing", "--target", "pm2.5" if target.upper() == "PM2.5" else target)
    return ("--data", str(data_dir() / FILE.format(station)), "--target", target)


def target_of(station: str, target: str, made: dict[str, tuple[str, ...]]) -> str:
    data = flags(station, target, made)
    return data[data.index("--target") + 1]


def run_and_export(tree: Path, data: tuple[str, ...], seed: int, run_args: list[str]) -> dict:
    """One `tuner run` and `tuner export` in a fresh folder: what the table shows."""
    with tempfile.TemporaryDirectory(prefix="unseen-") as folder:
        folder = Path(folder)
        started = time.monotonic()
        args = [*data, *run_args]
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
    parser.add_argument("--results", type=Path, help="write result files in this folder")
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
    ran = []
    with tempfile.TemporaryDirectory(prefix="unseen-data-") as unpacked:
        made = made_series(Path(unpacked) / "series")
        products = {"this": ROOT}
        if args.against:
            products[args.against] = tree_of(args.against, Path(unpacked))
        for station in args.stations.split(","):
            targets = [None] if station in made else args.targets.split(",")
            for target in dict.fromkeys(target_of(station, t, made) for t in targets):
                for seed in map(int, args.seeds.split(",")):
                    for product, tree in products.items():
                        key = (station, target, seed, product, budget)
                        ran.append(key)
                        if any(_key(r) == key for r in rows):
                            continue
                        row = {"station": station, "target": target, "seed": seed}
                        row |= {"product": product, "timeout": budget}
                        row |= run_and_export(tree, flags(station, target, made), seed, run_args)
                        rows.append(row)
                        if args.out:
                            with args.out.open("a") as f:
                                f.write(json.dumps(row) + "\n")
                        print(table([row]).splitlines()[1], flush=True)
    print(table(rows))
    if args.results:
        for path in record_results(args.results, rows, ran, args.against):
            print(path)


def record_results(
    folder: Path, rows: list[dict], ran: list[tuple], against: str | None
) -> list[Path]:
    """One result file per series and seed run now: this tree's row, REF's beside it."""
    by_key = {_key(r): r for r in rows}
    written = []
    for station, target, seed, product, budget in ran:
        if product != "this":
            continue
        before = by_key.get((station, target, seed, against, budget)) if against else None
        result = {"budget": budget, "export": by_key[(station, target, seed, product, budget)]}
        result["against"] = {"revision": against, **before} if before else None
        stem = f"{station}-{target}".lower().replace(".", "")
        out = folder / "forecast" / f"{stem}-unseen-seed{seed}.json"
        written.append(record.write(out, result))
    return written


def _key(row: dict) -> tuple:
    return (row["station"], row["target"], row["seed"], row["product"], row["timeout"])


if __name__ == "__main__":
    main()
