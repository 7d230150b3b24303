"""One trial: suggest, train by the recipe, report val RMSE each epoch, prune or complete."""

from __future__ import annotations

import math
import resource
from dataclasses import asdict
from typing import TYPE_CHECKING

import keras
import optuna
from optuna.trial import FrozenTrial, TrialState

from tuner.data.prepared import PreparedData
from tuner.model.params import TrainingSettings
from tuner.model.training import train, val_rmse_by_step
from tuner.search import attrs, notes
from tuner.search.artifacts import beats_best, save_model
from tuner.search.cost import COSTLY, CostRule, epoch_cost, excess
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

if TYPE_CHECKING:
    from optuna.artifacts._protocol import ArtifactStore


def _explain(trial: optuna.Trial) -> Verdict:
    pruner = trial.study.pruner
    if isinstance(pruner, NoiseAwarePruner):
        frozen = next(t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number)
        return pruner.verdict(trial.study, frozen)
    return Verdict(True, attrs.pruner_name(pruner), "")


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
        store: ArtifactStore | None = None,
        cost: CostRule | None = None,
    ) -> None:
        self._data, self._space, self._training = data, space, training
        self._seed, self._store, self._cost = seed, store, cost
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
            trial.set_user_attr(attrs.FAIL_REASON, attrs.INTERRUPTED)
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
        trial.set_user_attr(attrs.MODEL_PARAMS, asdict(params))
        verdicts: list[Verdict] = []
        replicate = attrs.REPLICATE_OF in trial.user_attrs  # measures the seed: never pruned

        def report(epoch: int, rmse: float) -> bool:
            trial.report(rmse, epoch)
            if not replicate and trial.should_prune():
                verdicts.append(_explain(trial))
            return bool(verdicts)

        def attach(model: keras.Model) -> None:
            if self.interrupted:
                raise KeyboardInterrupt
            self._model = model

        seed = None if self._seed is None else derive_seed(self._seed, trial.number)
        try:
            model, record = train(
                params,
                self._data,
                self._training,
                seed=seed,
                on_epoch=report,
                on_model=attach,
                stop_requested=lambda: self.interrupted,
            )
        finally:
            self._model = None
        if self.interrupted:
            raise KeyboardInterrupt
        trial.set_user_attr(attrs.EPOCHS, record.epochs)
        trial.set_user_attr(attrs.LEARNING_RATES, list(record.learning_rate))
        trial.set_user_attr(attrs.KEPT_EPOCH, record.kept_epoch)
        trial.set_user_attr(attrs.EPOCH_SECONDS, list(record.seconds))
        rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        trial.set_user_attr(attrs.FINAL_LEARNING_RATE, rate)
        trial.set_user_attr(attrs.RSS_MB, _rss_mb())
        if record.diverged is not None:
            verdicts.append(Verdict(True, attrs.PrunedReason.DIVERGED, record.diverged))
        if verdicts:
            verdict = verdicts[-1]
            trial.set_user_attr(attrs.PRUNED_REASON, verdict.reason)
            trial.set_user_attr(attrs.PRUNED_DETAIL, verdict.detail)
            metric = notes.metric_name(self._data.spec)
            note = notes.pruned_note(verdict, record.epochs, record.best, metric)
            notes.save_note(trial, note)
            raise optuna.TrialPruned(f"{verdict.reason}: {verdict.detail}")
        if self._cost is not None and not replicate:
            trial.set_constraint(
                COSTLY, _costly(trial.study, record.best, record.seconds, self._cost)
            )
        if len(self._data.steps) > 1:
            self._record_steps(trial, model, params.seq_len)
        if self._store is not None and beats_best(trial.study, record.best):
            save_model(self._store, trial, model)
        return record.best

    def _record_steps(self, trial: optuna.Trial, model: keras.Model, seq_len: int) -> None:
        """A completed trial of several steps: each step's validation RMSE of the weights
        it keeps, and a note that sets them beside the baselines' (the pruner reads only
        the overall value)."""
        by_step = val_rmse_by_step(model, self._data, seq_len)
        trial.set_user_attr(attrs.VAL_RMSE_BY_STEP, list(by_step))
        baselines = attrs.baselines_by_step(trial.study.user_attrs)
        notes.save_note(trial, notes.steps_note(by_step, baselines, self._data.step))


def _costly(study: optuna.Study, value: float, seconds: tuple[float, ...], rule: CostRule) -> float:
    """The `cost.COSTLY` constraint of a trial against the study's searched trials so far."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    earlier = [
        (t.value, epoch_cost(t.user_attrs.get(attrs.EPOCH_SECONDS)))
        for t in done
        if t.value is not None and attrs.REPLICATE_OF not in t.user_attrs
    ]
    return excess(value, epoch_cost(seconds), earlier, rule)


def _rss_mb() -> float:
    """Resident memory now (Linux), to show that it does not grow trial after trial."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * resource.getpagesize() / 2**20, 1)
    except OSError:
        return math.nan
