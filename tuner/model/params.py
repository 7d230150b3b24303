"""What one trial trains: the model's hyperparameters and the way it is trained (plain data)."""

from __future__ import annotations

from dataclasses import dataclass

# The largest values a space may search and a bundle may hold, the same for both so that
# whatever a search finds can be exported and read back.
MAX_UNITS = 1 << 16
MAX_SEQ_LEN = 24 * 366  # a year of hourly history per window
MAX_BATCH_SIZE = 1 << 24
LIMITS = {"units": MAX_UNITS, "seq_len": MAX_SEQ_LEN, "batch_size": MAX_BATCH_SIZE}


@dataclass(frozen=True)
class ModelParams:
    """The four searched hyperparameters of the single-LSTM baseline."""

    units: int
    seq_len: int
    learning_rate: float
    batch_size: int


# What the network's Dense outputs predict: the target itself, or its change from the last
# step of the window (which the model adds back itself, so it still returns the target;
# `network.build_model` says what else predicting the change brings).
PREDICTS = ("change", "level")
LOSSES = ("huber", "mse")  # on the standardised target; Huber's delta is one spread


@dataclass(frozen=True)
class TrainingSettings:
    """How every trial of a space trains: its TOML's `[training]` table.

    Args:
        max_epochs: epochs at most per trial.
        patience: epochs without a better validation RMSE before early stopping; the best
            epoch's weights are kept, and its RMSE is the trial's value.
        lr_patience: epochs without a better validation RMSE before the learning rate is
            multiplied by `lr_factor`; 0 keeps the rate constant.
        lr_factor: between 0 and 1.
        ema_momentum: the weights validated and kept are a moving average of the trained
            ones with this momentum; 0 validates the raw weights.
        predict: one of `PREDICTS`. The next hour is mostly this hour, so predicting the
            change leaves the LSTM what persistence misses.
        loss: one of `LOSSES`, what training minimises. Huber weighs the rare huge errors
            of a heavy-tailed target less; whatever the loss, trials are scored and
            stopped on the validation RMSE.
    """

    max_epochs: int
    patience: int
    lr_patience: int = 1
    lr_factor: float = 0.5
    ema_momentum: float = 0.99
    predict: str = "change"
    loss: str = "huber"
