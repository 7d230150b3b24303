"""`tuner dashboard`: optuna-dashboard on the study storage."""

from __future__ import annotations

import argparse
import sys

from tuner import options
from tuner.cli import exits

SUMMARY = "optuna-dashboard on the study storage"


def command(args: argparse.Namespace) -> int:
    from tuner.review.dashboard import exposure_warning, serve

    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    serve(options.location(args), host=args.host, port=args.port, read_only=args.read_only)
    return exits.OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.review.dashboard import DEFAULT_HOST, DEFAULT_PORT

    options.add_location(p)
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on; no login, so another is warned of (default: %(default)s)",
    )
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--read-only", action="store_true", help="refuse every change (notes, deletions)"
    )
