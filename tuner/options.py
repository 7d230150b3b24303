"""Command-line options shared by `tuner` and `tuner bench`; their defaults are the API's.

Each function adds one group of options to a parser; `data_spec` and `storage` turn the
parsed values back into what the API takes.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from tuner.data.sources import BUILTINS, DEFAULT_DATA, DataSpec, resolve
from tuner.model import backend
from tuner.search.location import (
    ARTIFACTS_VARIABLE,
    DEFAULT_STORAGE,
    STORAGE_VARIABLES,
    StudyLocation,
)
from tuner.search.space import DEFAULT_SPACE, builtin_spaces


def add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=backend.BACKENDS,
        help=f"Keras backend (default: $TUNER_BACKEND or {backend.DEFAULT_BACKEND})",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show the log lines of TensorFlow, XLA and absl (hidden by default)",
    )


def use_backend(args: argparse.Namespace) -> None:
    """Select `--backend` (or the default) before anything imports Keras."""
    backend.use_backend(getattr(args, "backend", None))


def quiet_native_logs(args: argparse.Namespace) -> None:
    """Before a command imports Keras itself: the libraries' logs off, unless `--verbose`."""
    if not args.verbose:
        backend.silence_native_logs()


def add_location(parser: argparse.ArgumentParser) -> None:
    """Where the study lives: `--storage` and `--artifacts` (tuner.search.location)."""
    variables = ", then ".join(f"${name}" for name in STORAGE_VARIABLES)
    parser.add_argument(
        "--storage",
        help=f"study storage URL (default: {variables}, then {DEFAULT_STORAGE})",
    )
    parser.add_argument(
        "--artifacts",
        help="where trial models are kept: a folder, or s3://BUCKET/PREFIX (endpoint and "
        f"credentials from the AWS environment) (default: ${ARTIFACTS_VARIABLE}, else the "
        "study's own: the store its run was given, or artifacts/ beside an SQLite database)",
    )


def add_space(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--space",
        default=DEFAULT_SPACE,
        help=f"search space: a built-in name ({', '.join(builtin_spaces())}) or a TOML file "
        "(default: %(default)s)",
    )


def add_data(parser: argparse.ArgumentParser) -> None:
    """The data to search on: a built-in dataset or a CSV, and how to split it."""
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA,
        help=f"built-in dataset ({', '.join(BUILTINS)}) or CSV path (default: %(default)s)",
    )
    parser.add_argument("--target", help="target column (required for a CSV that is not built in)")
    parser.add_argument("--time-col", help="timestamp column (default: year,month,day,hour)")
    parser.add_argument("--val-start", help="first validation timestamp (default: 70%% of hours)")
    parser.add_argument("--test-start", help="first test timestamp (default: 85%% of hours)")
    parser.add_argument(
        "--horizon",
        type=int,
        default=DataSpec.horizon,
        help="hours ahead to forecast (default: %(default)s)",
    )


def data_spec(args: argparse.Namespace) -> DataSpec:
    return resolve(
        args.data,
        target=args.target,
        time_col=args.time_col,
        val_start=args.val_start,
        test_start=args.test_start,
        horizon=args.horizon,
    )


def location(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> StudyLocation:
    """`--storage` and `--artifacts`, looked up as `tuner.search.location` says."""
    return StudyLocation.of(args.storage, args.artifacts, environ)
