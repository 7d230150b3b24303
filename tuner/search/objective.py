"""One trial: suggest, build, fit epoch by epoch, report val RMSE, prune or complete."""

from __future__ import annotations

import math
import resource
from dataclasses import asdict

import keras
import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.trial import FrozenTrial

from tuner.data.prepared import PreparedData
from tuner.model.network import VALIDATION_MSE, fresh_session, plateau_schedule
from tuner.model.params import TrainingSettings
from tuner.model.training import build, fit
from tuner.search import attrs, notes
from tuner.search.artifacts import beats_best, save_model
from tuner.search.failures import (
    STOPS_RUN,
    STORAGE_ERRORS,
    RunStopped,
    TrialFailed,
    describe,
    fails_trial,
    stop_reason,
)
from tuner.search.pruner import NoiseAwarePruner, Verdict
from tuner.search.seeds import derive_seed
from tuner.search.space import SearchSpace


class ReportToTrial(keras.callbacks.Callback):
    """Reports val RMSE in target units after each epoch; stops the fit on a prune.

    The RMSE comes from Keras's own validation MSE on the scaled target (`VALIDATION_MSE`),
    so no extra pass over the data is made. Non-finite loss is checked once per epoch, not
    per batch, to keep the training loop free of host synchronisation.
    """

    def __init__(self, trial: optuna.Trial, target_std: float) -> None:
        super().__init__()
        self._trial, self._std = trial, target_std
        self.epochs = 0
        self.best = math.inf
        self.verdict: Verdict | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        self.epochs = epoch + 1
        loss, val_mse = float(logs.get("loss", math.nan)), float(logs.get(VALIDATION_MSE, math.nan))
        if not (math.isfinite(loss) and math.isfinite(val_mse)):
            self.verdict = Verdict(
                True, "diverged", f"loss {loss:.4g}, val_mse {val_mse:.4g} at epoch {self.epochs}"
            )
            self.model.stop_training = True
            return
        rmse = math.sqrt(val_mse) * self._std
        self.best = min(self.best, rmse)
        self._trial.report(rmse, epoch)
        if self._trial.should_prune():
            self.verdict = _explain(self._trial)
            self.model.stop_training = True


def _explain(trial: optuna.Trial) -> Verdict:
    pruner = trial.study.pruner
    if isinstance(pruner, NoiseAwarePruner):
        frozen = next(t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number)
        return pruner.verdict(trial.study, frozen)
    return Verdict(True, type(pruner).__name__, "")


class Objective:
    """Callable for `study.optimize`; the prepared data is shared by all its trials.

    `interrupt()` is safe to call from a signal handler: it stops the running fit at the
    next batch, and the trial then fails as "interrupted" at a point of our choosing, where
    a KeyboardInterrupt raised anywhere (inside a garbage-collector callback, say) could be
    lost.
    """

    def __init__(
        self,
        data: PreparedData,
        space: SearchSpace,
        training: TrainingSettings,
        *,
        seed: int | None = None,
        store: FileSystemArtifactStore | None = None,
    ) -> None:
        self._data, self._space, self._training = data, space, training
        self._seed, self._store = seed, store
        self.interrupted = False
        self._model: keras.Model | None = None

    def interrupt(self) -> None:
        self.interrupted = True
        if self._model is not None:
            self._model.stop_training = True

    def stop_if_interrupted(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Optuna callback: start no further trial once interrupted."""
        if self.interrupted:
            study.stop()

    def __call__(self, trial: optuna.Trial) -> float:
        """The trial's value; a configuration's own error becomes `TrialFailed` (`failures`)."""
        try:
            return self._train(trial)
        except KeyboardInterrupt:
            trial.set_user_attr(attrs.FAIL_REASON, "interrupted")
            raise
        except optuna.TrialPruned:
            raise
        except Exception as e:
            if fails_trial(e):
                trial.set_user_attr(attrs.FAIL_REASON, describe(e))
                raise TrialFailed(describe(e)) from e
            if not isinstance(e, STORAGE_ERRORS):  # a lost storage cannot take the reason
                trial.set_user_attr(attrs.FAIL_REASON, describe(e))
            if isinstance(e, STOPS_RUN):
                raise RunStopped(f"trial {trial.number}: {stop_reason(e)}") from e
            raise  # a bug: its traceback is the report

    def _train(self, trial: optuna.Trial) -> float:
        params = self._space.suggest(trial)
        trial.set_user_attr("model_params", asdict(params))
        train = self._data.windows("train", params.seq_len)
        val = self._data.windows("val", params.seq_len)

        fresh_session()
        if self._seed is not None:
            keras.utils.set_random_seed(derive_seed(self._seed, trial.number))
        model = build(params, self._data.n_features, self._training)
        report = ReportToTrial(trial, self._data.target_std)
        early_stopping = keras.callbacks.EarlyStopping(
            monitor=VALIDATION_MSE,
            mode="min",
            patience=self._training.patience,
            restore_best_weights=True,
        )
        if self.interrupted:
            raise KeyboardInterrupt
        self._model = model
        try:
            fit(
                model,
                train,
                val,
                batch_size=params.batch_size,
                epochs=self._training.max_epochs,
                callbacks=[report, early_stopping, *plateau_schedule(self._training)],
            )
        finally:
            self._model = None
        if self.interrupted:
            raise KeyboardInterrupt
        trial.set_user_attr("epochs", report.epochs)
        rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        trial.set_user_attr("final_learning_rate", rate)
        trial.set_user_attr("rss_mb", _rss_mb())
        if report.verdict is not None:
            trial.set_user_attr("pruned_reason", report.verdict.reason)
            trial.set_user_attr("pruned_detail", report.verdict.detail)
            metric = notes.metric_name(self._data.spec)
            note = notes.pruned_note(report.verdict, report.epochs, report.best, metric)
            notes.save_note(trial, note)
            raise optuna.TrialPruned(f"{report.verdict.reason}: {report.verdict.detail}")
        if self._store is not None and beats_best(trial.study, report.best):
            save_model(self._store, trial, model)
        return report.best


def _rss_mb() -> float:
    """Resident memory now (Linux), to show that it does not grow trial after trial."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * resource.getpagesize() / 2**20, 1)
    except OSError:
        return math.nan
