"""`training.fit` for real: the model it leaves behind is the one whose val loss was reported."""

import keras
import pytest

from tuner.data.prepared import prepare
from tuner.model.network import VALIDATION_MSE, build_model, fresh_session
from tuner.model.params import ModelParams
from tuner.model.training import VALIDATION_BATCH, fit

pytestmark = pytest.mark.e2e

# A learning rate too fast to settle, so that the best epoch is not simply the last one.
PARAMS = ModelParams(units=8, seq_len=6, learning_rate=0.05, batch_size=256)


@pytest.fixture(scope="module")
def data(beijing_spec):
    return prepare(beijing_spec)


@pytest.mark.parametrize(
    ("ema_momentum", "predict", "loss"),
    [(0.0, "level", "mse"), (0.99, "level", "mse"), (0.99, "change", "huber")],
)
@pytest.mark.parametrize(("epochs", "patience"), [(3, 3), (12, 1)], ids=["all-epochs", "stopped"])
def test_the_model_left_behind_scores_the_best_reported_val_loss(
    data, ema_momentum, predict, loss, epochs, patience
):
    """Whatever the loss, the validation MSE is what is reported, stopped on and kept."""
    train, val = data.windows("train", PARAMS.seq_len), data.windows("val", PARAMS.seq_len)
    fresh_session()
    keras.utils.set_random_seed(0)
    model = build_model(
        PARAMS, data.n_features, ema_momentum=ema_momentum, predict=predict, loss=loss
    )
    history = keras.callbacks.History()
    stopping = keras.callbacks.EarlyStopping(
        monitor=VALIDATION_MSE, mode="min", patience=patience, restore_best_weights=True
    )
    fit(model, train, val, batch_size=256, epochs=epochs, callbacks=[history, stopping])

    reported = history.history[VALIDATION_MSE]
    assert model.optimizer.use_ema == (ema_momentum > 0)
    assert (len(reported) < epochs) == (patience < epochs), "not the path this case is for"
    kept = model.evaluate(
        val.x, val.y, batch_size=min(len(val), VALIDATION_BATCH), verbose=0, return_dict=True
    )
    assert kept["mse"] == pytest.approx(min(reported), rel=1e-5)
    if loss == "mse":
        assert history.history["val_loss"] == pytest.approx(reported, rel=1e-5)
