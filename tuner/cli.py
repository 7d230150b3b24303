"""The `tuner` commands: one function and one argument builder each, over the Python API.

Bad input is a `TunerError`: one line on stderr, exit 2. `tuner bench …` is handed to the
measuring instruments (`tuner.bench.cli`), which the product itself never imports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from tuner import options
from tuner.errors import TunerError

if TYPE_CHECKING:
    import optuna

    from tuner.deploy.members import ExportPlan
    from tuner.search.location import StudyLocation

EXIT_OK, EXIT_FAILED = 0, 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a process ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["bench"]:
            from tuner.bench.cli import main as bench

            return bench(argv[1:], prog="tuner bench")
        parser = _parser()
        args, unknown = parser.parse_known_args(argv)
        if not hasattr(args, "command"):
            parser.print_help()
            return EXIT_OK
        if unknown:
            args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        options.use_backend(args)
        return args.command(args)
    except TunerError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`) left; stop writing to it without a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def run(args: argparse.Namespace) -> int:
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
        return EXIT_INTERRUPTED
    return EXIT_FAILED if summary.failed_workers else EXIT_OK


def _run_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.search.study import PRUNERS, RunConfig

    options.add_data(p)
    options.add_space(p)
    options.add_location(p)
    p.add_argument("--study", help="study name (default: DATA-SPACE, e.g. beijing-lstm_baseline)")
    p.add_argument(
        "--trials",
        type=int,
        help=f"finished trials the study should have (default: {RunConfig.trials})",
    )
    p.add_argument("--timeout", type=float, help="start no trial after this many seconds")
    p.add_argument("--seed", type=int, help=f"the run's seed (default: {RunConfig.seed})")
    p.add_argument("--max-epochs", type=int, help="cap on epochs per trial, below the space's")
    p.add_argument(
        "--heartbeat",
        type=int,
        help="seconds between trial heartbeats; a trial silent for twice that is failed "
        f"and retried (default: {RunConfig.heartbeat})",
    )
    p.add_argument(
        "--storage-wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait for a database server that stops answering (a restart) "
        f"before the run stops (default: {RunConfig.storage_wait:.0f})",
    )
    p.add_argument(
        "--jobs",
        type=int,
        help="worker processes, each held to its share of the cores (default: one per core)",
    )
    p.add_argument(
        "--replicates",
        type=int,
        help="then train the best this many configurations again with another seed, as "
        "extra trials, to measure how far the seed alone moves a trial's value (default: "
        f"{RunConfig.replicates}; 0 for none)",
    )
    p.add_argument(
        "--pruner",
        choices=PRUNERS,
        default=RunConfig.pruner,
        help="which trials to stop early (default: %(default)s)",
    )
    p.add_argument(
        "--ignore-cost",
        action="store_true",
        help="let the sampler favour a configuration however much slower it is than one "
        "that scored as well (by default it leans towards the cheaper)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    options.add_backend(p)


def best(args: argparse.Namespace) -> int:
    from tuner.review.best import best_report, format_report

    if args.top < 1:
        raise TunerError(f"--top must be at least 1, got {args.top}")
    report = best_report(_load_study(args, options.location(args)), top=args.top)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return EXIT_OK


def _best_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.review.best import DEFAULT_TOP

    _add_study(p)
    p.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP,
        help="how many of the best completed trials to list (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def export(args: argparse.Namespace) -> int:
    from tuner.search import attrs

    options.quiet_native_logs(args)
    from tuner.deploy.export import export_best

    plan = _export_plan(args)
    location = options.location(args)
    study = _load_study(args, location)
    folder = location.store_to_read(study.user_attrs.get(attrs.ARTIFACTS))
    start = time.monotonic()
    meta = export_best(study, folder, Path(args.out), plan, progress=_progress_line(args))
    taught = f", taught by gradient boosting ({meta.teacher:.0%})" if meta.teacher else ""
    if len(meta.members) == 1:
        what = f"trial {meta.trial}'s configuration refitted{taught}"
        validation = "validation rows used in training"
    elif meta.members:
        what = f"the mean of {len(meta.members)} refitted models{taught} (best trial {meta.trial})"
        validation = "validation rows used in training"
    else:
        what = f"trial {meta.trial}"
        validation = f"val RMSE {meta.val_rmse:.3f}"
    print(
        f"exported {what} to {args.out} in {time.monotonic() - start:.0f} s: test RMSE "
        f"{meta.test_rmse:.3f} (persistence {meta.persistence_test_rmse:.3f}"
        f"{_boosting(meta.boosting_test_rmse)}), {validation}"
    )
    return EXIT_OK


def _export_plan(args: argparse.Namespace) -> ExportPlan:
    from tuner.deploy.members import MAX_MEMBERS, SINGLE, ExportPlan

    if args.single:
        return SINGLE
    if not 1 <= args.members <= MAX_MEMBERS:
        raise TunerError(f"--members must be between 1 and {MAX_MEMBERS}, got {args.members}")
    if not 0.0 <= args.teacher <= 1.0:
        raise TunerError(f"--teacher must be a weight from 0 to 1, got {args.teacher:g}")
    return ExportPlan(members=args.members, teacher=args.teacher)


def _progress_line(args: argparse.Namespace) -> Callable[[str], None] | None:
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _boosting(rmse: float | None) -> str:
    return "" if rmse is None else f", gradient boosting {rmse:.3f}"


def _export_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.deploy.bundle import DEFAULT_FOLDER
    from tuner.deploy.members import DEFAULT

    _add_study(p)
    p.add_argument("--out", default=DEFAULT_FOLDER, help="bundle folder (default: %(default)s)")
    p.add_argument(
        "--members",
        type=int,
        default=DEFAULT.members,
        help="the model averages this many of the best configurations, each trained again "
        "on training + validation (default: %(default)s)",
    )
    p.add_argument(
        "--teacher",
        type=float,
        default=DEFAULT.teacher,
        metavar="WEIGHT",
        help="the weight of the gradient-boosting baseline's forecast in the targets each "
        "model trains on (0.75 served PM2.5); 0: the observed values alone "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--single",
        action="store_true",
        help="export the best trial's own model, as the search trained it, instead",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    options.add_backend(p)


def predict(args: argparse.Namespace) -> int:
    options.quiet_native_logs(args)
    from tuner.deploy.predict import predict_csv, write_csv

    forecast = predict_csv(Path(args.model), Path(args.data))
    if args.out:
        write_csv(forecast, args.out)
        print(f"{len(forecast)} forecasts written to {args.out}", file=sys.stderr)
    else:
        forecast.to_csv(sys.stdout)
        sys.stdout.flush()
    return EXIT_OK


def _predict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="bundle folder (from tuner export --out)")
    p.add_argument("--data", required=True, help="CSV with the model's input columns")
    p.add_argument("--out", help="CSV to write (default: standard output)")
    options.add_backend(p)


def report(args: argparse.Namespace) -> int:
    from tuner.review.report import default_model, report_study
    from tuner.search import attrs

    location = options.location(args)
    study = _load_study(args, location)
    store = location.store_to_read(study.user_attrs.get(attrs.ARTIFACTS))
    model = Path(args.model) if args.model else default_model(study.study_name)
    if model is not None:  # its figures load Keras
        options.quiet_native_logs(args)
    print(report_study(study, Path(args.out), model=model, artifacts=store).describe())
    return EXIT_OK


def _report_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.deploy.bundle import DEFAULT_FOLDER
    from tuner.review import DEFAULT_OUT

    _add_study(p)
    p.add_argument(
        "--model",
        help="the study's exported bundle, for the test-split figures (default: "
        f"{DEFAULT_FOLDER} when it holds this study's)",
    )
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help="folder of reports; each study's goes in a folder of its name (default: %(default)s)",
    )
    options.add_backend(p)


def dashboard(args: argparse.Namespace) -> int:
    from tuner.review.dashboard import exposure_warning, serve

    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    serve(
        options.location(args),
        host=args.host,
        port=args.port,
        read_only=args.read_only,
    )
    return EXIT_OK


def _dashboard_arguments(p: argparse.ArgumentParser) -> None:
    from tuner.review.dashboard import DEFAULT_HOST, DEFAULT_PORT

    options.add_location(p)
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default: %(default)s, this machine only); the dashboard "
        "has no login, so another address is said with a warning",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="(default: %(default)s)")
    p.add_argument(
        "--read-only",
        action="store_true",
        help="refuse every request that changes a study (notes, deletions)",
    )


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], Callable, str]] = {
    "run": (run, _run_arguments, "search (resumable; Ctrl-C safe)"),
    "best": (best, _best_arguments, "what the search found, against the persistence baseline"),
    "dashboard": (dashboard, _dashboard_arguments, "optuna-dashboard on the study storage"),
    "export": (export, _export_arguments, "deployable bundle of the best trial"),
    "predict": (predict, _predict_arguments, "forecasts from an exported bundle"),
    "report": (report, _report_arguments, "the study's figures in one HTML page, attached to it"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuner",
        description="Hyperparameter search for the single-LSTM time-series baseline "
        "(Optuna, noise pruning, export for deployment).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(metavar="COMMAND")
    for name, (command, add_arguments, summary) in COMMANDS.items():
        p = commands.add_parser(name, help=summary, description=summary)
        add_arguments(p)
        p.set_defaults(command=command, parser=p)
    commands.add_parser("bench", help="measuring instruments (tuner bench --help)")
    return parser


def _add_study(p: argparse.ArgumentParser) -> None:
    """The study to read: --study, or the one `tuner run` names for --data and --space, or
    the storage's only study."""
    options.add_location(p)
    p.add_argument(
        "--study",
        help="study name (default: DATA-SPACE when --data or --space is given, as tuner run "
        "names it, else the storage's only study)",
    )
    p.add_argument("--data", help="the data tuner run was given, for the default study name")
    p.add_argument("--space", help="the space tuner run was given, for the default study name")


def _load_study(args: argparse.Namespace, location: StudyLocation) -> optuna.Study:
    from tuner.data.sources import BUILTINS
    from tuner.search.storage import load_study, open_storage
    from tuner.search.study import default_study_name

    name = args.study
    if name is None and (args.data or args.space):
        data = args.data or options.DEFAULT_DATA
        data = data if data in BUILTINS else Path(data).stem
        name = default_study_name(data, Path(args.space or options.DEFAULT_SPACE).stem)
    return load_study(open_storage(location, create=False), name)


def _version() -> str:
    try:
        return metadata.version("tuner")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


if __name__ == "__main__":
    sys.exit(main())
