"""`tuner export`: the study's deployable bundle, the only step that reads the test split."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tuner import options
from tuner.cli import exits
from tuner.errors import TunerError

if TYPE_CHECKING:
    from tuner.deploy.members import ExportPlan
    from tuner.deploy.metadata import BundleMetadata

SUMMARY = "deployable bundle of the best trial"
SHAPE = (
    "Its model maps windows (batch, seq_len, features) to (batch, steps): the target at "
    "each step ahead, in its units."
)
CONFLICTS = {
    ("--single", "--members"): "--single exports the best trial's own model, one member",
}


def command(args: argparse.Namespace) -> int:
    from tuner.search import attrs

    plan = export_plan(args.single, args.members)
    location = options.location(args)
    study = options.load_study(args, location)
    folder = location.store_to_read(study.user_attrs.get(attrs.ARTIFACTS))
    options.quiet_native_logs(args)  # before Keras comes in with the export
    from tuner.deploy.export import export_best

    start = time.monotonic()
    meta = export_best(study, folder, Path(args.out), plan, progress=_progress_line(args))
    print(exported_line(meta, args.out, time.monotonic() - start))
    return exits.OK


def export_plan(single: bool, members: int | None) -> ExportPlan:
    from tuner.deploy.members import DEFAULT, MAX_MEMBERS, SINGLE, ExportPlan

    if single:
        return SINGLE
    if members is None:
        return DEFAULT
    if not 1 <= members <= MAX_MEMBERS:
        raise TunerError(f"--members must be between 1 and {MAX_MEMBERS}, got {members}")
    return ExportPlan(members=members)


def exported_line(meta: BundleMetadata, out: str, seconds: float) -> str:
    """What was exported and what it forecasts, where, and how it scored against the
    baselines on the test split (over every step of several)."""
    if meta.members:
        validation = "validation rows used in training"
    else:
        validation = f"val RMSE {meta.val_rmse:.3f}"
    boosting = meta.boosting_test_rmse
    baselines = f"persistence {meta.persistence_test_rmse:.3f}"
    seasonal = meta.baselines_test.get("seasonal")
    if seasonal is not None:
        baselines += f", seasonal naive {seasonal.rmse:.3f}"
    if boosting is not None:
        baselines += f", gradient boosting {boosting:.3f}"
    return (
        f"exported {meta.describe()} to {out} in {seconds:.0f} s: "
        f"test RMSE {meta.test_rmse:.3f} ({baselines}), {validation}"
    )


def _progress_line(args: argparse.Namespace) -> Callable[[str], None] | None:
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.deploy.bundle import DEFAULT_FOLDER
    from tuner.deploy.members import DEFAULT

    p.description = f"{SUMMARY}. {SHAPE}"

    options.add_study(p)
    p.add_argument(
        "--out", default=DEFAULT_FOLDER, metavar="DIR", help="bundle folder (default: %(default)s)"
    )
    p.add_argument(
        "--members",
        type=int,
        metavar="K",
        help=f"average the K best configurations, refitted (default: {DEFAULT.members})",
    )
    p.add_argument(
        "--single", action="store_true", help="the best trial's own model, as the search trained it"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    options.add_backend(p)
