"""The bundle's metadata: written and read by one dataclass; anything malformed refused."""

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from tuner.data.preprocessing import Preprocessing
from tuner.deploy.bundle import METADATA_FILE, MODEL_FILE, read_bundle
from tuner.deploy.manifest import write_manifest
from tuner.deploy.metadata import (
    FORMAT_VERSION,
    MAX_METADATA_BYTES,
    BundleMember,
    BundleMetadata,
    StepScores,
)
from tuner.errors import TunerError
from tuner.model.params import ModelParams

PREP = Preprocessing(
    target="pm2.5",
    numeric=("pm2.5", "TEMP"),
    categories={"cbwd": ("NE", "NW")},
    mean={"pm2.5": 98.6, "TEMP": 12.4},
    std={"pm2.5": 92.0, "TEMP": 12.2},
)
META = BundleMetadata(
    target="pm2.5",
    horizon=1,
    seq_len=24,
    time_col=None,
    features=PREP.features,
    preprocessing=PREP,
    hyperparameters=ModelParams(units=32, seq_len=24, learning_rate=0.003, batch_size=64),
    dataset={"name": "beijing", "file": "data.csv", "sha256": "4127f868"},
    split={"val_start": "2013-01-01 00:00:00", "test_start": "2014-01-01 00:00:00"},
    epochs=9,
    val_rmse=23.1,
    search_val_rmse=23.1,
    test_rmse=20.4,
    persistence_val_rmse=24.86,
    persistence_test_rmse=22.14,
    test_windows=8600,
    study="beijing-lstm_baseline",
    trial=41,
    backend="jax",
    versions={"keras": "3.15.0"},
)


def _bundle(tmp_path, document) -> Path:
    """A bundle of `document` as its metadata and an empty model, sealed as export seals it."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / MODEL_FILE).write_bytes(b"")
    text = document if isinstance(document, str) else json.dumps(document)
    (tmp_path / METADATA_FILE).write_text(text)
    write_manifest(tmp_path)
    return tmp_path


def test_round_trip(tmp_path):
    assert read_bundle(_bundle(tmp_path, META.to_json())) == META
    assert json.loads(META.to_json())["format_version"] == FORMAT_VERSION


def test_the_gradient_boosting_scores_round_trip_and_a_bundle_without_them_reads(tmp_path):
    scored = replace(META, boosting_val_rmse=22.5, boosting_test_rmse=20.1)
    assert read_bundle(_bundle(tmp_path / "scored", scored.to_json())) == scored
    document = json.loads(META.to_json())
    del document["boosting_val_rmse"], document["boosting_test_rmse"]  # an older export
    assert read_bundle(_bundle(tmp_path / "older", json.dumps(document))) == META


ENSEMBLE = replace(
    META,
    val_rmse=None,
    refit=True,
    members=(
        BundleMember(41, META.hyperparameters, 9),
        BundleMember(7, ModelParams(units=16, seq_len=12, learning_rate=0.01, batch_size=32), 5),
    ),
)


def test_an_ensemble_s_members_round_trip_and_an_older_bundle_has_none(tmp_path):
    assert read_bundle(_bundle(tmp_path / "ensemble", ENSEMBLE.to_json())) == ENSEMBLE
    document = json.loads(META.to_json())
    del document["members"], document["refit"]  # an export before ensembles
    assert read_bundle(_bundle(tmp_path / "older", json.dumps(document))) == META


EVERY_QUARTER_HOUR = replace(
    META,
    horizon=8,
    every_step=True,
    freq="15min",
    test_rmse_by_step=tuple(10.0 + i for i in range(8)),
    baselines_test={
        "persistence": StepScores(22.0, tuple(12.0 + i for i in range(8))),
        "seasonal": StepScores(30.0, (30.0,) * 8),
        "boosting": StepScores(21.0, tuple(11.0 + i for i in range(8))),
    },
)


def test_a_bundle_of_every_step_round_trips_and_says_what_it_forecasts(tmp_path):
    assert read_bundle(_bundle(tmp_path, EVERY_QUARTER_HOUR.to_json())) == EVERY_QUARTER_HOUR
    document = json.loads(EVERY_QUARTER_HOUR.to_json())
    assert document["steps"] == list(range(1, 9)) and "every_step" not in document
    assert document["baselines_test"]["seasonal"] == {"rmse": 30.0, "by_step": [30.0] * 8}
    assert EVERY_QUARTER_HOUR.describe() == (
        "trial 41's own model, forecasting every step from 15 minutes to 2 hours ahead"
    )
    daily = replace(META, freq="D", horizon=7, every_step=True)
    assert daily.reach() == "every step from 1 to 7 days ahead"
    assert (
        replace(META, horizon=24, every_step=True).reach() == "every step from 1 to 24 hours ahead"
    )


def test_a_bundle_from_before_steps_reads_as_hourly_and_one_step(tmp_path):
    document = json.loads(replace(META, horizon=6).to_json())
    for name in ("freq", "steps", "test_rmse_by_step", "baselines_test"):
        del document[name]
    del document["preprocessing"]["calendar"]
    meta = read_bundle(_bundle(tmp_path, json.dumps(document)))
    assert meta == replace(META, horizon=6)
    assert meta.freq == "h" and meta.steps == (6,) and meta.step == pd.Timedelta(hours=1)
    assert meta.describe() == "trial 41's own model, forecasting 6 hours ahead"


def test_a_bundle_of_an_earlier_tuner_that_records_no_teacher_reads_as_any_other(tmp_path):
    """Earlier tuners wrote `teacher`, 0 unless one was asked for: such a bundle is one of
    this tuner's; the field is not written any more."""
    assert "teacher" not in json.loads(ENSEMBLE.to_json())
    document = {**json.loads(ENSEMBLE.to_json()), "teacher": 0.0}
    assert read_bundle(_bundle(tmp_path, json.dumps(document))) == ENSEMBLE


def _with(**changes):
    document = json.loads(META.to_json())
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        target = document
        for part in path:
            target = target[part]
        target[key] = value
    return document


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": 1}, "bundle format 1; this tuner reads format 2"),
        ({"format_version": 3}, "bundle format 3; this tuner reads format 2"),
        ({"format_version": None}, "bundle format None"),
        ({"seq_len": 0}, "seq_len: must be between 1"),
        ({"seq_len": -5}, "seq_len: must be between 1"),
        ({"seq_len": 1e400}, "seq_len: expected int"),
        ({"seq_len": "24"}, "seq_len: expected int"),
        ({"horizon": 10**15}, "horizon: must be between 1"),
        ({"target": {"a": 1}}, "target: expected str"),
        ({"preprocessing__categories": ["cbwd"]}, "categories: expected dict"),
        ({"preprocessing__numeric": ["pm2.5", "pm2.5"]}, "listed twice"),
        ({"preprocessing__std__TEMP": 0}, "std\\['TEMP'\\]: must be positive"),
        ({"preprocessing__mean__TEMP": None}, "mean\\['TEMP'\\]: expected a finite number"),
        ({"features": ["pm2.5"]}, "features do not match"),
        ({"test_rmse": True}, "test_rmse: expected a finite number"),
        ({"boosting_test_rmse": "20"}, "boosting_test_rmse: expected a finite number"),
        ({"hyperparameters__seq_len": 25}, "hyperparameters.seq_len: must be between 1 and 24"),
        ({"members": {"trial": 1}}, "members: expected list"),
        ({"members": [7]}, "members: expected dict"),
        ({"members": [{"trial": 1, "epochs": 3}]}, "members\\[0\\].hyperparameters: expected dict"),
        ({"refit": "yes"}, "refit: expected bool"),
        ({"teacher": 0.75}, "teacher 0.75: its members learnt from gradient boosting, which "),
        ({"teacher": "0"}, "teacher: expected a finite number"),
        ({"freq": "banana"}, "freq: 'banana' is not a fixed step"),
        ({"freq": "MS"}, "freq: 'MS' is not a fixed step"),
        ({"freq": 3600}, "freq: expected str"),
        ({"freq": "1" * 40 + "h"}, "freq: .* is not a step"),
        ({"steps": [2]}, "steps: expected \\[1\\] or every step from 1 to 1, got \\[2\\]"),
        ({"steps": []}, "steps: expected \\[1\\]"),
        ({"steps": "1"}, "steps: expected list"),
        ({"steps": [1.0]}, "steps: expected int"),
        ({"horizon": 3, "steps": [1, 3]}, "steps: expected \\[3\\] or every step from 1 to 3"),
        ({"test_rmse_by_step": [1.0, 2.0]}, "test_rmse_by_step: expected 1 values, one per step"),
        ({"test_rmse_by_step": [None]}, "test_rmse_by_step\\[0\\]: expected a finite number"),
        ({"baselines_test": []}, "baselines_test: expected dict"),
        ({"baselines_test": {"oracle": {}}}, "'oracle' is not a baseline tuner scores"),
        ({"baselines_test": {"seasonal": {"rmse": 1.0}}}, "seasonal.by_step: expected list"),
        (
            {"baselines_test": {"persistence": {"rmse": 1.0, "by_step": [1.0, 2.0]}}},
            "baselines_test.persistence.by_step: expected 1 values",
        ),
        (
            {"baselines_test": {"boosting": {"rmse": "x", "by_step": [1]}}},
            "boosting.rmse: expected",
        ),
        (
            {"preprocessing__calendar": ["day", "moon"]},
            "preprocessing.calendar: \\['day', 'moon'\\]",
        ),
        ({"preprocessing__calendar": ["day", "day"]}, "preprocessing.calendar: .* at most once"),
        ({"preprocessing__calendar": ["year"]}, "features do not match"),
    ],
)
def test_malformed_metadata_is_refused_in_one_line(tmp_path, changes, message):
    with pytest.raises(TunerError, match=message) as error:
        read_bundle(_bundle(tmp_path, _with(**changes)))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("text", ["", "[1, 2]", "{", '"text"', "null"])
def test_metadata_that_is_not_an_object_is_refused(tmp_path, text):
    with pytest.raises(TunerError, match="not valid export metadata"):
        read_bundle(_bundle(tmp_path, text))


def test_oversized_metadata_is_refused_before_it_is_parsed(tmp_path):
    bundle = _bundle(tmp_path, META.to_json() + " " * MAX_METADATA_BYTES)
    with pytest.raises(TunerError, match="too large"):
        read_bundle(bundle)


def test_a_model_file_that_points_outside_the_bundle_is_refused(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    _bundle(bundle, META.to_json())
    (bundle / MODEL_FILE).unlink()
    (tmp_path / "elsewhere.keras").write_bytes(b"")
    (bundle / MODEL_FILE).symlink_to(tmp_path / "elsewhere.keras")
    with pytest.raises(TunerError, match="model.keras: a symbolic link; refused"):
        read_bundle(bundle)


def test_a_folder_without_model_or_metadata_is_not_a_bundle(tmp_path):
    with pytest.raises(TunerError, match="not a tuner export"):
        read_bundle(tmp_path)
