"""What one fit did, epoch by epoch, as the training recipe (`training`) records it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras

from tuner.model.network import VALIDATION_MSE

# Called after each epoch with (epoch from 0, validation RMSE in target units); True stops
# the fit there (a pruned trial).
EpochHook = Callable[[int, float], bool]


@dataclass(frozen=True)
class TrainingRecord:
    """What one fit did, epoch by epoch.

    `val_rmse` is in the target's units, None from the epoch whose loss was not finite (the
    fit stops there); `learning_rate` is the rate each epoch trained at; `kept_epoch` (from
    1) is the epoch whose weights the model holds at the end, None when no epoch gave a
    finite value.
    """

    val_rmse: tuple[float | None, ...]
    learning_rate: tuple[float, ...]
    seconds: tuple[float, ...]
    kept_epoch: int | None
    diverged: str | None = None  # what was not finite, and when

    @property
    def epochs(self) -> int:
        return len(self.val_rmse)

    @property
    def best(self) -> float:
        """The lowest validation RMSE (inf when none was finite)."""
        return min((v for v in self.val_rmse if v is not None), default=math.inf)


class EpochRecorder(keras.callbacks.Callback):
    """Val RMSE in target units, rate and seconds per epoch; a non-finite loss ends the fit.

    The RMSE comes from Keras's own validation MSE on the scaled target, so no extra pass
    over the data is made. Non-finite loss is checked once per epoch, not per batch, to
    keep the training loop free of host synchronisation.
    """

    def __init__(
        self,
        target_std: float,
        on_epoch: EpochHook | None,
        stop_requested: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self._std, self._on_epoch, self._stop_requested = target_std, on_epoch, stop_requested
        self.values: list[float | None] = []
        self.rates: list[float] = []
        self.seconds: list[float] = []
        self.diverged: str | None = None
        self._start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self._stop_requested is not None and self._stop_requested():
            self.model.stop_training = True  # what arrived before Keras cleared the flag

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.seconds.append(round(time.perf_counter() - self._start, 4))
        loss, val_mse = float(logs.get("loss", math.nan)), float(logs.get(VALIDATION_MSE, math.nan))
        if not (math.isfinite(loss) and math.isfinite(val_mse)):
            self.values.append(None)
            self.diverged = f"loss {loss:.4g}, val_mse {val_mse:.4g} at epoch {epoch + 1}"
            self.model.stop_training = True  # the weights are lost
            return
        rmse = math.sqrt(val_mse) * self._std
        self.values.append(rmse)
        if self._on_epoch is not None and self._on_epoch(epoch, rmse):
            self.model.stop_training = True

    def result(self, *, early_stopping: bool) -> TrainingRecord:
        if early_stopping:
            kept = restored_epoch(self.values)
        else:
            kept = len(self.values) if self.values and self.values[-1] is not None else None
        return TrainingRecord(
            tuple(self.values), tuple(self.rates), tuple(self.seconds), kept, self.diverged
        )


def restored_epoch(val_rmse: Sequence[float | None]) -> int | None:
    """The epoch (from 1) whose weights early stopping restores: the first of the lowest
    finite validation RMSE; None when no epoch gave one."""
    finite = [(v, i) for i, v in enumerate(val_rmse) if v is not None and math.isfinite(v)]
    return min(finite)[1] + 1 if finite else None
