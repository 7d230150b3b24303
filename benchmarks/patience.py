"""Early-stopping patience, replayed on a curve bank: what each patience finds, and costs.

Usage: python benchmarks/patience.py BANK.jsonl [--patience 1,2,3,4,5,8]

Each curve of the bank (trained for all its epochs, without early stopping) is cut where
early stopping with that patience would have stopped it; its value is its best epoch up to
there. Paired by curve against the default patience of the space (3).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from tuner.bench.bank import read_bank
from tuner.bench.replay import early_stopped

DEFAULT_PATIENCE = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bank", type=Path)
    parser.add_argument("--patience", default="1,2,3,4,5,8")
    args = parser.parse_args()
    curves = [c.val_rmse for c in read_bank(args.bank)]
    default = [early_stopped(c, DEFAULT_PATIENCE) for c in curves]
    print(
        "| patience | epochs (share of patience 3's) | mean best value | curves worse than "
        "with patience 3 | mean difference | the bank's best found |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for patience in (int(p) for p in args.patience.split(",")):
        ends = [early_stopped(c, patience) for c in curves]
        pairs = [(d, e) for (d, _), (e, _) in zip(default, ends, strict=True) if d and e]
        epochs = sum(n for _, n in ends) / sum(n for _, n in default)
        print(
            f"| {patience} | {epochs:.0%} | {statistics.mean(e for _, e in pairs):.3f} "
            f"| {sum(e > d for d, e in pairs)} of {len(pairs)} "
            f"| {statistics.mean(e - d for d, e in pairs):+.3f} "
            f"| {min(e for _, e in pairs):.3f} |"
        )


if __name__ == "__main__":
    main()
