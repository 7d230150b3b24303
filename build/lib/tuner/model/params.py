"""What one trial trains: the model's hyperparameters and the way it is trained (plain data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelParams:
    """The four searched hyperparameters of the single-LSTM baseline."""

    units: int
    seq_len: int
    learning_rate: float
    batch_size: int


@dataclass(frozen=True)
class TrainingSettings:
    """How every trial of a space trains: its TOML's `[training]` table.

    Args:
        max_epochs: epochs at most per trial.
        patience: epochs without a better validation loss before early stopping; the best
            epoch's weights are kept, and its loss is the trial's value.
        lr_patience: epochs without a better validation loss before the learning rate is
            multiplied by `lr_factor`; 0 keeps the rate constant.
        lr_factor: between 0 and 1.
        ema_momentum: the weights validated and kept are a moving average of the trained
            ones with this momentum; 0 validates the raw weights.
    """

    max_epochs: int
    patience: int
    lr_patience: int = 1
    lr_factor: float = 0.5
    ema_momentum: float = 0.99
