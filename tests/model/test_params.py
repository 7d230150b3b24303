"""The trial's parameters and settings: their limits, shared by the search and the bundle."""

import dataclasses
import json
import tomllib
from importlib.resources import files

import pytest

from tests.deploy.test_bundle import META
from tuner.deploy.bundle import BundleMetadata
from tuner.errors import TunerError
from tuner.model.params import LIMITS, LOSSES, PREDICTS, ModelParams, TrainingSettings
from tuner.search.space import parse_space

BASELINE = tomllib.loads(files("tuner.search").joinpath("spaces/lstm_baseline.toml").read_text())


def _space(key: str, value: int):
    document = json.loads(json.dumps(BASELINE))  # a deep copy
    document["params"][key] = value  # a bare value fixes the parameter
    return parse_space(document, name="limits", source="limits.toml")


def _bundle(key: str, value: int) -> BundleMetadata:
    document = json.loads(META.to_json())
    document["hyperparameters"][key] = value
    if key == "seq_len":
        document["seq_len"] = value
    return BundleMetadata.from_dict(document)


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_what_a_search_may_find_a_bundle_may_hold_and_no_more(key):
    most = LIMITS[key]
    assert list(_space(key, most).params[key].values()) == [most]
    assert getattr(_bundle(key, most).hyperparameters, key) == most
    with pytest.raises(TunerError, match=f"params.{key}: values must be at most {most}"):
        _space(key, most + 1)
    with pytest.raises(ValueError, match=f"must be between 1 and {most}"):
        _bundle(key, most + 1)


def test_the_limits_are_the_three_integer_parameters():
    integers = {f.name for f in dataclasses.fields(ModelParams) if f.type == "int"}
    assert set(LIMITS) == integers == {"units", "seq_len", "batch_size"}


def test_the_default_settings_are_the_shipped_space_s_and_valid_choices():
    settings = TrainingSettings(max_epochs=30, patience=3)
    assert settings.predict in PREDICTS and settings.loss in LOSSES
    shipped = parse_space(BASELINE, name="lstm_baseline", source="lstm_baseline.toml").training
    assert shipped == settings


def test_parameters_are_values():
    params = ModelParams(units=8, seq_len=6, learning_rate=1e-3, batch_size=32)
    assert params == ModelParams(8, 6, 1e-3, 32) and len({params, ModelParams(8, 6, 1e-3, 32)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.units = 16
