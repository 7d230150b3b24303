"""The `tuner` commands: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from tuner.backend import BACKENDS, use_backend
from tuner.engines import DEFAULT_ENGINES, ENGINES
from tuner.errors import TunerError
from tuner.sources import BUILTINS

DEFAULT_SPACE = "lstm_baseline"
DEFAULT_ARTIFACTS = "results/artifacts"
DEFAULT_EXPORT = "results/best"
DEFAULT_BANK = "benchmarks/curves-beijing-plateau-seed0.jsonl"
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        use_backend(getattr(args, "backend", None))
        return args.command(args)
    except TunerError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run(args: argparse.Namespace) -> int:
    import optuna

    from tuner.space import load_space
    from tuner.storage import parse_url, storage_url
    from tuner.study import RunConfig, default_study_name, run_study

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # progress.py reports each trial
    url = storage_url(args.storage)
    parse_url(url)  # an unknown scheme is refused before the data is read
    space = load_space(args.space)
    spec = _data_spec(args)
    config = RunConfig(
        data=spec,
        space=space,
        storage=url,
        study_name=args.study or default_study_name(spec.name, space.name),
        artifacts=Path(args.artifacts),
        trials=args.trials,
        timeout=args.timeout,
        seed=args.seed,
        max_epochs=args.max_epochs,
        heartbeat=args.heartbeat,
        jobs=args.jobs,
        quiet=args.quiet,
    )
    summary = run_study(config)
    print(summary.describe())
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return 1 if summary.failed_workers else 0


def best(args: argparse.Namespace) -> int:
    from tuner.report import best_report, format_report

    report = best_report(_load_study(args))
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def export(args: argparse.Namespace) -> int:
    from tuner.artifacts import open_store
    from tuner.export import export_best

    study = _load_study(args)
    meta = export_best(study, open_store(args.artifacts), Path(args.out))
    print(
        f"exported trial {meta['trial']} to {args.out}: test RMSE {meta['test_rmse']:.3f} "
        f"(persistence {meta['persistence_test_rmse']:.3f}), val RMSE {meta['val_rmse']:.3f}"
    )
    return 0


def predict(args: argparse.Namespace) -> int:
    from tuner.predict import predict_csv

    forecast = predict_csv(Path(args.model), Path(args.data))
    if args.out:
        forecast.to_csv(args.out)
        print(f"{len(forecast)} forecasts written to {args.out}", file=sys.stderr)
    else:
        forecast.to_csv(sys.stdout)
    return 0


def dashboard(args: argparse.Namespace) -> int:
    from tuner.dashboard import serve
    from tuner.storage import storage_url

    serve(storage_url(args.storage), Path(args.artifacts), host=args.host, port=args.port)
    return 0


def bench_curves(args: argparse.Namespace) -> int:
    from tuner.curves import make_bank
    from tuner.dataset import prepare
    from tuner.space import load_space

    space = load_space(args.space)
    data = prepare(_data_spec(args))
    data.check_enough_rows(space.max_seq_len)
    curves = make_bank(
        data,
        space,
        configs=args.configs,
        epochs=args.epochs,
        seed=args.seed,
        out=Path(args.out),
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(f"{len(curves)} curves of {args.epochs} epochs in {args.out}")
    return 0


def bench_pruners(args: argparse.Namespace) -> int:
    from tuner.bank import read_bank
    from tuner.replay import benchmark, format_table
    from tuner.space import load_space

    space = load_space(args.space)
    rows = benchmark(read_bank(Path(args.bank)), patience=space.patience, orders=args.orders)
    print(
        json.dumps([row.to_dict() for row in rows], indent=2) if args.json else format_table(rows)
    )
    return 0


def bench_speed(args: argparse.Namespace) -> int:
    from tuner.space import find_space
    from tuner.speed import epoch_times, format_tables, throughput, to_json

    epochs = [epoch_times(backend) for backend in args.backends.split(",")]
    space = str(find_space(args.space).resolve())
    runs = [throughput(jobs, args.budget, space=space) for jobs in (1, 2)] if args.budget else []
    print(to_json(epochs, runs) if args.json else format_tables(epochs, runs))
    return 0


def bench_engines(args: argparse.Namespace) -> int:
    from tuner.dataset import prepare
    from tuner.engines import check_engines, format_table, from_json, run_engine, to_json
    from tuner.sources import resolve
    from tuner.space import find_space, load_space

    if args.show:
        try:
            text = Path(args.show).read_text()
        except OSError as e:
            raise TunerError(f"{args.show}: cannot read: {e.strerror or e}") from e
        print(format_table(*from_json(text)))
        return 0
    if not (math.isfinite(args.budget) and args.budget > 0):
        raise TunerError(f"--budget must be a positive number of seconds, got {args.budget}")
    engines = [name.strip() for name in args.engines.split(",")]
    check_engines(engines)
    space = str(find_space(args.space).resolve())
    load_space(space)
    baseline = prepare(resolve("beijing")).persistence_rmse("val")
    runs = []
    for engine in engines:
        print(f"{engine}: {args.budget:.0f} s ...", file=sys.stderr, flush=True)
        runs.append(run_engine(engine, args.budget, space=space, seed=args.seed))
    print(to_json(runs, baseline) if args.json else format_table(runs, baseline))
    return 0


def _data_spec(args: argparse.Namespace):
    from tuner.sources import resolve

    return resolve(
        args.data,
        target=args.target,
        time_col=args.time_col,
        val_start=args.val_start,
        test_start=args.test_start,
        horizon=args.horizon,
    )


def _load_study(args: argparse.Namespace):
    from tuner.storage import load_study, open_storage, storage_url
    from tuner.study import default_study_name

    name = args.study or default_study_name(
        args.data if args.data in BUILTINS else Path(args.data).stem, Path(args.space).stem
    )
    return load_study(open_storage(storage_url(args.storage), create=False), name)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $TUNER_BACKEND or jax)",
    )
    storage = argparse.ArgumentParser(add_help=False)
    storage.add_argument(
        "--storage",
        help="study storage URL (default: $TUNER_STORAGE or sqlite:///results/tuner.db)",
    )
    storage.add_argument(
        "--artifacts",
        default=os.environ.get("TUNER_ARTIFACTS", DEFAULT_ARTIFACTS),
        help="artifact store folder for trial models (default: %(default)s)",
    )
    study = argparse.ArgumentParser(add_help=False)
    study.add_argument(
        "--study", help="study name (default: DATA-SPACE, e.g. beijing-lstm_baseline)"
    )
    study.add_argument(
        "--data", default="beijing", help="built-in dataset name or CSV path (default: %(default)s)"
    )
    space = argparse.ArgumentParser(add_help=False)
    space.add_argument(
        "--space",
        default=DEFAULT_SPACE,
        help="search space: a TOML path, or a name in search_spaces/ (default: %(default)s)",
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data", default="beijing", help="built-in dataset name or CSV path (default: %(default)s)"
    )
    data.add_argument("--target", help="target column (required for a CSV that is not built in)")
    data.add_argument("--time-col", help="timestamp column (default: year,month,day,hour columns)")
    data.add_argument("--val-start", help="first validation timestamp (default: 70%% of the hours)")
    data.add_argument("--test-start", help="first test timestamp (default: 85%% of the hours)")
    data.add_argument(
        "--horizon", type=int, default=1, help="hours ahead to forecast (default: %(default)s)"
    )

    parser = argparse.ArgumentParser(
        prog="tuner",
        description="Hyperparameter search for the single-LSTM time-series baseline "
        "(Optuna, noise pruning, export for deployment).",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    p = commands.add_parser(
        "run", parents=[common, storage, data, space], help="search (resumable; Ctrl-C safe)"
    )
    p.add_argument("--study", help="study name (default: DATA-SPACE, e.g. beijing-lstm_baseline)")
    p.add_argument(
        "--trials",
        type=int,
        default=100,
        help="finished trials the study should have (default: %(default)s)",
    )
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    p.add_argument(
        "--seed", type=int, default=0, help="sampler and weight seed (default: %(default)s)"
    )
    p.add_argument(
        "--max-epochs", type=int, help="cap on epochs per trial, below the space's max_epochs"
    )
    p.add_argument(
        "--heartbeat",
        type=int,
        default=60,
        help="seconds between trial heartbeats; a trial silent for twice that is failed "
        "and retried (default: %(default)s)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="worker processes on the study, each held to its share of the cores "
        "(default: the cores here, %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(command=run)

    p = commands.add_parser(
        "best",
        parents=[common, storage, study, space],
        help="best trial against the persistence baseline",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command=best)

    p = commands.add_parser(
        "dashboard", parents=[common, storage], help="optuna-dashboard on the storage"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=8080, help="(default: %(default)s)")
    p.set_defaults(command=dashboard)

    p = commands.add_parser(
        "export",
        parents=[common, storage, study, space],
        help="deployable bundle of the best trial",
    )
    p.add_argument("--out", default=DEFAULT_EXPORT, help="bundle folder (default: %(default)s)")
    p.set_defaults(command=export)

    p = commands.add_parser("predict", parents=[common], help="forecasts from an exported bundle")
    p.add_argument("--model", required=True, help="export folder (tuner export --out)")
    p.add_argument("--data", required=True, help="CSV with the model's input columns")
    p.add_argument("--out", help="CSV to write (default: standard output)")
    p.set_defaults(command=predict)

    bench = commands.add_parser("bench", help="benchmarks").add_subparsers(
        required=True, metavar="BENCHMARK"
    )
    p = bench.add_parser(
        "curves",
        parents=[common, data, space],
        help="a bank of learning curves: configurations trained without pruning",
    )
    p.add_argument("--configs", type=int, default=40, help="configurations (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=20, help="epochs each (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="draws and weights (default: %(default)s)")
    p.add_argument("--out", required=True, help="JSON-lines bank to write or resume")
    p.set_defaults(command=bench_curves)

    p = bench.add_parser(
        "pruners", parents=[common, space], help="replay a curve bank through Optuna's pruners"
    )
    p.add_argument("--bank", default=DEFAULT_BANK, help="curve bank (default: %(default)s)")
    p.add_argument("--orders", type=int, default=20, help="shuffled orders (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command=bench_pruners)

    p = bench.add_parser(
        "speed",
        parents=[space],
        help="seconds per epoch against a bare model.fit; trials per hour, --jobs 1 and 2",
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
    p.set_defaults(command=bench_speed)

    p = bench.add_parser(
        "engines",
        parents=[space],
        help="tuner run against plain Optuna and KerasTuner Hyperband, same budget each",
    )
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
    p.set_defaults(command=bench_engines)
    return parser


if __name__ == "__main__":
    sys.exit(main())
