"""What the learning-rate schedule changes: two banks of the same configurations, paired.

Usage: python benchmarks/schedule_effect.py CONSTANT.jsonl SCHEDULED.jsonl
       [--patience 4] [--scheduled-patience 3]

Both banks must come from `tuner bench curves` with the same space, seed and epochs (so the
same configurations, line by line), one with a constant learning rate and one with the
schedule. For each configuration it takes what `tuner run` would keep under early stopping
alone (the best value, and the epochs trained) and prints the paired differences; each bank
can have its own patience (the default space went from 4 to 3 with the schedule).
"""

import argparse
import statistics
from pathlib import Path

from tuner.bench.bank import read_bank
from tuner.bench.replay import early_stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("constant", type=Path)
    parser.add_argument("scheduled", type=Path)
    parser.add_argument("--patience", type=int, default=4, help="for the constant-rate bank")
    parser.add_argument("--scheduled-patience", type=int, help="default: --patience")
    args = parser.parse_args()
    patience = (args.patience, args.scheduled_patience or args.patience)
    pairs = list(zip(read_bank(args.constant), read_bank(args.scheduled), strict=False))
    if any(a.params != b.params for a, b in pairs):
        raise SystemExit("the banks hold different configurations: same space, seed, epochs?")
    rows = []
    for a, b in pairs:
        (best_a, epochs_a), (best_b, epochs_b) = (
            early_stopped(c.val_rmse, n) for c, n in zip((a, b), patience, strict=True)
        )
        if best_a is not None and best_b is not None:
            rows.append((best_a, best_b, epochs_a, epochs_b))
    print(f"{len(rows)} configurations trained in both banks without diverging")
    differences = sorted(b - a for a, b, _, _ in rows)
    print(
        f"best val RMSE, scheduled minus constant: median {statistics.median(differences):+.3f}, "
        f"lower in {sum(d < 0 for d in differences)} of {len(rows)}, "
        f"range {differences[0]:+.3f} to {differences[-1]:+.3f}"
    )
    for k in (1, 5, 10):
        best_a = sorted(a for a, _, _, _ in rows)[:k]
        best_b = sorted(b for _, b, _, _ in rows)[:k]
        print(
            f"mean of the {k} best: constant {statistics.mean(best_a):.3f}, "
            f"scheduled {statistics.mean(best_b):.3f}"
        )
    print(
        f"epochs under early stopping (patience {patience[0]} / {patience[1]}): "
        f"constant {sum(r[2] for r in rows)}, scheduled {sum(r[3] for r in rows)}"
    )


if __name__ == "__main__":
    main()
