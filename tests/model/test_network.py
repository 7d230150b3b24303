"""The single-LSTM network and its deployable wrapper (no training)."""

from dataclasses import replace

import keras
import numpy as np
import pytest

from tuner.data.prepared import TargetScales
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


def _scales(steps: int = 1) -> TargetScales:
    """Units of 1: the change model's weightless layers leave values as they are."""
    return TargetScales(difference=1.0, changes=(1.0,) * steps)


def _settings(**training) -> TrainingSettings:
    return TrainingSettings(max_epochs=1, patience=1, **training)


def _weighted(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers if layer.weights]


def _windows(n: int = 32, features: int = N_FEATURES) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, PARAMS.seq_len, features)).astype("float32")


@pytest.mark.parametrize("predict", ["level", "change"])
def test_one_lstm_then_one_dense_on_windows_of_seq_len_hours(predict):
    keras.backend.clear_session()
    model = build_model(PARAMS, N_FEATURES, _settings(predict=predict), scales=_scales())
    assert _weighted(model) == ["LSTM", "Dense"]
    lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    assert lstm.units == PARAMS.units
    assert model.input_shape == (None, PARAMS.seq_len, N_FEATURES)
    assert model.output_shape == (None, 1)
    read = N_FEATURES + (predict == "change")  # and the target's change from row to row
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == (
        4 * PARAMS.units * (read + PARAMS.units + 1) + PARAMS.units + 1
    )


@pytest.mark.parametrize(("loss", "ema_momentum", "steps"), [("mse", 0.0, 1), ("huber", 0.99, 8)])
def test_compiled_with_adam_its_loss_and_the_validation_metric(loss, ema_momentum, steps):
    keras.backend.clear_session()
    settings = _settings(loss=loss, ema_momentum=ema_momentum)
    model = build_model(PARAMS, N_FEATURES, settings, steps_per_execution=steps, scales=_scales())
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
def test_predicting_the_change_reads_and_writes_it_in_its_own_units():
    """The LSTM reads the inputs and the target's change from the row before over its
    spread; the Dense output, times each step's spread of change, is added to
    `x[:, -1, 0]`; nothing else."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    scales = TargetScales(difference=0.5, changes=(0.25, 2.0))
    model = build_model(PARAMS, N_FEATURES, _settings(predict="change"), scales=scales)
    lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    x = _windows()
    differences = np.diff(x[:, :, :1], axis=1, prepend=x[:, :1, :1])  # 0 at the first row
    read = keras.Model(model.inputs, lstm.input).predict(x, verbose=0)
    np.testing.assert_allclose(read, np.concatenate([x, differences / 0.5], axis=2), atol=1e-6)
    core = keras.Model(model.inputs, dense.output).predict(x, verbose=0)
    expected = core * np.array([0.25, 2.0]) + x[:, -1, :1]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_a_change_model_of_one_row_reads_no_change():
    keras.backend.clear_session()
    one_row = replace(PARAMS, seq_len=1)
    model = build_model(one_row, N_FEATURES, _settings(predict="change"), scales=_scales())
    lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    assert lstm.input.shape == (None, 1, N_FEATURES)


@pytest.mark.e2e
def test_the_deployed_model_takes_raw_values_and_returns_target_units():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    features = len(PREP.features)  # the two numeric columns, then the cyclic time features
    core = build_model(PARAMS, features, _settings(predict="change"), scales=_scales())
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
        build_model(PARAMS, N_FEATURES, settings, name="member_0", scales=_scales()),
        build_model(short, N_FEATURES, settings, name="member_1", scales=_scales()),
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
    member = build_model(PARAMS, N_FEATURES, _settings(), scales=_scales())
    assert ensemble([member]) is member


def test_one_step_of_the_level_is_the_single_output_network_layer_for_layer():
    """The graph of one step of the level, whatever the horizon: the same layers and weight
    shapes as before a model could forecast several."""
    keras.backend.clear_session()
    model = build_model(PARAMS, N_FEATURES, _settings(predict="level"), scales=_scales())
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "LSTM", "Dense"]
    assert [tuple(w.shape) for w in model.weights] == [(3, 20), (5, 20), (20,), (5, 1), (1,)]


@pytest.mark.parametrize("predict", ["level", "change"])
def test_several_steps_ahead_are_one_dense_of_that_many_outputs(predict):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = build_model(PARAMS, N_FEATURES, _settings(predict=predict), scales=_scales(4))
    assert _weighted(model) == ["LSTM", "Dense"]
    assert model.output_shape == (None, 4)
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    assert tuple(dense.kernel.shape) == (PARAMS.units, 4)
    x = _windows()
    core = keras.Model(model.inputs, dense.output).predict(x, verbose=0)
    last = x[:, -1, :1] if predict == "change" else 0.0  # added to every step (units of 1)
    np.testing.assert_allclose(model.predict(x, verbose=0), core + last, rtol=1e-5, atol=1e-5)


def test_a_deployed_ensemble_of_several_steps_returns_each_in_target_units():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    features = len(PREP.features)
    settings = _settings(predict="change")
    members = [
        build_model(PARAMS, features, settings, scales=_scales(3), name="member_0"),
        build_model(
            replace(PARAMS, seq_len=2), features, settings, scales=_scales(3), name="member_1"
        ),
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
        build_model(PARAMS, N_FEATURES, _settings(), scales=_scales(0))
