"""`tuner COMMAND …`: the parser of every command, flags that cannot go together refused,
then the command's own module; errors become exit codes."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Mapping
from importlib import metadata
from types import ModuleType

from tuner import options
from tuner.cli import best, dashboard, exits, export, predict, report, run
from tuner.errors import TunerError

# Each module: SUMMARY, add_arguments(parser), command(args) -> exit code, and optionally
# CONFLICTS ({(flag, flag): why}) and USAGE.
COMMANDS: dict[str, ModuleType] = {
    "run": run,
    "best": best,
    "dashboard": dashboard,
    "export": export,
    "predict": predict,
    "report": report,
}
EPILOG = "What each option buys, and the figure behind it: docs/options.md."
HELP_POSITION = 30  # most flags and their help on one line at 100 columns


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["bench"]:
            from tuner.bench.cli import main as bench

            return bench(argv[1:], prog="tuner bench")
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if not hasattr(args, "command"):
            parser.print_help()
            return exits.OK
        if unknown:
            args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        refuse_conflicts(args, getattr(COMMANDS[args.name], "CONFLICTS", {}))
        options.use_backend(args)
        return args.command(args)
    except TunerError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`) left; stop writing to it without a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exits.BROKEN_PIPE


def refuse_conflicts(args: argparse.Namespace, conflicts: Mapping[tuple[str, str], str]) -> None:
    """Refuse two flags given together that cannot both hold, before anything is read."""
    for (first, second), why in conflicts.items():
        if _given(args, first) and _given(args, second):
            raise TunerError(f"{first} and {second} cannot go together: {why}")


def _given(args: argparse.Namespace, flag: str) -> bool:
    return getattr(args, flag.removeprefix("--").replace("-", "_")) not in (None, False)


def build_parser() -> argparse.ArgumentParser:
    formatter = functools.partial(argparse.HelpFormatter, max_help_position=HELP_POSITION)
    parser = argparse.ArgumentParser(
        prog="tuner",
        description="Hyperparameter search for the single-LSTM time-series baseline "
        "(Optuna, noise pruning, export for deployment).",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(metavar="COMMAND")
    for name, module in COMMANDS.items():
        p = commands.add_parser(
            name,
            help=module.SUMMARY,
            description=module.SUMMARY,
            usage=getattr(module, "USAGE", "%(prog)s [options]"),
            epilog=EPILOG,
            formatter_class=formatter,
        )
        module.add_arguments(p)
        p.set_defaults(command=module.command, parser=p, name=name)
    commands.add_parser("bench", help="measuring instruments (tuner bench --help)")
    return parser


def _version() -> str:
    try:
        return metadata.version("tuner")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"
