"""The single-LSTM network and its deployable wrapper (no training)."""

from dataclasses import replace

import keras
import numpy as np
import pytest

from tuner.data.preprocessing import Preprocessing
from tuner.model.network import VALIDATION_MSE, build_model, ensemble, for_deployment
from tuner.model.params import ModelParams, TrainingSettings

PARAMS = ModelParams(units=5, seq_len=4, learning_rate=0.003, batch_size=16)
N_FEATURES = 3
PREP = Preprocessing(
    target="load",
    numeric=("load", "temp"),
    categories={},
    mean={"load": 50.0, "temp": -3.0},
    std={"load": 20.0, "temp": 4.0},
)


def _settings(**training) -> TrainingSettings:
    return TrainingSettings(max_epochs=1, patience=1, **training)


def _weighted(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers if layer.weights]


def _windows(n: int = 32, features: int = N_FEATURES) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, PARAMS.seq_len, features)).astype("float32")


@pytest.mark.parametrize("predict", ["level", "change"])
def test_one_lstm_then_one_dense_on_windows_of_seq_len_hours(predict):
    keras.backend.clear_session()
    model = build_model(PARAMS, N_FEATURES, _settings(predict=predict), outputs=1)
    assert _weighted(model) == ["LSTM", "Dense"]
    lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    assert lstm.units == PARAMS.units
    assert model.input_shape == (None, PARAMS.seq_len, N_FEATURES)
    assert model.output_shape == (None, 1)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == (
        4 * PARAMS.units * (N_FEATURES + PARAMS.units + 1) + PARAMS.units + 1
    )


@pytest.mark.parametrize(("loss", "ema_momentum", "steps"), [("mse", 0.0, 1), ("huber", 0.99, 8)])
def test_compiled_with_adam_its_loss_and_the_validation_metric(loss, ema_momentum, steps):
    keras.backend.clear_session()
    settings = _settings(loss=loss, ema_momentum=ema_momentum)
    model = build_model(PARAMS, N_FEATURES, settings, steps_per_execution=steps, outputs=1)
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert float(optimizer.learning_rate) == pytest.approx(PARAMS.learning_rate)
    assert optimizer.use_ema == (ema_momentum > 0)
    if ema_momentum:
        assert optimizer.ema_momentum == ema_momentum
    assert isinstance(model.loss, keras.losses.Huber) == (loss == "huber")
    assert model.loss == "mse" or loss == "huber"
    assert model.steps_per_execution == steps
    (metric,) = model.get_compile_config()["metrics"]
    assert metric["class_name"] == "MeanSquaredError"
    assert "val_" + metric["config"]["name"] == VALIDATION_MSE  # what a trial reports


@pytest.mark.e2e
def test_predicting_the_change_adds_the_window_s_last_target_to_the_dense_output():
    """One LSTM and one Dense either way; the change model adds `x[:, -1, 0]`, nothing else."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = build_model(PARAMS, N_FEATURES, _settings(predict="change"), outputs=1)
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    core = keras.Model(model.inputs, dense.output)
    x = _windows()
    got = model.predict(x, verbose=0)
    assert got == pytest.approx(core.predict(x, verbose=0) + x[:, -1, :1], abs=1e-5)


@pytest.mark.e2e
def test_the_deployed_model_takes_raw_values_and_returns_target_units():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    features = len(PREP.features)  # the two numeric columns, then the cyclic time features
    core = build_model(PARAMS, features, _settings(predict="change"), outputs=1)
    deployed = for_deployment(core, PREP)
    assert deployed.name == "forecaster" and deployed.input_shape == core.input_shape
    assert not any(isinstance(layer, keras.layers.Normalization) for layer in deployed.layers)
    scaled = _windows(features=features)
    offset, scale = PREP.feature_offset_scale()
    raw = (scaled * scale + offset).astype("float32")
    assert not np.allclose(raw, scaled)
    expected = core.predict(scaled, verbose=0) * PREP.std["load"] + PREP.mean["load"]
    np.testing.assert_allclose(deployed.predict(raw, verbose=0), expected, rtol=1e-4, atol=1e-3)


def test_an_ensemble_is_the_mean_of_its_members_each_on_its_own_last_hours():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    short = replace(PARAMS, seq_len=2)
    settings = _settings(predict="change")
    members = [
        build_model(PARAMS, N_FEATURES, settings, name="member_0", outputs=1),
        build_model(short, N_FEATURES, settings, name="member_1", outputs=1),
    ]
    model = ensemble(members)
    assert model.input_shape == (None, PARAMS.seq_len, N_FEATURES)
    x = _windows()
    expected = (members[0].predict(x, verbose=0) + members[1].predict(x[:, -2:], verbose=0)) / 2
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    weighted = [type(layer).__name__ for m in members for layer in m.layers if layer.weights]
    assert weighted == ["LSTM", "Dense", "LSTM", "Dense"]  # each still one LSTM, one Dense


def test_an_ensemble_of_one_is_that_model():
    keras.backend.clear_session()
    member = build_model(PARAMS, N_FEATURES, _settings(), outputs=1)
    assert ensemble([member]) is member


@pytest.mark.parametrize(
    ("predict", "layers"),
    [
        ("level", ["InputLayer", "LSTM", "Dense"]),
        (
            "change",
            [
                "InputLayer",
                "Cropping1D",
                "Permute",
                "LSTM",
                "Cropping1D",
                "Dense",
                "Reshape",
                "Add",
            ],
        ),
    ],
)
def test_one_step_ahead_is_the_single_output_network_layer_for_layer(predict, layers):
    """The graph of one step, whatever the horizon: the same layers and weight shapes as
    before a model could forecast several, so single-step results stay identical."""
    keras.backend.clear_session()
    model = build_model(PARAMS, N_FEATURES, _settings(predict=predict), outputs=1)
    assert [type(layer).__name__ for layer in model.layers] == layers
    assert [tuple(w.shape) for w in model.weights] == [(3, 20), (5, 20), (20,), (5, 1), (1,)]


@pytest.mark.parametrize("predict", ["level", "change"])
def test_several_steps_ahead_are_one_dense_of_that_many_outputs(predict):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = build_model(PARAMS, N_FEATURES, _settings(predict=predict), outputs=4)
    assert _weighted(model) == ["LSTM", "Dense"]
    assert model.output_shape == (None, 4)
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    assert tuple(dense.kernel.shape) == (PARAMS.units, 4)
    x = _windows()
    core = keras.Model(model.inputs, dense.output).predict(x, verbose=0)
    last = x[:, -1, :1] if predict == "change" else 0.0  # added to every step
    np.testing.assert_allclose(model.predict(x, verbose=0), core + last, rtol=1e-5, atol=1e-5)


def test_a_deployed_ensemble_of_several_steps_returns_each_in_target_units():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    features = len(PREP.features)
    settings = _settings(predict="change")
    members = [
        build_model(PARAMS, features, settings, outputs=3, name="member_0"),
        build_model(replace(PARAMS, seq_len=2), features, settings, outputs=3, name="member_1"),
    ]
    core = ensemble(members)
    deployed = for_deployment(core, PREP)
    assert core.output_shape == deployed.output_shape == (None, 3)
    scaled = _windows(features=features)
    offset, scale = PREP.feature_offset_scale()
    raw = (scaled * scale + offset).astype("float32")
    expected = core.predict(scaled, verbose=0) * PREP.std["load"] + PREP.mean["load"]
    np.testing.assert_allclose(deployed.predict(raw, verbose=0), expected, rtol=1e-4, atol=1e-3)


def test_a_model_has_at_least_one_output():
    with pytest.raises(ValueError, match="outputs=0"):
        build_model(PARAMS, N_FEATURES, _settings(), outputs=0)
