"""`NoiseAwarePruner` settings replayed on the curve banks, one line per setting.

Usage: python benchmarks/pruner_sweep.py ['{"min_trials": 3}' ...]

Each argument is a JSON object of `NoiseAwarePruner` keyword arguments; the defaults are
always the first line. Each cell is one bank's replay (20 orders, patience 3, as
`tuner bench pruners`): epochs spent / regret / top-5 pruned / no-skill pruned @ median
epoch / false noise. The banks the defaults were tuned on come first, then those held out
(benchmarks/README.md, "Pruners replayed on real learning curves", says which is which).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tuner.bench.bank import read_bank
from tuner.bench.replay import benchmark
from tuner.search.pruner import NoiseAwarePruner

FOLDER = Path(__file__).parent
TUNING = ["plateau-seed0", "plateau-seed1", "seed0", "seed1", "temp-seed1"]
HELD_OUT = ["ema-seed0", "h6-ema-seed0", "change-huber-seed0", "long-seed2"]


def cell(row) -> str:
    no_skill = "-" if row.no_skill_pruned != row.no_skill_pruned else f"{row.no_skill_pruned:.0%}"
    return (
        f"{row.epochs_share:.0%} / {row.regret:.3f} / {row.top_pruned:.2f} / "
        f"{no_skill} @ {row.no_skill_epoch:g} / {row.false_noise:.1%}"
    )


def main() -> None:
    banks = {name: read_bank(FOLDER / f"curves-beijing-{name}.jsonl") for name in TUNING + HELD_OUT}
    settings = [{}] + [json.loads(argument) for argument in sys.argv[1:]]
    print("| settings | " + " | ".join(banks) + " |")
    print("| --- |" + " --- |" * len(banks))
    for kwargs in settings:
        cells = []
        for bank in banks.values():
            (row,) = benchmark(
                bank,
                patience=3,
                orders=20,
                pruners={"x": lambda epochs, kwargs=kwargs: NoiseAwarePruner(**kwargs)},
            )
            cells.append(cell(row))
        print(f"| `{json.dumps(kwargs)}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
