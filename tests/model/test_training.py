"""The training recipe for real: what it records is what the model it leaves behind scores."""

import math
from dataclasses import replace

import keras
import numpy as np
import pytest

from tuner.data import naive
from tuner.data.prepared import TargetScales, prepare
from tuner.model.network import VALIDATION_MSE
from tuner.model.params import ModelParams, TrainingSettings
from tuner.model.training import (
    VALIDATION_BATCH,
    _schedule,
    build,
    fit,
    fresh_session,
    refit,
    train,
    val_rmse_by_step,
)

pytestmark = pytest.mark.e2e

# A learning rate too fast to settle, so that the best epoch is not simply the last one.
PARAMS = ModelParams(units=8, seq_len=6, learning_rate=0.05, batch_size=256)
SMALL = ModelParams(units=5, seq_len=4, learning_rate=0.003, batch_size=16)
ONE_STEP = TargetScales(difference=1.0, changes=(1.0,))


@pytest.fixture(scope="module")
def data(beijing_spec):
    return prepare(beijing_spec)


def _scored(model: keras.Model, data) -> float:
    """The kept model's validation RMSE in target units, evaluated afresh."""
    val = data.windows("val", PARAMS.seq_len)
    logs = model.evaluate(
        val.x, val.y, batch_size=min(len(val), VALIDATION_BATCH), verbose=0, return_dict=True
    )
    return math.sqrt(logs["mse"]) * data.target_std


@pytest.mark.parametrize(
    ("ema_momentum", "predict", "loss"),
    [(0.0, "level", "mse"), (0.99, "level", "mse"), (0.99, "change", "huber")],
)
@pytest.mark.parametrize(("epochs", "patience"), [(3, 3), (12, 1)], ids=["all-epochs", "stopped"])
def test_the_model_left_behind_scores_the_kept_epoch_s_recorded_value(
    data, ema_momentum, predict, loss, epochs, patience
):
    """Whatever the loss, the validation MSE is what is recorded, stopped on and kept."""
    training = TrainingSettings(
        max_epochs=epochs,
        patience=patience,
        lr_patience=0,  # a constant rate keeps a fast rate unsettled
        ema_momentum=ema_momentum,
        predict=predict,
        loss=loss,
    )
    model, record = train(PARAMS, data, training, seed=0)

    assert model.optimizer.use_ema == (ema_momentum > 0)
    assert (record.epochs < epochs) == (patience < epochs), "not the path this case is for"
    assert record.val_rmse[record.kept_epoch - 1] == record.best
    assert _scored(model, data) == pytest.approx(record.best, rel=1e-4)
    assert len(record.learning_rate) == len(record.seconds) == record.epochs


def test_without_early_stopping_every_epoch_trains_and_the_last_is_kept(data):
    training = TrainingSettings(max_epochs=30, patience=1, lr_patience=0, ema_momentum=0)
    model, record = train(PARAMS, data, training, seed=0, early_stopping=False, epochs=4)
    assert record.epochs == 4 and record.kept_epoch == 4
    assert _scored(model, data) == pytest.approx(record.val_rmse[-1], rel=1e-4)


def test_the_rate_of_every_epoch_is_recorded_as_the_schedule_sets_it(data):
    """Each epoch's rate is the one it trained at: halved after each epoch without progress."""
    training = TrainingSettings(max_epochs=10, patience=10, lr_patience=1, ema_momentum=0)
    _, record = train(PARAMS, data, training, seed=0)
    assert record.learning_rate[0] == pytest.approx(PARAMS.learning_rate)
    best, rate = math.inf, PARAMS.learning_rate
    for value, recorded in zip(record.val_rmse, record.learning_rate, strict=True):
        assert recorded == pytest.approx(rate, rel=1e-5)
        mse = (value / data.target_std) ** 2
        if mse < best - 1e-4:  # ReduceLROnPlateau's default min_delta
            best = mse
        else:
            rate *= training.lr_factor
    assert rate < PARAMS.learning_rate, "no epoch without progress: nothing shown"


def test_the_same_seed_trains_the_same_curve_and_another_seed_another(data):
    training = TrainingSettings(max_epochs=2, patience=2)
    curves = [train(PARAMS, data, training, seed=seed)[1].val_rmse for seed in (3, 3, 4)]
    assert curves[0] == pytest.approx(curves[1], rel=1e-6)
    assert curves[0] != pytest.approx(curves[2], rel=1e-6)


def test_the_epoch_hook_sees_each_value_and_can_stop_the_fit(data):
    seen = []

    def hook(epoch: int, rmse: float) -> bool:
        seen.append((epoch, rmse))
        return epoch == 1

    _, record = train(
        PARAMS, data, TrainingSettings(max_epochs=5, patience=5), seed=0, on_epoch=hook
    )
    assert [e for e, _ in seen] == [0, 1] and record.epochs == 2
    assert [v for _, v in seen] == list(record.val_rmse)


def test_a_stop_requested_before_the_fit_began_ends_it_in_its_first_epoch(data):
    """Keras clears `stop_training` as a fit starts: a request made before is asked again."""
    training = TrainingSettings(max_epochs=5, patience=5)
    _, record = train(PARAMS, data, training, seed=0, stop_requested=lambda: True)
    assert record.epochs == 1


def test_a_non_finite_loss_ends_the_fit_as_diverged(data):
    exploding = replace(PARAMS, learning_rate=1e30)
    _, record = train(exploding, data, TrainingSettings(max_epochs=3, patience=3), seed=0)
    assert record.diverged is not None and "epoch 1" in record.diverged
    assert record.val_rmse == (None,) and record.kept_epoch is None
    assert record.best == math.inf


def test_a_model_built_elsewhere_trains_by_the_same_recipe(data):
    """`build` then `fit` (how KerasTuner drives it) is `train` without the session and seed."""
    training = TrainingSettings(max_epochs=2, patience=2)
    _, expected = train(PARAMS, data, training, seed=5)
    keras.backend.clear_session()
    keras.utils.set_random_seed(5)
    model = build(PARAMS, data.n_features, training, scales=data.target_scales)
    got = fit(model, PARAMS, data, training)
    assert got.val_rmse == pytest.approx(expected.val_rmse, rel=1e-6)


def test_a_fresh_session_starts_the_layer_names_again():
    fresh_session()
    build(SMALL, 3, TrainingSettings(max_epochs=1, patience=1), scales=ONE_STEP)
    again = build(SMALL, 3, TrainingSettings(max_epochs=1, patience=1), scales=ONE_STEP)
    assert "lstm" not in [layer.name for layer in again.layers]  # lstm_1: the session went on
    fresh_session()
    assert "lstm" in [
        layer.name
        for layer in build(
            SMALL, 3, TrainingSettings(max_epochs=1, patience=1), scales=ONE_STEP
        ).layers
    ]


def test_the_rate_falls_on_a_plateau_of_the_validation_mse_unless_turned_off():
    assert _schedule(TrainingSettings(max_epochs=9, patience=3, lr_patience=0)) == []
    (schedule,) = _schedule(
        TrainingSettings(max_epochs=9, patience=3, lr_patience=2, lr_factor=0.25)
    )
    assert isinstance(schedule, keras.callbacks.ReduceLROnPlateau)
    assert (schedule.monitor, schedule.patience, schedule.factor) == (VALIDATION_MSE, 2, 0.25)
    assert schedule.mode == "min"


def test_a_refit_trains_on_training_and_validation_at_the_rates_given(data):
    """One epoch per rate, nothing held out: the rate the last epoch trained at is the last
    one given, and the windows are those of both parts."""
    training = TrainingSettings(max_epochs=30, patience=1, lr_patience=1, ema_momentum=0.99)
    rates = [0.01, 0.005, 0.0025]
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    both = len(data.windows("train", SMALL.seq_len)) + len(data.windows("val", SMALL.seq_len))
    assert len(data.windows("train_val", SMALL.seq_len)) == both
    fit_calls = []
    original = keras.Model.fit

    def spying_fit(self, x, y, **options):
        fit_calls.append(len(x))
        options["callbacks"] = [*options["callbacks"], Spy()]
        return original(self, x, y, **options)

    keras.Model.fit = spying_fit
    try:
        model = refit(SMALL, data, training, learning_rates=rates, seed=0)
    finally:
        keras.Model.fit = original
    assert seen == pytest.approx(rates)
    assert fit_calls == [both - both % SMALL.batch_size]  # whole batches of both parts
    assert _weights_finite(model)


def test_a_refit_is_seeded(data):
    training = TrainingSettings(max_epochs=30, patience=1)
    x = data.windows("val", SMALL.seq_len).x[:64]
    first, again, other = (
        refit(SMALL, data, training, learning_rates=[0.003], seed=seed).predict(x, verbose=0)
        for seed in (0, 0, 1)
    )
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_a_refit_that_diverges_says_so(data):
    training = TrainingSettings(max_epochs=30, patience=1)
    with pytest.raises(FloatingPointError, match="training mse inf at epoch 1"):
        refit(PARAMS, data, training, learning_rates=[1e30, 1e30], seed=0)


def _weights_finite(model: keras.Model) -> bool:
    return all(np.isfinite(w).all() for w in model.get_weights())


@pytest.fixture(scope="module")
def steps_data(beijing_spec):
    """Every hour up to 4 ahead, from one model."""
    return prepare(replace(beijing_spec, horizon=4, every_step=True))


def test_a_model_of_several_steps_is_scored_over_every_step_and_origin(steps_data):
    """The recorded value is the RMSE over all steps and origins of the kept model's
    forecasts, in target units, computed here by hand; each step's is recorded apart."""
    training = TrainingSettings(max_epochs=2, patience=2, lr_patience=0)
    model, record = train(PARAMS, steps_data, training, seed=0)
    assert model.output_shape == (None, 4)
    val = steps_data.windows("val", PARAMS.seq_len)
    forecast = steps_data.to_target_units(model.predict(val.x, verbose=0))
    observed = steps_data.observed(val.origins)
    assert forecast.shape == observed.shape == (len(val), 4)
    squared = [
        (f - o) ** 2
        for row_f, row_o in zip(forecast, observed, strict=True)
        for f, o in zip(row_f, row_o, strict=True)
    ]
    assert math.sqrt(sum(squared) / len(squared)) == pytest.approx(record.best, rel=1e-4)
    by_step = val_rmse_by_step(model, steps_data, PARAMS.seq_len)
    assert by_step == pytest.approx(naive.rmse_by_step(forecast, observed), rel=1e-5)
    assert math.sqrt(np.mean(np.square(by_step))) == pytest.approx(record.best, rel=1e-4)
    assert by_step[0] < by_step[-1]  # an hour ahead is easier than four


def test_a_refit_of_several_steps_forecasts_each(steps_data):
    training = TrainingSettings(max_epochs=1, patience=1)
    model = refit(SMALL, steps_data, training, learning_rates=[0.003], seed=0)
    assert model.output_shape == (None, 4)
