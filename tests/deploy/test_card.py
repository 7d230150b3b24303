"""The model card: what it says of the model, its scores and how to load each format."""

from dataclasses import replace

from tests.deploy.test_bundle import META
from tuner.deploy.card import model_card
from tuner.deploy.metadata import StepScores


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
    assert "| 23.100 | — | — |" in card  # nor a gradient-boosting baseline: META has none


def test_the_card_puts_the_gradient_boosting_baseline_beside_persistence():
    card = _prose(
        model_card(replace(META, boosting_val_rmse=22.5, boosting_test_rmse=20.1), unit=None)
    )
    assert "| persistence RMSE | gradient-boosting RMSE |" in card
    assert "| 24.860 | 22.500 |" in card and "| 22.140 | 20.100 |" in card


def test_the_card_says_how_to_load_each_format_and_what_the_checksums_cover():
    card = _prose(model_card(META, unit="µg/m³", kept_epoch=1))
    assert 'keras.saving.load_model("model.keras")' in card
    assert 'tf.saved_model.load("saved_model/1")' in card
    assert '--model_base_path="$PWD/saved_model"' in card
    assert 'session.run(None, {"features": np.zeros((1, 24, 8), dtype=np.float32)})' in card
    assert "`SHA256SUMS` holds the sha256 of every other file" in card
    assert "`model.onnx`, each file under `saved_model/`, `metadata.json` and this README" in card


def test_an_ensemble_s_card_lists_its_members_and_how_they_were_chosen():
    from tests.deploy.test_bundle import ENSEMBLE

    card = model_card(ENSEMBLE, unit="µg/m³")
    prose = _prose(card)
    assert card.startswith(f"# beijing-lstm_baseline: {ENSEMBLE.describe()}\n")
    assert f"The model is {ENSEMBLE.model_words()}: the 2 best distinct configurations" in prose
    assert "(trials 41, 7, best first), each one LSTM and one Dense(1)" in prose
    assert "`tuner export --single`" in prose
    assert "| 41 | 32 | 24 | 0.003 | 64 | 9 |" in card and "| 7 | 16 | 12 | 0.01 | 32 | 5 |" in card
    assert "| validation (from 2013-01-01) | — (trained on it) |" in card


def test_a_card_of_one_refitted_member_says_so():
    from tests.deploy.test_bundle import ENSEMBLE

    one = replace(ENSEMBLE, members=ENSEMBLE.members[:1])
    card = model_card(one, unit="µg/m³")
    assert card.startswith(
        "# beijing-lstm_baseline: trial 41's configuration, refitted, forecasting 1 hour ahead\n"
    )
    assert "the mean of 1" not in card
    assert (
        "The model is trial 41's configuration, refitted: the search's best configuration "
        "(trial 41), one LSTM and one Dense(1)" in _prose(card)
    )


def test_the_card_names_the_model_as_every_command_does():
    """Its title is `BundleMetadata.describe`, the one wording of what a bundle holds."""
    assert model_card(META, unit=None).startswith(
        "# beijing-lstm_baseline: trial 41's own model, forecasting 1 hour ahead\n"
    )


def test_a_card_of_every_step_says_the_output_s_columns_and_scores_each_step():
    from tests.deploy.test_bundle import EVERY_QUARTER_HOUR

    card = model_card(EVERY_QUARTER_HOUR, unit="kW")
    prose = _prose(card)
    assert "Forecasts `pm2.5` every step from 15 minutes to 2 hours ahead, in kW" in prose
    assert "from the raw values of the previous 6 hours" in prose and "Dense(8)" in prose
    assert (
        "shape `(batch, 8)`, in kW: column j (from 0) is `pm2.5` j + 1 steps of 15 minutes" in prose
    )
    assert "from column 0, 15 minutes ahead, to column 7, 2 hours ahead" in prose
    assert "| ahead | model | persistence | seasonal naive | gradient boosting |" in card
    assert "| 15 minutes | 10.000 | 12.000 | 30.000 | 11.000 |" in card
    assert "| 2 hours | 17.000 | 19.000 | 30.000 | 18.000 |" in card
    assert card.count(" | 30.000 | 1") == 8  # a short horizon's every step
    assert "| seasonal naive RMSE |" in card and "| 22.140 | — | 30.000 |" in card
    assert "one cycle (1 day) earlier" in prose


def test_a_long_horizon_s_card_shows_its_first_middle_and_last_steps():
    from tests.deploy.test_bundle import EVERY_QUARTER_HOUR

    by_step = tuple(float(i) for i in range(48))
    long = replace(
        EVERY_QUARTER_HOUR,
        freq="h",
        horizon=48,
        test_rmse_by_step=by_step,
        baselines_test={"persistence": StepScores(1.0, by_step)},
    )
    rows = [line for line in model_card(long).splitlines() if line.endswith(" |")]
    step_rows = [row for row in rows if row.startswith("| ") and " hour" in row.split("|")[1]]
    assert step_rows == [
        "| 1 hour | 0.000 | 0.000 |",
        "| 24 hours | 23.000 | 23.000 |",
        "| 48 hours | 47.000 | 47.000 |",
    ]
