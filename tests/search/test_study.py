"""`RunConfig`: what a run is given is checked before anything is read or written."""

from dataclasses import asdict, replace

import optuna
import pytest

from tuner.data.sources import DataSpec
from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.space import load_space
from tuner.search.study import PRUNERS, RunConfig, default_study_name

SPEC = DataSpec(path="sales.csv", name="sales", sha256="0" * 64, target="units")
SPACE = load_space("lstm_baseline")


def test_defaults_name_the_study_after_its_data_and_space():
    config = RunConfig(data=SPEC, space=SPACE)
    assert (
        config.study_name == default_study_name("sales", "lstm_baseline") == "sales-lstm_baseline"
    )
    assert (config.trials, config.seed, config.pruner) == (100, 0, "noise-aware")
    assert RunConfig(data=SPEC, space=SPACE, study_name="mine").study_name == "mine"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"trials": 0}, "trials must be at least 1"),
        ({"max_epochs": 0}, "max_epochs must be at least 1"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"jobs": 0}, "jobs must be at least 1"),
        ({"heartbeat": 0}, "heartbeat must be at least 1 second"),
        ({"seed": -1}, "seed must be 0 or more"),
        ({"pruner": "hyperband"}, "pruner must be one of noise-aware, median, none"),
    ],
)
def test_bad_settings_are_one_line(changes, message):
    with pytest.raises(TunerError, match=message):
        RunConfig(data=SPEC, space=SPACE, **changes)


def test_every_pruner_name_builds_an_optuna_pruner():
    assert {type(make()).__name__ for make in PRUNERS.values()} == {
        "NoiseAwarePruner",
        "MedianPruner",
        "NopPruner",
    }


def test_a_new_study_names_its_metric_and_a_resumed_one_without_a_name_gets_it():
    from tuner.search.study import _open_study

    storage = optuna.storages.InMemoryStorage()
    config = RunConfig(data=SPEC, space=SPACE)
    assert _open_study(storage, config).metric_names == ["validation RMSE of units"]
    older = replace(config, study_name="older")
    made_before = optuna.create_study(study_name="older", storage=storage)
    made_before.set_user_attr(attrs.DATA, asdict(SPEC))
    made_before.set_user_attr(attrs.SPACE, SPACE.name)
    assert made_before.metric_names is None
    assert _open_study(storage, older).metric_names == ["validation RMSE of units"]
