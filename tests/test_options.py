"""The shared command-line options: each group parses to what the Python API takes."""

import argparse
import ast
import re
from pathlib import Path

import pytest

from tuner import options
from tuner.cli.dispatch import COMMANDS
from tuner.errors import TunerError
from tuner.search.location import ARTIFACTS_VARIABLE, DEFAULT_STORAGE, STORAGE_VARIABLES


def _parse(add, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(list(argv))


def test_the_location_flags_come_before_the_environment():
    environ = {"TUNER_STORAGE": "sqlite:///env.db", "TUNER_ARTIFACTS": "env-artifacts"}
    given = options.location(
        _parse(options.add_location, "--storage", "sqlite:///a.db", "--artifacts", "a"), environ
    )
    assert (str(given), given.artifacts) == ("sqlite:///a.db", Path("a"))
    unset = options.location(_parse(options.add_location), environ)
    assert (str(unset), unset.artifacts) == ("sqlite:///env.db", Path("env-artifacts"))
    assert str(options.location(_parse(options.add_location), {})) == DEFAULT_STORAGE


def test_a_bad_storage_url_is_refused_when_the_location_is_read():
    with pytest.raises(TunerError, match="unknown storage scheme 'redis'"):
        options.location(_parse(options.add_location, "--storage", "redis://h/0"), {})


def test_the_data_flags_make_a_data_spec(beijing_csv, monkeypatch):
    monkeypatch.setenv("TUNER_DATA_DIR", str(beijing_csv.parent))
    args = _parse(options.add_data, "--horizon", "3", "--val-start", "2013-01-01")
    spec = options.data_spec(args)
    assert (spec.name, spec.target, spec.horizon, spec.val_start) == (
        "beijing",
        "pm2.5",
        3,
        "2013-01-01",
    )


def test_a_horizon_below_one_is_refused():
    args = _parse(options.add_data, "--horizon", "0")
    with pytest.raises(TunerError, match="horizon must be at least 1, got 0"):
        options.data_spec(args)


def test_the_space_defaults_to_the_built_in_baseline():
    assert _parse(options.add_space).space == "lstm_baseline"
    assert _parse(options.add_space, "--space", "my.toml").space == "my.toml"


def test_an_unknown_backend_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        _parse(options.add_backend, "--backend", "torch")
    assert "invalid choice: 'torch'" in capsys.readouterr().err


DOCS = Path(__file__).parents[1] / "docs" / "options.md"
PRODUCT = [p for p in (Path(__file__).parents[1] / "tuner").rglob("*.py") if "bench" not in p.parts]


def _documented_flags() -> dict[str, set[str]]:
    """The flags given a line (`- `--flag …`: …`) under each "## `tuner COMMAND`" heading."""
    sections: dict[str, set[str]] = {}
    command = None
    for line in DOCS.read_text().splitlines():
        if line.startswith("## "):
            heading = re.fullmatch(r"## `tuner (\w+)`", line)
            command = heading.group(1) if heading else None
            sections.update({command: set()} if command else {})
        elif command and line.startswith("- `--"):
            sections[command].add(re.match(r"- `(--[\w-]+)", line).group(1))
    return sections


def _parsed_flags() -> dict[str, set[str]]:
    flags = {}
    for name, module in COMMANDS.items():
        parser = argparse.ArgumentParser()
        module.add_arguments(parser)
        flags[name] = {flag for action in parser._actions for flag in action.option_strings} - {
            "-h",
            "--help",
        }
    return flags


def test_every_option_of_every_command_has_its_line_in_the_docs_and_no_other():
    documented, parsed = _documented_flags(), _parsed_flags()
    assert set(documented) == set(parsed)
    for command, flags in parsed.items():
        assert not flags - documented[command], f"tuner {command}: undocumented"
        assert not documented[command] - flags, f"tuner {command}: documented, not parsed"


def _variables_read(path: Path) -> set[str]:
    """Names read from `environ` (`environ.get("X")`, `environ["X"]`) in one module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("environ.get"):
            key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice if ast.unparse(node.value).endswith("environ") else None
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def test_every_environment_variable_the_product_reads_has_its_line_in_the_docs():
    read = set().union(*map(_variables_read, PRODUCT), STORAGE_VARIABLES, {ARTIFACTS_VARIABLE})
    assert {"TUNER_DATA_DIR", "TUNER_BACKEND", "XDG_CACHE_HOME"} <= read  # the parse finds them
    text = DOCS.read_text()
    environment = text[text.index("## Environment") : text.index("## Mechanisms")]
    assert not {name for name in read if f"`{name}`" not in environment}
