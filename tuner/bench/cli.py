"""`tuner bench …`: the measuring instruments' commands (curve banks, pruners, speed, engines).

Their reports, recorded as result files under benchmarks/results/ with the command that
made each, are what benchmarks/README.md is generated from.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from tuner import options
from tuner.errors import TunerError
from tuner.model.backend import BACKENDS

DEFAULT_BANK = "benchmarks/banks/beijing-plateau-seed0.jsonl"


def main(argv: list[str], *, prog: str = "python -m tuner.bench") -> int:
    """Parse and run one benchmark; errors are handled by the caller (`tuner.cli.main`)."""
    args = _parser(prog).parse_args(argv)
    options.use_backend(args)
    return args.command(args)


def curves(args: argparse.Namespace) -> int:
    from tuner.bench.curves import make_bank
    from tuner.data.prepared import prepare
    from tuner.search.seq_len import for_step
    from tuner.search.space import load_space

    options.quiet_native_logs(args)  # the bank trains here, not in worker processes
    data = prepare(options.data_spec(args))
    space = for_step(load_space(args.space), data.step)  # the windows `tuner run` would draw
    data.check_enough_rows(space.max_seq_len)
    bank = make_bank(
        data,
        space,
        configs=args.configs,
        epochs=args.epochs,
        seed=args.seed,
        out=Path(args.out),
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(f"{len(bank)} curves of {args.epochs} epochs in {args.out}")
    return 0


def pruners(args: argparse.Namespace) -> int:
    from tuner.bench.bank import read_bank
    from tuner.bench.replay import benchmark, format_table
    from tuner.search.space import load_space

    bank = read_bank(Path(args.bank))
    patience = load_space("lstm_baseline").training.patience  # the default search's early stop
    rows = benchmark(bank, patience=patience, orders=args.orders)
    print(
        json.dumps([row.to_dict() for row in rows], indent=2)
        if args.json
        else format_table(rows, bank[0].unit)
    )
    return 0


def speed(args: argparse.Namespace) -> int:
    from tuner.bench.speed import epoch_times, format_tables, throughput, to_json

    epochs = [epoch_times(backend) for backend in args.backends.split(",")]
    jobs = (1, 2) if args.budget else ()
    runs = [throughput(n, args.budget, space="lstm_baseline") for n in jobs]
    print(to_json(epochs, runs) if args.json else format_tables(epochs, runs))
    return 0


def engines(args: argparse.Namespace) -> int:
    from tuner.bench.engines import check_engines, format_table, from_json, run_engine, to_json
    from tuner.data.prepared import prepare
    from tuner.data.sources import resolve

    if args.show:
        try:
            text = Path(args.show).read_text()
        except OSError as e:
            raise TunerError(f"{args.show}: cannot read: {e.strerror or e}") from e
        print(format_table(*from_json(text)))
        return 0
    if not (math.isfinite(args.budget) and args.budget > 0):
        raise TunerError(f"--budget must be a positive number of seconds, got {args.budget}")
    names = [name.strip() for name in args.engines.split(",")]
    check_engines(names)
    space = _space_for_a_child(args.space)
    baseline = prepare(resolve("beijing")).persistence_rmse("val")
    runs = []
    for engine in names:
        print(f"{engine}: {args.budget:.0f} s ...", file=sys.stderr, flush=True)
        runs.append(run_engine(engine, args.budget, space=space, seed=args.seed))
    print(to_json(runs, baseline) if args.json else format_table(runs, baseline))
    return 0


def _space_for_a_child(name_or_path: str) -> str:
    """The space checked here, named so that a process started elsewhere finds it too."""
    from tuner.search.space import load_space

    load_space(name_or_path)
    path = Path(name_or_path)
    return str(path.resolve()) if path.is_file() else name_or_path


def _parser(prog: str) -> argparse.ArgumentParser:
    from tuner.bench.engines import DEFAULT_ENGINES, ENGINES

    parser = argparse.ArgumentParser(prog=prog, description="tuner's measuring instruments")
    bench = parser.add_subparsers(required=True, metavar="BENCHMARK")

    p = bench.add_parser(
        "curves", help="a bank of learning curves: configurations trained without pruning"
    )
    options.add_data(p)
    options.add_space(p)
    options.add_backend(p)
    p.add_argument("--configs", type=int, default=40, help="configurations (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=20, help="epochs each (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="draws and weights (default: %(default)s)")
    p.add_argument("--out", required=True, help="JSON-lines bank to write or resume")
    p.set_defaults(command=curves)

    p = bench.add_parser("pruners", help="replay a curve bank through Optuna's pruners")
    p.add_argument("--bank", default=DEFAULT_BANK, help="curve bank (default: %(default)s)")
    p.add_argument("--orders", type=int, default=20, help="shuffled orders (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command=pruners)

    p = bench.add_parser(
        "speed", help="seconds per epoch against a bare model.fit; trials per hour, --jobs 1 and 2"
    )
    p.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated (default: %(default)s)"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=300,
        help="seconds of tuner run for each --jobs setting; 0 skips (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command=speed)

    p = bench.add_parser(
        "engines", help="tuner run against plain Optuna and KerasTuner Hyperband, same budget each"
    )
    options.add_space(p)
    p.add_argument(
        "--budget", type=float, default=1500, help="seconds per engine (default: %(default)s)"
    )
    p.add_argument(
        "--engines",
        default=",".join(DEFAULT_ENGINES),
        help=f"comma-separated, of {', '.join(ENGINES)} (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="samplers' seed (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--show", metavar="FILE", help="the table of a saved --json report; no run")
    p.set_defaults(command=engines)
    return parser
