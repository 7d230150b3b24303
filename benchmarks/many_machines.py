"""Many machines on one PostgreSQL study: are trials lost or duplicated, and does the
database's time per trial grow as the study does?

Usage: python benchmarks/many_machines.py --storage postgresql://USER@HOST:PORT/DB
       [--machines 8] [--trials 200] [--out benchmarks/results/machines/beijing-8x200.json]

Starts `--machines` `tuner run --jobs 1` processes at once on the study (as a scheduler
starts one per machine: each its own process with its own worker), with 1-epoch trials of
the tests' fast space on the Beijing file, until the study has `--trials` finished ones.
Every SQL statement each process sends is timed on the client (`sql_timing/`), so that the
database's seconds per trial can be compared between the first and the last 50 trials to
finish. The database must be empty, or hold no study of that name.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402

HERE = Path(__file__).parent
ROOT = HERE.parent
SPACE = ROOT / "tests" / "fast_space.toml"
STUDY = "many-machines"
WINDOW = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--machines", type=int, default=8)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tuner-machines-"))
    log = work / "sql"
    log.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE / "sql_timing"), str(ROOT)])),
        "TUNER_BENCH_SQL_LOG": str(log),
    }
    command = [
        sys.executable, "-m", "tuner.cli", "run", "--storage", args.storage,
        "--artifacts", str(work / "artifacts"), "--study", STUDY, "--space", str(SPACE),
        "--max-epochs", "1", "--trials", str(args.trials), "--jobs", "1",
        "--replicates", "0", "--quiet",
    ]  # fmt: skip
    started = time.time()
    machines = []
    for i in range(args.machines):
        folder = work / f"machine-{i}"
        folder.mkdir()
        machines.append(
            subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        )  # fmt: skip
    errors = [m.communicate()[1].strip() for m in machines]
    seconds = time.time() - started
    report = analyse(args.storage, log, args.trials)
    report.update(
        machines=args.machines,
        asked=args.trials,
        seconds=round(seconds, 1),
        exit_codes=[m.returncode for m in machines],
        errors=[e for e in errors if e],
    )
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        record.write(args.out, report)


def analyse(storage: str, log: Path, asked: int) -> dict:
    trials = optuna.load_study(study_name=STUDY, storage=storage).get_trials(deepcopy=False)
    states = [t.state.name for t in trials]
    numbers = sorted(t.number for t in trials)
    finished = sorted(
        (t for t in trials if t.state.name in ("COMPLETE", "PRUNED")),
        key=lambda t: t.datetime_complete,
    )
    statements = sorted(
        (float(start), float(took))
        for file in log.glob("*.tsv")
        for start, took in (line.split("\t") for line in file.read_text().splitlines())
    )
    ends = [t.datetime_complete.timestamp() for t in finished]
    size = min(WINDOW, len(ends) // 2)  # a smaller study compares its two halves

    def window(after: float, until: float) -> dict:
        durations = [took for start, took in statements if after < start <= until]
        return {
            "db_seconds_per_trial": round(sum(durations) / size, 3),
            "statements_per_trial": round(len(durations) / size, 1),
            "median_statement_ms": round(1000 * statistics.median(durations), 2),
            "p95_statement_ms": round(1000 * statistics.quantiles(durations, n=20)[-1], 2),
        }

    return {
        "finished": len(finished),
        "overshoot": len(finished) - asked,
        "states": {s: states.count(s) for s in sorted(set(states))},
        "numbers_unique_and_contiguous": numbers == list(range(len(trials))),
        f"first_{size}": window(0.0, ends[size - 1]),
        f"last_{size}": window(ends[-size - 1], ends[-1]),
    }


if __name__ == "__main__":
    main()
