"""A study -> a deployable bundle (`bundle.py`), in four steps, each in its own module.

The model is what the `ExportPlan` says (`members`): by default the best few
configurations refitted on training + validation and averaged (`refits`), or the best
trial's own saved model. It is scored once on the test split (`scores`), and written with
its metadata and model card in every format, then put in place at once (`writing`).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib import metadata as importlib_metadata
from pathlib import Path

import keras
import optuna

from tuner.data.grid import freq_alias
from tuner.data.prepared import PreparedData, prepare
from tuner.data.sources import DataSpec, relocate, target_unit
from tuner.deploy.card import model_card
from tuner.deploy.convert import check_installed
from tuner.deploy.members import DEFAULT, ExportPlan, Member, best_to_export, plan_members
from tuner.deploy.metadata import BundleMember, BundleMetadata
from tuner.deploy.refits import refit_members
from tuner.deploy.scores import Scores, score
from tuner.deploy.writing import check_replaceable, check_writable, write_bundle
from tuner.errors import TunerError
from tuner.model.epochs import restored_epoch
from tuner.model.network import for_deployment
from tuner.model.params import ModelParams
from tuner.search import attrs
from tuner.search.artifacts import load_model
from tuner.search.stores import Store, open_store

# Recorded in the metadata: what wrote each format.
VERSIONED = ("tuner", "keras", "tensorflow", "jax", "tf2onnx", "onnx", "onnxruntime", "optuna")
VERSIONED += ("numpy", "pandas")


def export_best(
    study: optuna.Study,
    artifacts: Store | None,
    out: Path,
    plan: ExportPlan = DEFAULT,
    progress: Callable[[str], None] | None = None,
) -> BundleMetadata:
    """Write the study's bundle to `out` and return its metadata.

    Args:
        study: a study made by `tuner run` (its data and best model are found through it).
        artifacts: the artifact store the study's models were saved in (a folder or a
            bucket); only the single best trial's model (`SINGLE`) is read from it.
        out: the bundle folder; an earlier bundle there is replaced.
        plan: the model to build (`members`): by default, the best few configurations
            refitted on training and validation and averaged.
        progress: told, in a line each, which member is being trained.
    """
    out = Path(out)
    check_replaceable(out)
    check_installed()
    trial = best_to_export(study, saved=plan.single)
    spec = _data_spec(study)
    members: list[Member] = []
    if plan.single:
        core = _saved_model(study, trial, artifacts)
        data = prepare(spec, with_test=True)
    else:
        members, training = plan_members(study, plan)
        check_writable(out)  # before minutes of training, not after
        data = prepare(spec, with_test=True)
        core = refit_members(members, data, training, progress or (lambda line: None))
    model = for_deployment(core, data.prep)
    scores = score(model, data)
    meta = _metadata(study, trial, spec, data, int(model.input_shape[1]), scores, members, plan)
    card = model_card(meta, unit=target_unit(spec), kept_epoch=_kept_epoch(trial))
    write_bundle(out, model, meta, card, scores, scale=data.target_std)
    return meta


def _data_spec(study: optuna.Study) -> DataSpec:
    spec = attrs.data_spec(study.user_attrs)
    if spec is None:
        raise TunerError(f"study '{study.study_name}' does not say which data it searched")
    return relocate(spec)


def _saved_model(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, artifacts: Store | None
) -> keras.Model:
    if artifacts is None:
        raise TunerError(f"study '{study.study_name}': no artifact store found; give --artifacts")
    return load_model(open_store(artifacts, create=False), trial, artifacts)


def _metadata(
    study: optuna.Study,
    trial: optuna.trial.FrozenTrial,
    spec: DataSpec,
    data: PreparedData,
    seq_len: int,
    scores: Scores,
    members: list[Member],
    plan: ExportPlan,
) -> BundleMetadata:
    return BundleMetadata(
        target=spec.target,
        horizon=spec.horizon,
        seq_len=seq_len,
        time_col=spec.time_col,
        features=data.prep.features,
        preprocessing=data.prep,
        hyperparameters=ModelParams(**trial.user_attrs[attrs.MODEL_PARAMS]),
        dataset={"name": spec.name, "file": Path(spec.path).name, "sha256": spec.sha256},
        split={"val_start": str(data.split.val_start), "test_start": str(data.split.test_start)},
        epochs=trial.user_attrs.get(attrs.EPOCHS),
        # a refitted model trained on the validation rows: it has no validation score
        val_rmse=None if plan.refit else scores.val_rmse,
        search_val_rmse=trial.value,
        test_rmse=scores.test_rmse,
        persistence_val_rmse=attrs.persistence_val_rmse(study.user_attrs),
        persistence_test_rmse=scores.persistence_test_rmse,
        boosting_val_rmse=scores.boosting_val_rmse,
        boosting_test_rmse=scores.boosting_test_rmse,
        freq=freq_alias(data.step),
        every_step=len(data.steps) > 1,
        test_rmse_by_step=scores.test.by_step,
        baselines_test=scores.baselines_test,
        test_windows=scores.test_windows,
        study=study.study_name,
        trial=trial.number,
        backend=keras.backend.backend(),
        versions=_versions(),
        members=tuple(BundleMember(m.trial, m.params, m.epochs) for m in members),
        refit=plan.refit,
    )


def _kept_epoch(trial: optuna.trial.FrozenTrial) -> int | None:
    """The epoch (from 1) whose weights the model has, as the trial recorded it; for a trial
    from before it did, the first epoch of its lowest reported RMSE, which is the one early
    stopping restores."""
    recorded = trial.user_attrs.get(attrs.KEPT_EPOCH)
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        return recorded
    reported = trial.intermediate_values
    return restored_epoch([reported.get(step) for step in range(max(reported, default=-1) + 1)])


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions
