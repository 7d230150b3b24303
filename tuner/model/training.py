"""The training recipe: the one way every model tuner trains is built, seeded and fitted.

A trial, a curve of a bank, the speed benchmark, the benchmark scripts and the peers of
`tuner bench engines` all train through `train` (or `build` then `fit`, for a peer whose
engine builds the model itself), so that what differs between them is what they choose to
train, never how.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras
import numpy as np

from tuner.data import naive
from tuner.data.prepared import PreparedData, TargetScales
from tuner.data.windows import Windows, whole_batches
from tuner.model.epochs import EpochHook, EpochRecorder, TrainingRecord
from tuner.model.network import VALIDATION_MSE, build_model
from tuner.model.params import ModelParams, TrainingSettings

# Validation windows per evaluation batch. Keras's default (the training batch size) runs
# hundreds of tiny steps and compiles a second step for the last, partial batch; a year of
# hourly windows fits in one batch of this size.
VALIDATION_BATCH = 16384

# A trial has no per-batch callback, yet Keras calls its hooks after every batch, which
# costs more than the arithmetic of a small model's step; grouping steps keeps the steps
# and their order, and Ctrl-C still stops a fit at the end of a group (the measurement log
# at 992a9fa, `git show 992a9fa:benchmarks/README.md`, "Overhead per trial").
STEPS_PER_EXECUTION = 32

TRAINING_MSE = VALIDATION_MSE.removeprefix("val_")


def fresh_session() -> None:
    """Free the previous model's graph, and under JAX its compiled functions too.

    `clear_session` alone leaves JAX's in-memory compilation caches growing with every
    trial; `jax.clear_caches` holds a worker's memory flat (benchmarks/session_memory.py).
    """
    keras.backend.clear_session()
    if keras.backend.backend() == "jax":
        import jax

        jax.clear_caches()


def build(
    params: ModelParams, n_features: int, training: TrainingSettings, *, scales: TargetScales
) -> keras.Model:
    """The network of `params` for a target that moves as `scales` says (one output per
    step), compiled as `training` says, with batch hooks grouped."""
    return build_model(
        params, n_features, training, scales=scales, steps_per_execution=STEPS_PER_EXECUTION
    )


def train(
    params: ModelParams,
    data: PreparedData,
    training: TrainingSettings,
    *,
    seed: int | None,
    on_epoch: EpochHook | None = None,
    early_stopping: bool = True,
    epochs: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    on_model: Callable[[keras.Model], None] | None = None,
    stop_requested: Callable[[], bool] | None = None,
) -> tuple[keras.Model, TrainingRecord]:
    """Build `params`'s model in a fresh session, seeded, and `fit` it.

    To stop a fit from elsewhere (Ctrl-C), `on_model` is handed the model before it trains,
    to set its `stop_training`; since Keras clears that flag as a fit starts, the fit also
    asks `stop_requested` once it has begun.
    """
    fresh_session()
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = build(params, data.n_features, training, scales=data.target_scales)
    if on_model is not None:
        on_model(model)
    record = fit(
        model,
        params,
        data,
        training,
        on_epoch=on_epoch,
        early_stopping=early_stopping,
        epochs=epochs,
        callbacks=callbacks,
        stop_requested=stop_requested,
    )
    return model, record


def fit(
    model: keras.Model,
    params: ModelParams,
    data: PreparedData,
    training: TrainingSettings,
    *,
    on_epoch: EpochHook | None = None,
    early_stopping: bool = True,
    epochs: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    stop_requested: Callable[[], bool] | None = None,
    **fit_options,
) -> TrainingRecord:
    """Train `model` on the training windows of `params.seq_len`, validating every epoch.

    The recipe: whole batches only, all validation windows in one batch (both for speed:
    one compiled step per shape under JAX; the validation loss is the same mean whatever
    its batch size, and training leaves out at most `batch_size - 1` of the oldest
    windows); the moving average of the weights validated and kept when `training` keeps
    one; the rate lowered on a plateau; and with `early_stopping`, stopped after `patience`
    epochs without a better validation MSE, the best epoch's weights restored. Without it,
    every one of `epochs` (default `training.max_epochs`) is trained and the last kept.

    `callbacks` and `fit_options` are for an engine that drives the fit itself (KerasTuner
    passes its own callbacks, epochs and initial epoch): the callbacks run after the
    recipe's record and before its early stopping and schedule; the options go to Keras's
    `fit` beside the recipe's own data, batch size and validation, which they cannot
    replace. `stop_requested` is asked as the fit begins: True stops it there.

    With several steps ahead, the loss and the validation MSE are Keras's means over every
    step of every window, so the recorded RMSE is the one over all steps and origins.
    """
    train_windows = whole_batches(data.windows("train", params.seq_len), params.batch_size)
    val = data.windows("val", params.seq_len)
    record = EpochRecorder(data.target_std, on_epoch, stop_requested)
    steps = [record, *callbacks, *_stopping(training, early_stopping), *_schedule(training)]
    if model.optimizer.use_ema:
        # First, so that the callbacks after it find the averaged weights in the model: the
        # weights validated, stopped on and kept are the average.
        steps = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True), *steps]
    fit_options.setdefault("epochs", training.max_epochs if epochs is None else epochs)
    model.fit(
        train_windows.x,
        train_windows.y,
        batch_size=params.batch_size,
        validation_data=(val.x, val.y),
        validation_batch_size=_validation_batch(val),
        callbacks=steps,
        verbose=0,
        **fit_options,
    )
    return record.result(early_stopping=early_stopping)


def refit(
    params: ModelParams,
    data: PreparedData,
    training: TrainingSettings,
    *,
    learning_rates: Sequence[float],
    seed: int | None,
) -> keras.Model:
    """`params`'s model trained afresh on training and validation together, one epoch per
    rate of `learning_rates` at that rate: a searched trial's run replayed with a year more.

    Nothing is held out, so nothing stops or schedules the fit: the epochs and rates are
    those the trial kept, and the weights kept are the moving average at the last epoch
    when `training` keeps one (Keras writes it into the model as the fit ends).

    Raises:
        FloatingPointError: the training loss, or a weight, was not finite.
    """
    if not learning_rates:
        raise ValueError("a refit needs at least one epoch's learning rate")
    fresh_session()
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = build(params, data.n_features, training, scales=data.target_scales)
    windows = whole_batches(data.windows("train_val", params.seq_len), params.batch_size)
    rates = [float(rate) for rate in learning_rates]
    history = model.fit(
        windows.x,
        windows.y,
        batch_size=params.batch_size,
        epochs=len(rates),
        callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: rates[epoch])],
        verbose=0,
    )
    for name in ("loss", TRAINING_MSE):
        for epoch, value in enumerate(history.history[name]):
            if not math.isfinite(value):
                raise FloatingPointError(f"training {name} {value:.4g} at epoch {epoch + 1}")
    if not all(np.isfinite(weights).all() for weights in model.get_weights()):
        raise FloatingPointError("weights not finite after the last epoch")
    return model


def val_rmse_by_step(model: keras.Model, data: PreparedData, seq_len: int) -> tuple[float, ...]:
    """The validation RMSE of each step ahead, in the target's units, of the weights the
    model holds now: one prediction over the validation windows."""
    val = data.windows("val", seq_len)
    forecast = model.predict(val.x, batch_size=_validation_batch(val), verbose=0)
    by_step = naive.rmse_by_step(np.reshape(forecast, val.y.shape), val.y)
    return tuple(rmse * data.target_std for rmse in by_step)


def _validation_batch(val: Windows) -> int:
    return max(1, min(len(val), VALIDATION_BATCH))


def _stopping(training: TrainingSettings, early_stopping: bool) -> list[keras.callbacks.Callback]:
    if not early_stopping:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor=VALIDATION_MSE,
            mode="min",
            patience=training.patience,
            restore_best_weights=True,
        )
    ]


def _schedule(training: TrainingSettings) -> list[keras.callbacks.Callback]:
    """`lr_factor` times the rate after `lr_patience` epochs without a better loss.

    At a constant rate the validation RMSE of this model keeps wandering once it has learned
    what it can, so a trial's value is partly a lucky epoch; lowering the rate on a plateau
    settles the curve, and most configurations end lower (the measurement log at 992a9fa,
    `git show 992a9fa:benchmarks/README.md`, "The learning-rate schedule"). `lr_patience` 0
    keeps the rate.
    """
    if training.lr_patience == 0:
        return []
    return [
        keras.callbacks.ReduceLROnPlateau(
            monitor=VALIDATION_MSE,
            mode="min",
            factor=training.lr_factor,
            patience=training.lr_patience,
        )
    ]
