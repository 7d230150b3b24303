"""The shared command-line options: each group parses to what the Python API takes."""

import argparse
from pathlib import Path

import pytest

from tuner import options
from tuner.errors import TunerError
from tuner.search.location import DEFAULT_STORAGE


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
