"""What long windows buy: curve-bank configurations grouped by units and seq_len.

Usage: python benchmarks/seq_len_effect.py BANK.jsonl [BANK.jsonl ...] [--patience 3]

For each configuration it takes what `tuner run` would keep under early stopping alone (the
best value) and the median seconds of its epochs after the first (the first compiles), then
prints, per band of units, the configurations with seq_len up to 24 against those with 48 or
72: how many, the median and the lowest value, and the median seconds per epoch. The banks'
seconds are one core's, so they compare configurations, not machines.
"""

import argparse
import statistics
from pathlib import Path

from tuner.bench.bank import read_bank
from tuner.bench.replay import early_stopped

UNITS_BANDS = ((8, 16), (16, 32), (32, 64), (64, 129))
WINDOWS = {"seq_len <= 24": (6, 12, 24), "seq_len 48, 72": (48, 72)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("banks", type=Path, nargs="+")
    parser.add_argument("--patience", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for bank in args.banks:
        for curve in read_bank(bank):
            best, _ = early_stopped(curve.val_rmse, args.patience)
            if best is not None:
                seconds = statistics.median(curve.seconds[1:])
                rows.append((curve.params["units"], curve.params["seq_len"], best, seconds))
    print("| units | windows | configurations | median val RMSE | lowest | median s/epoch |")
    print("| --- | --- | --- | --- | --- | --- |")
    for low, high in UNITS_BANDS:
        for label, lengths in WINDOWS.items():
            group = [r for r in rows if low <= r[0] < high and r[1] in lengths]
            if group:
                print(
                    f"| {low}-{high - 1} | {label} | {len(group)} "
                    f"| {statistics.median(r[2] for r in group):.3f} "
                    f"| {min(r[2] for r in group):.3f} "
                    f"| {statistics.median(r[3] for r in group):.2f} |"
                )
    ranked = sorted(rows, key=lambda r: r[2])
    print(
        f"\nseq_len of the 10 best of {len(rows)}: {[r[1] for r in ranked[:10]]}; "
        f"of the 20 best: {sum(r[1] > 24 for r in ranked[:20])} with 48 or 72"
    )


if __name__ == "__main__":
    main()
