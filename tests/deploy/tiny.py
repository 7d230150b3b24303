"""Tiny real bundles: a series on any step, a Keras model of any number of outputs built
as `network.for_deployment` builds a bundle's, sealed as export seals it."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import load_spec
from tests.deploy.test_bundle import META
from tuner.data.prepared import PreparedData, prepare
from tuner.deploy.bundle import METADATA_FILE, MODEL_FILE
from tuner.deploy.manifest import write_manifest
from tuner.deploy.metadata import BundleMetadata
from tuner.model.params import ModelParams


def series(periods: int, freq: str, *, seed: int = 0) -> pd.DataFrame:
    """`load` with a daily cycle and a noisy input, `push`, and a text column, `wind`."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2021-01-01", periods=periods, freq=freq)
    hours = np.asarray((times - times[0]) / pd.Timedelta(hours=1))
    push = rng.normal(0, 1, periods)
    load = 50 + 10 * np.sin(2 * np.pi * hours / 24) + 3 * push + rng.normal(0, 1, periods)
    return pd.DataFrame(
        {
            "ts": times.strftime("%Y-%m-%d %H:%M"),
            "load": load,
            "push": push,
            "wind": rng.choice(["N", "S"], periods),
        }
    )


def prepared(folder: Path, frame: pd.DataFrame, **spec) -> PreparedData:
    """`frame` written and prepared with its test rows, as export prepares a study's data."""
    return prepare(load_spec(folder / "series.csv", frame, **spec), with_test=True)


def model(data: PreparedData, seq_len: int, *, seed: int = 0):
    """Raw windows in, one forecast per step in target units out: LSTM(2), Dense(steps)."""
    import keras

    from tuner.model.network import for_deployment

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(seq_len, data.n_features))
    outputs = keras.layers.Dense(len(data.steps))(keras.layers.LSTM(2)(inputs))
    return for_deployment(keras.Model(inputs, outputs), data.prep)


def metadata(data: PreparedData, seq_len: int, freq: str) -> BundleMetadata:
    """META for `data`: its columns, scaling, step and steps."""
    return replace(
        META,
        target=data.spec.target,
        horizon=data.spec.horizon,
        every_step=len(data.steps) > 1,
        freq=freq,
        seq_len=seq_len,
        time_col=data.spec.time_col,
        features=data.prep.features,
        preprocessing=data.prep,
        hyperparameters=ModelParams(units=2, seq_len=seq_len, learning_rate=0.01, batch_size=8),
        dataset={"name": "series", "file": "series.csv", "sha256": data.spec.sha256},
    )


def bundle(folder: Path, keras_model, meta: BundleMetadata) -> Path:
    """A folder `tuner predict` reads: the model, its metadata, sealed."""
    folder.mkdir(parents=True, exist_ok=True)
    keras_model.save(folder / MODEL_FILE)
    (folder / METADATA_FILE).write_text(meta.to_json())
    write_manifest(folder)
    return folder
