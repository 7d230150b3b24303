"""`RunConfig`: what a run is given is checked before anything is read or written."""

from dataclasses import asdict, replace

import optuna
import pytest

from tuner.data.sources import DataSpec
from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.location import StudyLocation
from tuner.search.space import load_space
from tuner.search.study import PRUNERS, RunConfig, default_study_name

SPEC = DataSpec(path="sales.csv", name="sales", sha256="0" * 64, target="units")
SPACE = load_space("lstm_baseline")
# A study on a database server, where the storage waits out outages.
SERVER = {
    "data": SPEC,
    "space": SPACE,
    "location": StudyLocation.of("postgresql://tuner@localhost/tuner", "models"),
}


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
        ({"storage_wait": -1}, "storage_wait must be 0 or more"),
        ({"storage_wait": float("nan")}, "storage_wait must be 0 or more"),
        ({"storage_wait": float("inf")}, "storage_wait must be finite"),
        ({"replicates": -1}, "replicates must be 0 or more"),
        ({"pruner": "hyperband"}, "pruner must be one of noise-aware, median, none"),
    ],
)
def test_bad_settings_are_one_line(changes, message):
    with pytest.raises(TunerError, match=message):
        RunConfig(data=SPEC, space=SPACE, **changes)


@pytest.mark.parametrize(
    ("heartbeat", "storage_wait"), [(60, 120.0), (30, 120.0), (1, 120.0), (1, 0.0), (600, 4.0)]
)
def test_on_a_server_the_grace_outlasts_any_wait(heartbeat, storage_wait):
    """No heartbeat reaches a database that does not answer: a trial whose worker waits
    out an outage must stay live however the two are set, so its grace covers the wait."""
    config = RunConfig(**SERVER, heartbeat=heartbeat, storage_wait=storage_wait)
    assert config.grace_period == 2 * heartbeat + storage_wait


def test_sqlite_has_no_outage_to_wait_for():
    """SQLite's storage does not wait (`tuner.search.storage.open_storage`)."""
    config = RunConfig(data=SPEC, space=SPACE, heartbeat=1)
    assert config.grace_period == 2


def test_every_pruner_name_builds_an_optuna_pruner():
    assert {type(make()).__name__ for make in PRUNERS.values()} == {
        "NoiseAwarePruner",
        "MedianPruner",
        "NopPruner",
    }


def test_a_new_study_names_its_metric_and_a_resumed_one_without_a_name_gets_it():
    from tuner.search.record import open_study as _open_study

    storage = optuna.storages.InMemoryStorage()
    config = RunConfig(data=SPEC, space=SPACE)
    assert _open_study(storage, config).metric_names == ["validation RMSE of units"]
    older = replace(config, study_name="older")
    made_before = optuna.create_study(study_name="older", storage=storage)
    made_before.set_user_attr(attrs.DATA, asdict(SPEC))
    made_before.set_user_attr(attrs.SPACE, SPACE.name)
    assert made_before.metric_names is None
    assert _open_study(storage, older).metric_names == ["validation RMSE of units"]


def _hourly(tmp_path, hours: int):
    import numpy as np
    import pandas as pd

    from tests.conftest import load_spec
    from tuner.data.prepared import prepare

    times = pd.date_range("2021-01-01", periods=hours, freq="h")
    load = 50 + 10 * np.sin(np.arange(hours) / 5) + np.random.default_rng(0).normal(0, 1, hours)
    frame = pd.DataFrame({"ts": times.strftime("%Y-%m-%d %H:%M"), "load": load})
    return prepare(load_spec(tmp_path / f"load{hours}.csv", frame))


def test_a_study_gets_the_baselines_it_lacks_and_keeps_those_it_has(tmp_path):
    from tuner.search.baselines import missing_baselines as _missing_baselines

    data = _hourly(tmp_path, 24 * 30)
    found = _missing_baselines({}, data)
    assert found[attrs.PERSISTENCE_VAL_RMSE] == data.persistence_rmse("val")
    assert 0 < found[attrs.BOOSTING_VAL_RMSE] < found[attrs.PERSISTENCE_VAL_RMSE]
    assert 0 < found[attrs.SEASONAL_VAL_RMSE] and attrs.BASELINES_VAL_BY_STEP not in found
    assert _missing_baselines(found, data) == {}
    assert _missing_baselines({"baseline_val_rmse": 1.0}, data).keys() == found.keys()


def test_data_too_short_for_the_boosting_features_leaves_it_out_and_the_search_goes_on(tmp_path):
    from tuner.search.baselines import missing_baselines as _missing_baselines

    data = _hourly(tmp_path, 60)  # 42 training hours: none with 48 hours of history
    assert _missing_baselines({}, data).keys() == {
        attrs.PERSISTENCE_VAL_RMSE,
        attrs.SEASONAL_VAL_RMSE,
    }
