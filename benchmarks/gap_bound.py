"""The fewest epochs a same-epoch gap rule spends on a bank, its threshold chosen in hindsight.

Usage: python benchmarks/gap_bound.py BANK.jsonl [...] [--orders 20]

The rule: from epoch `k` on, once three trials have completed, prune a curve whose best value
so far is more than `theta` (relative) above where the best completed trial stood at the same
epoch. For each bank and each k (2, 3), the smallest `theta` of a grid that keeps mean regret
≤ 0.05 and prunes at most 0.1 of the bank's five best curves per order is chosen knowing the
replays' results; its epochs, as a share of early stopping's alone, are printed. Even with
that hindsight, which no pruner has, a rule that reads only where curves stand at the same
epoch cannot save more on that bank.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import optuna

from tuner.bench.bank import read_bank
from tuner.bench.replay import benchmark
from tuner.search.pruner import completed_trials

THETAS = (0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5)
MIN_TRIALS = 3
MAX_TOP_PRUNED = 0.1
MAX_REGRET = 0.05


class GapPruner(optuna.pruners.BasePruner):
    """Prune from epoch `k` on a curve more than `theta` behind the best trial at that epoch."""

    def __init__(self, theta: float, k: int) -> None:
        self._theta, self._k = theta, k

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        values = [v for _, v in sorted(trial.intermediate_values.items())]
        completed = completed_trials(study)
        if len(values) < self._k or len(completed) < MIN_TRIALS:
            return False
        leader = min(completed, key=lambda t: t.value)
        standing = leader.standing(len(values) - 1)
        return min(values) > standing + self._theta * abs(standing)


def cheapest(bank_path: Path, k: int, orders: int) -> str:
    bank = read_bank(bank_path)
    for theta in THETAS:
        (row,) = benchmark(
            bank,
            patience=3,
            orders=orders,
            pruners={"gap": lambda epochs, theta=theta: GapPruner(theta, k)},
        )
        if row.top_pruned <= MAX_TOP_PRUNED and row.regret <= MAX_REGRET:
            return f"{row.epochs_share:.0%} (theta {theta:g})"
    return "none of the grid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("banks", nargs="+", type=Path)
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args()
    ks = (2, 3)
    print("| bank | " + " | ".join(f"judged from epoch {k}" for k in ks) + " |")
    print("| --- |" + " --- |" * len(ks))
    for path in args.banks:
        cells = [cheapest(path, k, args.orders) for k in ks]
        print(f"| `{path.name}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
