"""The fewest epochs any pruner could spend on a curve bank without losing a good curve.

Usage: python benchmarks/epoch_bound.py BANK.jsonl [...] [--patience 3] [--judged-at 3]

An oracle that knows where every curve will end trains, as early stopping alone would, the
bank's five best curves (or those that end within a tolerance of the best), and stops every
other curve after `--judged-at` epochs. Its epochs, as a share of early stopping's alone,
bound what a pruner that judges at that epoch and loses none of them can save, whatever
order the curves come in.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tuner.bench.bank import read_bank
from tuner.bench.replay import early_stopped

TOP = 5
TOLERANCES = (0.01, 0.02)


def bound(bank_path: Path, patience: int, judged_at: int) -> list[str]:
    ends = [early_stopped(curve.val_rmse, patience) for curve in read_bank(bank_path)]
    total = sum(epochs for _, epochs in ends)
    best = min(value for value, _ in ends if value is not None)
    ranked = sorted(range(len(ends)), key=lambda i: (ends[i][0] is None, ends[i][0] or 0.0))
    kept_sets = [set(ranked[:TOP])] + [
        {i for i, (value, _) in enumerate(ends) if value is not None and value <= best * (1 + t)}
        for t in TOLERANCES
    ]
    cells = []
    for kept in kept_sets:
        spent = sum(
            epochs if i in kept else min(epochs, judged_at) for i, (_, epochs) in enumerate(ends)
        )
        cells.append(f"{spent / total:.0%} ({len(kept)} kept)")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("banks", nargs="+", type=Path)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--judged-at", type=int, default=3)
    args = parser.parse_args()
    columns = [f"the {TOP} best kept"] + [f"those within {t:.0%} kept" for t in TOLERANCES]
    print("| bank | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for path in args.banks:
        cells = bound(path, args.patience, args.judged_at)
        print(f"| `{path.name}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
