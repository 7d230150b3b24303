"""`tuner run`: search, or resume, a study."""

from __future__ import annotations

import argparse

from tuner import options
from tuner.cli import exits

SUMMARY = "search (resumable; Ctrl-C safe)"


def command(args: argparse.Namespace) -> int:
    import optuna

    from tuner.search.cost import CostRule
    from tuner.search.space import load_space
    from tuner.search.study import RunConfig, run_study

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the progress display reports trials
    location = options.location(args)  # an unknown scheme is refused before the data is read
    space = load_space(args.space)
    given = {
        "study_name": args.study,
        "trials": args.trials,
        "timeout": args.timeout,
        "seed": args.seed,
        "max_epochs": args.max_epochs,
        "heartbeat": args.heartbeat,
        "storage_wait": args.storage_wait,
        "jobs": args.jobs,
        "replicates": args.replicates,
    }
    config = RunConfig(
        data=options.data_spec(args),
        space=space,
        location=location,
        quiet=args.quiet,
        verbose=args.verbose,
        pruner=args.pruner,
        cost=None if args.ignore_cost else CostRule(),
        **{k: v for k, v in given.items() if v is not None},
    )
    summary = run_study(config)
    print(summary.describe())
    if summary.interrupted:
        return exits.INTERRUPTED
    return exits.FAILED if summary.failed_workers else exits.OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.search.study import PRUNERS, RunConfig

    options.add_data(p)
    options.add_space(p)
    options.add_location(p)
    p.add_argument("--study", metavar="NAME", help="study name (default: DATA-SPACE)")
    p.add_argument(
        "--trials",
        type=int,
        metavar="N",
        help=f"finished trials the whole study should have (default: {RunConfig.trials})",
    )
    p.add_argument("--timeout", type=float, metavar="S", help="start no trial after S seconds")
    p.add_argument("--seed", type=int, help=f"the run's seed (default: {RunConfig.seed})")
    p.add_argument("--max-epochs", type=int, metavar="N", help="cap the space's epochs per trial")
    p.add_argument(
        "--pruner",
        choices=PRUNERS,
        default=RunConfig.pruner,
        help="which trials to stop early (default: %(default)s)",
    )
    p.add_argument(
        "--ignore-cost", action="store_true", help="let TPE follow slower equal configurations"
    )
    p.add_argument(
        "--replicates",
        type=int,
        metavar="N",
        help=f"the N best again, another seed: the noise floor (default: {RunConfig.replicates})",
    )
    p.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: one per core)")
    p.add_argument(
        "--heartbeat",
        type=int,
        metavar="S",
        help="a trial silent for 2×S seconds (plus --storage-wait on a database server) is "
        f"failed and retried once (default: {RunConfig.heartbeat})",
    )
    p.add_argument(
        "--storage-wait",
        type=float,
        metavar="S",
        help=f"ride out a database restart this long (default: {RunConfig.storage_wait:.0f})",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    options.add_backend(p)
