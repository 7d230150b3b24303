"""`tuner predict`: forecasts from an exported bundle (Keras, no Optuna)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tuner import options
from tuner.cli import exits

SUMMARY = "forecasts from an exported bundle"
USAGE = "%(prog)s --model DIR --data CSV [options]"
SHAPE = (
    "One row per forecast origin (time) and step ahead: target_time, step, the forecast, "
    "observed, persistence, seasonal naive."
)


def command(args: argparse.Namespace) -> int:
    options.quiet_native_logs(args)
    from tuner.deploy.predict import predict_csv, write_csv

    forecast = predict_csv(Path(args.model), Path(args.data))
    if args.out:
        write_csv(forecast, args.out)
        print(f"{len(forecast)} forecasts written to {args.out}", file=sys.stderr)
    else:
        forecast.to_csv(sys.stdout)
        sys.stdout.flush()
    return exits.OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = f"{SUMMARY}. {SHAPE}"
    p.add_argument("--model", required=True, metavar="DIR", help="bundle folder (tuner export)")
    p.add_argument(
        "--data", required=True, metavar="CSV", help="rows with the model's input columns"
    )
    p.add_argument("--out", metavar="CSV", help="where to write (default: standard output)")
    options.add_backend(p)
