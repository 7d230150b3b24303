"""`ModelParams` -> the single-LSTM baseline, and its deployable wrapper.

Exactly one LSTM(units) then one Dense of an output per step ahead (Dense(1) for a single
step). Predicting the change, the LSTM also reads the target's change from row to row, and
each output is read in units of its step's change and added to the window's last value of
the target: all of it done by layers without weights, from the window itself, so that the
model takes the same inputs whatever it predicts. Written in `keras.*` alone so that the
backend stays a setting.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tuner.data.prepared import TargetScales
from tuner.data.preprocessing import Preprocessing
from tuner.model.params import ModelParams, TrainingSettings

# The log key of the validation MSE on the standardised target, whatever the loss: what a
# trial reports (as RMSE in the target's units), stops on and lowers its rate on.
VALIDATION_MSE = "val_mse"


def build_model(
    params: ModelParams,
    n_features: int,
    training: TrainingSettings,
    *,
    scales: TargetScales,
    steps_per_execution: int = 1,
    name: str | None = None,
    compiled: bool = True,
) -> keras.Model:
    """Compiled LSTM + Dense on scaled inputs (the target is feature 0), Adam.

    `scales`: the training part's `TargetScales` (`PreparedData.target_scales`), one
    output per step they measure, so that one model returns (batch, steps). A network that
    predicts the change reads the target's change from row to row in units of its spread
    and writes each step's change in units of that step's: on a smooth series a move is a
    small fraction of the level, lost among level-scaled inputs and small beside the first
    steps of an output on the level's scale.

    From `training`: what the network predicts, its loss, and the moving average of the
    weights that Adam keeps when `ema_momentum` > 0 (`use_ema`), which `training.fit`
    validates and keeps in place of the raw weights. The model always returns the
    standardised target and reports its MSE as `VALIDATION_MSE`. `steps_per_execution` is
    Keras's: batches between two calls of the batch callbacks; `name`
    tells members of an ensemble apart, which are not `compiled` (a model that will not
    train again carries no optimizer into its file).
    """
    predict, loss, ema_momentum = training.predict, training.loss, training.ema_momentum
    outputs = len(scales.changes)
    if outputs < 1:
        raise ValueError(f"a model needs at least one output, got {outputs=}")
    inputs = keras.Input(shape=(params.seq_len, n_features))
    read = inputs
    if predict == "change" and params.seq_len > 1:
        moves = _target_differences(inputs, n_features)
        moves = keras.layers.Rescaling(1 / scales.difference)(moves)
        read = keras.layers.Concatenate()([inputs, moves])
    output = keras.layers.Dense(outputs)(keras.layers.LSTM(params.units)(read))
    if predict == "change":
        output = keras.layers.Rescaling(list(scales.changes))(output)
        # (batch, outputs) + (batch, 1): Add broadcasts the last value to every step.
        output = keras.layers.Add()([output, _last_target(inputs, params.seq_len, n_features)])
    model = keras.Model(inputs, output, name=name or "lstm_baseline")
    if not compiled:
        return model
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=params.learning_rate,
            use_ema=ema_momentum > 0,
            ema_momentum=ema_momentum,
        ),
        loss=keras.losses.Huber(delta=1.0) if loss == "huber" else "mse",
        metrics=[keras.metrics.MeanSquaredError(name="mse")],
        steps_per_execution=steps_per_execution,
    )
    return model


def _target_differences(inputs: keras.KerasTensor, n_features: int) -> keras.KerasTensor:
    """(batch, seq_len, 1): the target's change from the row before, 0 at the first row."""
    target = keras.layers.Permute((2, 1))(
        keras.layers.Cropping1D((0, n_features - 1))(keras.layers.Permute((2, 1))(inputs))
    )  # (batch, seq_len, 1)
    later = keras.layers.Cropping1D((1, 0))(target)
    earlier = keras.layers.Cropping1D((0, 1))(target)
    return keras.layers.ZeroPadding1D((1, 0))(keras.layers.Subtract()([later, earlier]))


def _last_target(inputs: keras.KerasTensor, seq_len: int, n_features: int) -> keras.KerasTensor:
    """`inputs[:, -1, 0:1]` in layers that every exporter and Keras's safe mode accept."""
    last_hour = keras.layers.Cropping1D((seq_len - 1, 0))(inputs)  # (batch, 1, features)
    by_feature = keras.layers.Permute((2, 1))(last_hour)  # (batch, features, 1)
    target = keras.layers.Cropping1D((0, n_features - 1))(by_feature)  # (batch, 1, 1)
    return keras.layers.Reshape((1,))(target)


def ensemble(members: Sequence[keras.Model]) -> keras.Model:
    """One model whose forecast is the mean of `members`' forecasts; one member is itself.

    The input is the longest of the members' windows and each member reads its own last
    hours of it, so the ensemble takes windows as any single member does and every format
    a bundle holds serves it unchanged. Members must have distinct names.
    """
    if len(members) == 1:
        return members[0]
    n_features = members[0].input_shape[-1]
    longest = max(member.input_shape[1] for member in members)
    inputs = keras.Input(shape=(longest, n_features))
    forecasts = []
    for member in members:
        crop = longest - member.input_shape[1]
        window = keras.layers.Cropping1D((crop, 0))(inputs) if crop else inputs
        forecasts.append(member(window))
    return keras.Model(inputs, keras.layers.Average()(forecasts), name="lstm_ensemble")


def for_deployment(core: keras.Model, prep: Preprocessing) -> keras.Model:
    """Raw feature values in, target units out, so that a bundle needs no preprocessing code.

    The training statistics become a `Rescaling` layer on each side, so the exported model
    carries them and needs no Python to serve. In front it is `Rescaling`, not
    `Normalization`: Normalization holds its statistics as tensors outside the traced
    function, which the ONNX converter turns into extra inputs instead of constants.
    """
    offset, scale = prep.feature_offset_scale()
    inputs = keras.Input(shape=core.input_shape[1:], name="features")
    scaled = keras.layers.Rescaling(
        scale=(1 / scale).tolist(), offset=(-offset / scale).tolist(), name="scale_inputs"
    )(inputs)
    target = prep.target
    outputs = keras.layers.Rescaling(
        scale=prep.std[target], offset=prep.mean[target], name="to_target_units"
    )(core(scaled))
    return keras.Model(inputs, outputs, name="forecaster")
