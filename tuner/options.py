"""Command-line options shared by `tuner` and `tuner bench`; their defaults are the API's.

Each function adds one group of options to a parser; `data_spec` and `storage` turn the
parsed values back into what the API takes.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tuner.data.sources import BUILTINS, DEFAULT_DATA, DataSpec, resolve
from tuner.model import backend
from tuner.search.location import (
    ARTIFACTS_VARIABLE,
    DEFAULT_STORAGE,
    STORAGE_VARIABLES,
    StudyLocation,
)
from tuner.search.space import DEFAULT_SPACE, builtin_spaces

if TYPE_CHECKING:
    import optuna


def add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=backend.BACKENDS,
        help=f"Keras backend (default: $TUNER_BACKEND, else {backend.DEFAULT_BACKEND})",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's, XLA's and absl's log lines"
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
    variables = ", ".join(f"${name}" for name in STORAGE_VARIABLES)
    parser.add_argument(
        "--storage",
        metavar="URL",
        help=f"study storage (default: {variables}, {DEFAULT_STORAGE})",
    )
    parser.add_argument(
        "--artifacts",
        metavar="PATH",
        help=f"trial models: a folder or s3://BUCKET/PREFIX (default: ${ARTIFACTS_VARIABLE}, "
        "else the study's own)",
    )


def add_study(parser: argparse.ArgumentParser) -> None:
    """The study to read: `--study`, needed only when its storage holds several."""
    add_location(parser)
    parser.add_argument(
        "--study", metavar="NAME", help="the study to read, when the storage holds several"
    )


def load_study(args: argparse.Namespace, location: StudyLocation) -> optuna.Study:
    """`--study`, or the storage's only study; with several, the error lists their names."""
    from tuner.search.storage import load_study, open_storage

    return load_study(open_storage(location, create=False), args.study)


def add_space(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--space",
        default=DEFAULT_SPACE,
        help=f"{', '.join(builtin_spaces())} or a TOML file (default: %(default)s)",
    )


def add_data(parser: argparse.ArgumentParser) -> None:
    """The data to search on: a built-in dataset or a CSV, and how to split it."""
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA,
        metavar="PATH",
        help=f"{', '.join(BUILTINS)} or a CSV file (default: %(default)s)",
    )
    parser.add_argument("--target", metavar="COL", help="target column (a CSV's: required)")
    parser.add_argument(
        "--time-col", metavar="COL", help="timestamps (default: year,month,day,hour)"
    )
    parser.add_argument(
        "--val-start", metavar="TIME", help="validation from (default: 70%% of rows)"
    )
    parser.add_argument("--test-start", metavar="TIME", help="test from (default: 85%% of rows)")
    parser.add_argument(
        "--horizon",
        type=int,
        default=DataSpec.horizon,
        metavar="H",
        help="steps ahead to forecast (default: %(default)s)",
    )
    parser.add_argument(
        "--every-step",
        action="store_true",
        help="forecast each step from 1 to H, from one model",
    )
    parser.add_argument(
        "--freq", metavar="STEP", help="the series' step: 15min, h, D… (default: inferred)"
    )


def data_spec(args: argparse.Namespace) -> DataSpec:
    return resolve(
        args.data,
        target=args.target,
        time_col=args.time_col,
        val_start=args.val_start,
        test_start=args.test_start,
        horizon=args.horizon,
        every_step=args.every_step,
        freq=args.freq,
    )


def location(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> StudyLocation:
    """`--storage` and `--artifacts`, looked up as `tuner.search.location` says."""
    return StudyLocation.of(args.storage, args.artifacts, environ)
