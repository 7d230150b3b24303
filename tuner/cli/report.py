"""`tuner report`: a study's figures in one HTML page, attached to the study."""

from __future__ import annotations

import argparse
from pathlib import Path

from tuner import options
from tuner.cli import exits

SUMMARY = "the study's figures in one HTML page, attached to it"


def command(args: argparse.Namespace) -> int:
    from tuner.review.report import default_model, report_study
    from tuner.search import attrs

    location = options.location(args)
    study = options.load_study(args, location)
    store = location.store_to_read(study.user_attrs.get(attrs.ARTIFACTS))
    model = Path(args.model) if args.model else default_model(study.study_name)
    if model is not None:  # its figures load Keras
        options.quiet_native_logs(args)
    print(report_study(study, Path(args.out), model=model, artifacts=store).describe())
    return exits.OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.deploy.bundle import DEFAULT_FOLDER
    from tuner.review import DEFAULT_OUT

    options.add_study(p)
    p.add_argument(
        "--model",
        metavar="DIR",
        help=f"the study's bundle, for test figures (default: {DEFAULT_FOLDER} if the study's)",
    )
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help="reports, one folder per study (default: %(default)s)",
    )
    options.add_backend(p)
