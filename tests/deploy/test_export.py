"""Export's pure parts: the model card, the kept epoch, the ONNX check and its packages."""

import importlib.util
from dataclasses import replace

import numpy as np
import onnx
import optuna
import pytest
from onnx import TensorProto, helper

from tests.deploy.test_bundle import META
from tuner.deploy import convert
from tuner.deploy.convert import check_installed, onnx_disagreement
from tuner.deploy.export import _kept_epoch, model_card
from tuner.errors import TunerError


def _prose(card: str) -> str:
    return " ".join(card.split())


def test_the_card_names_the_unit_the_horizon_and_the_kept_epoch():
    card = _prose(model_card(META, unit="µg/m³", kept_epoch=6))
    assert "Forecasts `pm2.5` 1 hour ahead, in µg/m³" in card and "(s)" not in card
    assert "for 9 epochs; the weights are those of epoch 6," in card
    assert "| RMSE, in µg/m³ |" in card and "| 20.400 | 22.140 |" in card
    assert "shape `(batch, 24, 8)`" in card and "`pm2.5`, `TEMP`, `cbwd=NE`" in card
    assert "np.zeros((1, 24, 8), dtype=np.float32)" in card


def test_a_target_of_unknown_unit_is_in_its_own_units():
    card = _prose(model_card(replace(META, horizon=6, persistence_val_rmse=None), unit=None))
    assert "Forecasts `pm2.5` 6 hours ahead, in `pm2.5`'s own units" in card
    assert "µg/m³" not in card and "the weights are those of epoch" not in card
    assert "| 23.100 | — |" in card


def test_the_card_says_how_to_load_each_format_and_what_the_checksums_cover():
    card = _prose(model_card(META, unit="µg/m³", kept_epoch=1))
    assert 'keras.saving.load_model("model.keras")' in card
    assert 'tf.saved_model.load("saved_model/1")' in card
    assert '--model_base_path="$PWD/saved_model"' in card
    assert 'session.run(None, {"features": np.zeros((1, 24, 8), dtype=np.float32)})' in card
    assert "`SHA256SUMS` holds the sha256 of every other file" in card
    assert "`model.onnx`, each file under `saved_model/`, `metadata.json` and this README" in card


@pytest.mark.parametrize(
    ("reported", "kept"),
    [
        ({0: 30.0, 1: 25.0, 2: 25.5}, 2),
        ({0: 25.0, 1: 25.0}, 1),  # early stopping keeps the first of equal epochs
        ({0: 24.0}, 1),
        ({}, None),
    ],
)
def test_kept_epoch_is_the_first_lowest_reported(reported, kept):
    trial = optuna.trial.create_trial(value=20.0, intermediate_values=reported)
    assert _kept_epoch(trial) == kept


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
