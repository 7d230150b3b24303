"""`build` and `fit`: how a trial, a bank curve and the speed benchmark train the model."""

from __future__ import annotations

import keras

from tuner.data.windows import Windows, whole_batches
from tuner.model.network import build_model
from tuner.model.params import ModelParams, TrainingSettings

# Validation windows per evaluation batch. Keras's default (the training batch size) runs
# hundreds of tiny steps and compiles a second step for the last, partial batch; a year of
# hourly windows fits in one batch of this size.
VALIDATION_BATCH = 16384

# For `build`. A trial has no per-batch callback, yet Keras calls its hooks after every
# batch, which costs more than the arithmetic of a small model's step; grouping steps keeps
# the steps and their order, and Ctrl-C still stops a fit at the end of a group
# (benchmarks/README.md, "Overhead per trial").
STEPS_PER_EXECUTION = 32


def build(params: ModelParams, n_features: int, training: TrainingSettings) -> keras.Model:
    """The model as a trial trains it, and a bank curve too, so that both train alike.

    Batch hooks every `STEPS_PER_EXECUTION` steps; the space's weight averaging, what the
    network predicts and its loss.
    """
    return build_model(
        params,
        n_features,
        steps_per_execution=STEPS_PER_EXECUTION,
        ema_momentum=training.ema_momentum,
        predict=training.predict,
        loss=training.loss,
    )


def fit(
    model: keras.Model,
    train: Windows,
    val: Windows,
    *,
    batch_size: int,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
) -> None:
    """Trains on whole batches and scores all validation windows after every epoch.

    Both are for speed (one compiled step per shape under JAX): the validation loss is the
    same mean whatever its batch size, and what training leaves out is at most
    `batch_size - 1` of the oldest windows.

    When the optimizer keeps a moving average of the weights (`build`, from the space's
    `ema_momentum`), the average is what is validated and what the callbacks see at the
    end of an epoch, so early stopping keeps (and restores) the averaged weights of its
    best epoch: the model left behind is the one whose validation loss was reported.
    """
    if model.optimizer.use_ema:
        # First, so that the callbacks after it find the averaged weights in the model.
        callbacks = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True), *callbacks]
    train = whole_batches(train, batch_size)
    model.fit(
        train.x,
        train.y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(val.x, val.y),
        validation_batch_size=min(len(val), VALIDATION_BATCH),
        callbacks=callbacks,
        verbose=0,
    )
