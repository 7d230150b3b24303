"""Export's pure parts: the model card and the kept epoch (the formats: test_convert)."""

from dataclasses import replace

import optuna
import pytest

from tests.deploy.test_bundle import META
from tuner.deploy.export import _kept_epoch, model_card


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
