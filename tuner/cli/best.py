"""`tuner best`: what the search found, against the baselines."""

from __future__ import annotations

import argparse
import json

from tuner import options
from tuner.cli import exits
from tuner.errors import TunerError

SUMMARY = "what the search found, against the persistence baseline"


def command(args: argparse.Namespace) -> int:
    from tuner.review.best import best_report, format_report

    if args.top < 1:
        raise TunerError(f"--top must be at least 1, got {args.top}")
    report = best_report(options.load_study(args, options.location(args)), top=args.top)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return exits.OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.review.best import DEFAULT_TOP

    options.add_study(p)
    p.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP,
        metavar="N",
        help="how many of the best completed trials to list (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
