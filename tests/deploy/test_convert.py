"""model.keras -> SavedModel and ONNX in a TensorFlow child, and the ONNX file's check."""

import importlib.util

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tuner.data.prepared import TargetScales
from tuner.deploy import convert
from tuner.deploy.convert import check_installed, onnx_disagreement
from tuner.errors import TunerError


def _model(tmp_path, inputs=("features",)):
    """An ONNX model whose forecast is its first input."""
    graph = helper.make_graph(
        [helper.make_node("Identity", [inputs[0]], ["forecast"])],
        "identity",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, 1]) for name in inputs],
        [helper.make_tensor_value_info("forecast", TensorProto.FLOAT, [None, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(model, tmp_path / "model.onnx")
    return tmp_path / "model.onnx"


def test_onnx_disagreement_is_none_within_tolerance_and_says_what_differs(tmp_path):
    path = _model(tmp_path)
    x = np.array([[10.0], [100.0], [0.0]], dtype=np.float32)
    assert onnx_disagreement(path, x, x.reshape(-1) * (1 + 5e-5), rtol=1e-4, atol=0) is None
    expected = np.array([10.0, 100.5, 0.0])
    said = onnx_disagreement(path, x, expected, rtol=1e-4, atol=1e-3)
    assert said == "1 of 3 forecasts differ, at most 0.5 (window 1)"


def test_an_onnx_model_with_extra_inputs_disagrees(tmp_path):
    path = _model(tmp_path, inputs=("features", "mean"))
    x = np.ones((2, 1), dtype=np.float32)
    assert (
        onnx_disagreement(path, x, x.reshape(-1), rtol=0, atol=0)
        == "2 inputs (features, mean), not 1"
    )


def test_a_missing_converter_is_one_line_naming_it(monkeypatch):
    found = importlib.util.find_spec
    monkeypatch.setattr(
        convert.importlib.util, "find_spec", lambda name: None if name == "tf2onnx" else found(name)
    )
    with pytest.raises(TunerError, match=r"tf2onnx.*pip install tf2onnx") as caught:
        check_installed()
    assert "\n" not in str(caught.value)


@pytest.mark.e2e
def test_a_failed_conversion_is_one_line(tmp_path):
    """The child under TensorFlow fails (here: no model file); the user reads its last line."""
    with pytest.raises(TunerError) as error:
        convert.write_formats(
            tmp_path / "missing.keras", tmp_path / "saved_model", tmp_path / "model.onnx"
        )
    message = str(error.value)
    assert message.startswith("writing saved_model and model.onnx under TensorFlow failed")
    assert "\n" not in message and "missing.keras" in message


def test_every_package_the_formats_need_is_here():
    check_installed()  # tuner's own dependencies: installed with it


@pytest.mark.e2e
def test_the_formats_of_a_model_forecast_as_the_model_does(tmp_path):
    """A JAX-trained model's files, converted under TensorFlow, checked with ONNX Runtime."""
    import keras

    from tuner.model.params import ModelParams, TrainingSettings
    from tuner.model.training import build, fresh_session

    fresh_session()
    keras.utils.set_random_seed(0)
    scales = TargetScales(difference=0.1, changes=(0.2,))  # every layer a change model has
    model = build(
        ModelParams(4, 6, 1e-3, 16), 3, TrainingSettings(max_epochs=1, patience=1), scales=scales
    )
    model.save(tmp_path / "model.keras")
    x = np.random.default_rng(0).normal(size=(50, 6, 3)).astype("float32")
    expected = model.predict(x, verbose=0).reshape(-1)

    convert.write_formats(
        tmp_path / "model.keras", tmp_path / "saved_model", tmp_path / "model.onnx"
    )
    assert (tmp_path / "saved_model" / "saved_model.pb").is_file()
    assert onnx_disagreement(tmp_path / "model.onnx", x, expected, rtol=1e-4, atol=1e-5) is None
    assert "50 of 50 forecasts differ" in onnx_disagreement(
        tmp_path / "model.onnx", x, expected + 1, rtol=1e-4, atol=1e-5
    )


SERVE_SHAPED = """
import json, sys
import numpy as np, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
print(json.dumps(model.serve(np.load(sys.argv[2])).numpy().tolist()))
"""


@pytest.mark.e2e
def test_the_formats_of_a_model_of_every_step_forecast_each_step_as_it_does(tmp_path):
    """A bundle's model of 8 outputs (raw values in, target units out), converted under
    TensorFlow: ONNX and the SavedModel give the same (batch, 8) as model.keras."""
    import json
    import subprocess
    import sys

    import keras

    from tests.conftest import cli_env
    from tests.deploy.test_bundle import PREP
    from tuner.model.network import for_deployment

    keras.utils.set_random_seed(0)
    n_features = len(PREP.features)
    inputs = keras.Input(shape=(6, n_features))
    core = keras.Model(inputs, keras.layers.Dense(8)(keras.layers.LSTM(3)(inputs)))
    model = for_deployment(core, PREP)
    model.save(tmp_path / "model.keras")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6, n_features)).astype("float32")
    x[:, :, 0] = rng.uniform(0, 400, size=x.shape[:2])  # pm2.5 in its own units
    expected = model.predict(x, verbose=0)
    assert expected.shape == (40, 8)

    convert.write_formats(
        tmp_path / "model.keras", tmp_path / "saved_model", tmp_path / "model.onnx"
    )
    tolerance = {"rtol": 1e-4, "atol": 1e-4 * PREP.std["pm2.5"]}
    assert onnx_disagreement(tmp_path / "model.onnx", x, expected, **tolerance) is None
    shifted = expected.copy()
    shifted[3, 5] += 50
    said = onnx_disagreement(tmp_path / "model.onnx", x, shifted, **tolerance)
    assert said == "1 of 320 forecasts differ, at most 50 (window 3, output 5)"
    assert onnx_disagreement(tmp_path / "model.onnx", x, expected[:, :1], **tolerance) == (
        "8 values per window, not 1"
    )
    np.save(tmp_path / "x.npy", x)
    served = subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE_SHAPED,
            str(tmp_path / "saved_model"),
            str(tmp_path / "x.npy"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**cli_env(), "KERAS_BACKEND": "tensorflow"},
    )
    assert served.returncode == 0, served.stderr
    np.testing.assert_allclose(json.loads(served.stdout), expected, rtol=1e-5, atol=1e-3)
