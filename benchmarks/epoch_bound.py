"""The fewest epochs any pruner could spend on a curve bank without losing a good curve.

Usage: python benchmarks/epoch_bound.py BANK.jsonl [...] [--patience 3] [--judged-at 3] [--json]

Two oracles that know where every curve will end. Each trains the curves it keeps as early
stopping alone would and stops every other curve after `--judged-at` epochs; its epochs, as
a share of early stopping's alone, bound what a pruner that judges at that epoch can save.

- In hindsight: it keeps the bank's five best curves (or those that end within a tolerance
  of the best), whatever order the curves come in. No pruner can know which they are.
- Online, as a pruner meets the curves: it knows each curve's end once the curve starts,
  but not the curves still to come, in the replays' orders (`tuner bench pruners`). A curve
  among the five best so far may be among the bank's five best, so one that loses none of
  them keeps every such curve ("none lost"). One allowed to lose `--lost` of them per
  order, the replays' target, stops first the curves least likely to be among them: with
  rank r among the first i of n curves, in a random order, a curve ends among the five
  best with the probability `p_top(r, i, n)`. One that also keeps every curve ending
  within the pruner's tolerance of the best so far ("within 1% kept") is the pruner's own
  rule with foresight: what it spends beyond that is the price of not knowing the end.
"""

from __future__ import annotations

import argparse
import json
import random
from math import comb
from pathlib import Path

from tuner.bench.bank import read_bank
from tuner.bench.replay import early_stopped
from tuner.search import verdicts

TOP = 5
TOLERANCES = (0.01, 0.02)
TOLERANCE = verdicts.TOLERANCE
ORDERS = 20


def p_top(rank: int, seen: int, n: int) -> float:
    """The chance that the curve ranked `rank` among the first `seen` of `n` curves, in a
    random order, is among the `TOP` best of all `n`."""
    return sum(
        comb(k - 1, rank - 1) * comb(n - k, seen - rank) for k in range(rank, TOP + 1)
    ) / comb(n, seen)


def threshold(n: int, lost: float) -> float:
    """The least `p_top` a kept curve needs so that stopping every other curve loses at
    most `lost` of the `TOP` best per order, in expectation: the least likely go first."""
    # The curve at the i-th place has each rank r <= i with chance 1 / i; stopping it costs
    # p_top(r, i, n) of a good curve, and saves about as many epochs whatever r and i.
    chances = sorted(
        (p_top(r, i, n), i) for i in range(1, n + 1) for r in range(1, min(i, TOP) + 1)
    )
    spent = 0.0
    for chance, i in chances:
        if spent + chance / i > lost:
            return chance
        spent += chance / i
    return 1.0


def online(
    ends: list[tuple[float | None, int]], judged_at: int, keep_from: float, tolerance: float = 0.0
) -> float:
    """Epochs of the online oracle over the replays' orders, a share of early stopping's:
    it keeps a curve whose `p_top` is at least `keep_from` given the curves before it, and
    one that ends within `tolerance` (relative) of the best so far, as the pruner's own
    tolerance keeps a curve close to the best completed trial."""
    n, total, shares = len(ends), sum(epochs for _, epochs in ends), []
    for seed in range(ORDERS):
        seen: list[float] = []
        spent = 0
        for i, index in enumerate(random.Random(seed).sample(range(n), n), start=1):
            value, epochs = ends[index]
            rank = 1 + sum(s < value for s in seen) if value is not None else n
            if value is not None:
                seen.append(value)
            close = value is not None and value <= min(seen) * (1 + tolerance)
            keep = (rank <= TOP and p_top(rank, i, n) >= keep_from) or close
            spent += epochs if keep else min(epochs, judged_at)
        shares.append(spent / total)
    return sum(shares) / len(shares)


def bound(bank_path: Path, patience: int, judged_at: int, lost: float) -> dict[str, float]:
    """The oracles' epochs on one bank, as shares of early stopping's alone."""
    ends = [early_stopped(curve.val_rmse, patience) for curve in read_bank(bank_path)]
    total = sum(epochs for _, epochs in ends)
    best = min(value for value, _ in ends if value is not None)
    ranked = sorted(range(len(ends)), key=lambda i: (ends[i][0] is None, ends[i][0] or 0.0))
    kept_sets = {f"the {TOP} best kept": set(ranked[:TOP])} | {
        f"those within {t:.0%} kept": {
            i for i, (value, _) in enumerate(ends) if value is not None and value <= best * (1 + t)
        }
        for t in TOLERANCES
    }
    shares = {}
    for name, kept in kept_sets.items():
        spent = sum(
            epochs if i in kept else min(epochs, judged_at) for i, (_, epochs) in enumerate(ends)
        )
        shares[name] = spent / total
    shares["online, none lost"] = online(ends, judged_at, keep_from=1e-12)
    shares[f"online, none lost, within {TOLERANCE:.0%} kept"] = online(
        ends, judged_at, keep_from=1e-12, tolerance=TOLERANCE
    )
    shares[f"online, {lost:g} lost per order"] = online(
        ends, judged_at, keep_from=threshold(len(ends), lost)
    )
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("banks", nargs="+", type=Path)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--judged-at", type=int, default=3)
    parser.add_argument("--lost", type=float, default=0.1)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    found = {p.name: bound(p, args.patience, args.judged_at, args.lost) for p in args.banks}
    if args.json:
        print(json.dumps({"judged_at": args.judged_at, "banks": found}, indent=2))
        return
    columns = list(next(iter(found.values())))
    print("| bank | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for name, shares in found.items():
        print(f"| `{name}` | " + " | ".join(f"{v:.0%}" for v in shares.values()) + " |")


if __name__ == "__main__":
    main()
