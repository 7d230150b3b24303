"""A study -> a deployable bundle (`bundle.py`); the only reader of the test split.

The model is what the `ExportPlan` says (`members.py`): by default the best few
configurations refitted on training + validation and packed as one Keras model
(`network.ensemble`), or the best trial's own saved model.

The bundle is written in a hidden folder beside `out` and swapped into place at once
(`publish.py`), so that a failed export leaves the previous bundle as it was and a reader
never finds a half-written one. Besides `model.keras`, the bundle holds the same model as
a SavedModel and as ONNX (`convert`), the ONNX one checked against the Keras one on the
test windows before anything is published, and a model card (`card`).
"""

from __future__ import annotations

import math
import platform
import shutil
from collections.abc import Callable
from functools import partial
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np
import optuna
from optuna.trial import TrialState

from tuner.data.prepared import PreparedData, prepare
from tuner.data.sources import relocate, target_unit
from tuner.data.windows import Windows
from tuner.deploy.bundle import (
    CARD_FILE,
    METADATA_FILE,
    MODEL_FILE,
    ONNX_FILE,
    SAVED_MODEL_DIR,
    SAVED_MODEL_VERSION,
)
from tuner.deploy.card import model_card
from tuner.deploy.convert import (
    ONNX_TOLERANCE,
    check_installed,
    onnx_disagreement,
    write_formats,
)
from tuner.deploy.members import DEFAULT, ExportPlan, Member, as_member, choose
from tuner.deploy.metadata import BundleMember, BundleMetadata
from tuner.deploy.publish import publish, staging_folder
from tuner.deploy.teacher import taught, teacher_weight
from tuner.errors import TunerError
from tuner.model.network import build_model, ensemble, for_deployment
from tuner.model.params import ModelParams, TrainingSettings
from tuner.model.training import fresh_session, refit
from tuner.search import attrs
from tuner.search.artifacts import load_model
from tuner.search.seeds import derive_seed
from tuner.search.stores import Store, open_store

if TYPE_CHECKING:
    from tuner.model.baseline import Baseline

# The seed a member's refit derives its own from, with its trial's number: an export of the
# same study trains the same models.
REFIT_SEED = 0

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
    _check_replaceable(out)
    check_installed()
    trial = _best_trial(study, saved=plan.single)
    spec = attrs.data_spec(study.user_attrs)
    if spec is None:
        raise TunerError(f"study '{study.study_name}' does not say which data it searched")
    spec = relocate(spec)
    if plan.single:
        if artifacts is None:
            raise TunerError(
                f"study '{study.study_name}': no artifact store found; give --artifacts"
            )
        store = open_store(artifacts, create=False)
        data = prepare(spec, with_test=True)
        core = load_model(store, trial, artifacts)
        members: list[Member] = []
        baseline = _fit_boosting(data)
        teacher = 0.0
    else:
        members, training = _plan_members(study, plan)
        _check_writable(out)  # before minutes of training, not after
        data = prepare(spec, with_test=True)
        say = progress or (lambda line: None)
        baseline = _fit_boosting(data)
        teacher = _teacher(plan.teacher, baseline, trial.value, say)
        targets = partial(taught_targets, data, baseline, teacher) if teacher else None
        core = ensemble(_refit_all(members, data, training, say, targets))
    model = for_deployment(core, data.prep)
    seq_len = int(model.input_shape[1])

    windows = {part: data.raw_windows(part, seq_len) for part in ("val", "test")}
    forecasts = {part: _forecast(model, w.x) for part, w in windows.items()}
    scores = {part: _score(data, part, windows[part], forecasts[part]) for part in windows}
    boosting = _boosting_scores(baseline)
    meta = BundleMetadata(
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
        val_rmse=None if plan.refit else scores["val"]["rmse"],
        search_val_rmse=trial.value,
        test_rmse=scores["test"]["rmse"],
        persistence_val_rmse=attrs.persistence_val_rmse(study.user_attrs),
        persistence_test_rmse=scores["test"]["persistence_rmse"],
        boosting_val_rmse=boosting["val"],
        boosting_test_rmse=boosting["test"],
        test_windows=int(scores["test"]["windows"]),
        study=study.study_name,
        trial=trial.number,
        backend=keras.backend.backend(),
        versions=_versions(),
        members=tuple(BundleMember(m.trial, m.params, m.epochs) for m in members),
        refit=plan.refit,
        teacher=teacher,
    )

    try:
        staging = staging_folder(out)
    except OSError as e:
        raise TunerError(f"{out}: cannot write the bundle here: {e.strerror}") from e
    try:
        _write_models(model, staging, windows["test"].x, forecasts["test"], data.target_std)
        (staging / METADATA_FILE).write_text(meta.to_json())
        card = model_card(meta, unit=target_unit(spec), kept_epoch=_kept_epoch(trial))
        (staging / CARD_FILE).write_text(card)
        publish(staging, out)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise TunerError(f"{out}: cannot write the bundle: {e.strerror}") from e
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta


def _write_models(
    model: keras.Model, folder: Path, x: np.ndarray, forecasts: np.ndarray, target_std: float
) -> None:
    """`model.keras`, then the SavedModel and ONNX from it; ONNX must forecast `x` as Keras did."""
    model.save(folder / MODEL_FILE)
    saved_model = folder / SAVED_MODEL_DIR / SAVED_MODEL_VERSION
    write_formats(folder / MODEL_FILE, saved_model, folder / ONNX_FILE)
    tolerance = {"rtol": ONNX_TOLERANCE, "atol": ONNX_TOLERANCE * target_std}
    differs = onnx_disagreement(folder / ONNX_FILE, x, forecasts, **tolerance)
    if differs:
        raise RuntimeError(f"{ONNX_FILE} does not forecast as {MODEL_FILE} does: {differs}")


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise TunerError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / METADATA_FILE).is_file():
        raise TunerError(f"{out}: a non-empty folder that is not an export; will not replace it")


def _check_writable(out: Path) -> None:
    try:
        shutil.rmtree(staging_folder(out))
    except OSError as e:
        raise TunerError(f"{out}: cannot write the bundle here: {e.strerror}") from e


def _best_trial(study: optuna.Study, *, saved: bool) -> optuna.trial.FrozenTrial:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TunerError(f"study '{study.study_name}' has no completed trial to export")
    trial = min(complete, key=lambda t: t.value)
    if saved and attrs.ARTIFACT_ID not in trial.user_attrs:
        raise TunerError(f"trial {trial.number} of '{study.study_name}' has no saved model")
    return trial


def _plan_members(study: optuna.Study, plan: ExportPlan) -> tuple[list[Member], TrainingSettings]:
    """The members `plan` asks for and how the study trained them, or a one-line refusal
    before anything trains."""
    training = attrs.training_settings(study.user_attrs)
    if training is None:
        training = _builtin_training(study.user_attrs.get(attrs.SPACE))
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    candidates = [m for t in complete if (m := as_member(t.number, t.value, t.user_attrs))]
    if training is None or not candidates:
        raise TunerError(
            f"study '{study.study_name}' was made by a tuner that did not record how its "
            "trials trained: export its best trial's model with --single"
        )
    return choose(candidates, plan.members), training


def _builtin_training(space: object) -> TrainingSettings | None:
    """A study made before tuner recorded its training settings: a built-in space's own."""
    from tuner.search.space import builtin_spaces, load_space

    if isinstance(space, str) and space in builtin_spaces():
        return load_space(space).training
    return None


def _refit_all(
    members: list[Member],
    data: PreparedData,
    training: TrainingSettings,
    progress: Callable[[str], None],
    targets: Callable[[int], np.ndarray] | None = None,
) -> list[keras.Model]:
    """Each member refitted, on the `targets` of its seq_len's windows when given, then all
    rebuilt in one Keras session from their weights: a fit starts a fresh session, which
    under JAX frees the arrays of the models before it."""
    weights = []
    for i, member in enumerate(members):
        p = member.params
        progress(
            f"training {i + 1} of {len(members)}: trial {member.trial} (units {p.units}, "
            f"seq_len {p.seq_len}, batch {p.batch_size}) for {member.epochs} "
            f"epoch{'s' if member.epochs > 1 else ''} "
            "on training + validation"
        )
        try:
            model = refit(
                p,
                data,
                training,
                learning_rates=member.learning_rates,
                seed=derive_seed(REFIT_SEED, member.trial),
                targets=targets(p.seq_len) if targets else None,
            )
        except FloatingPointError as e:
            raise TunerError(f"trial {member.trial}'s refit diverged: {e}; try --single") from e
        weights.append(model.get_weights())
    fresh_session()
    models = []
    for i, (member, member_weights) in enumerate(zip(members, weights, strict=True)):
        model = build_model(
            member.params, data.n_features, training, name=f"member_{i}", compiled=False
        )
        model.set_weights(member_weights)
        models.append(model)
    return models


def _kept_epoch(trial: optuna.trial.FrozenTrial) -> int | None:
    """The epoch (from 1) whose weights the model has, as the trial recorded it; for a trial
    from before it did, the first epoch of its lowest reported RMSE, which is the one early
    stopping restores."""
    recorded = trial.user_attrs.get(attrs.KEPT_EPOCH)
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        return recorded
    reported = sorted(trial.intermediate_values.items())
    if not reported:
        return None
    return min(reported, key=lambda step_value: step_value[1])[0] + 1


def _forecast(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return model.predict(x, batch_size=1024, verbose=0).reshape(-1)


def _score(
    data: PreparedData, part: str, windows: Windows, predicted: np.ndarray
) -> dict[str, float]:
    actual = data.to_target_units(windows.y)
    return {
        "rmse": math.sqrt(float(np.mean((predicted - actual) ** 2))),
        "persistence_rmse": data.persistence_rmse(part),
        "windows": len(windows),
    }


def _fit_boosting(data: PreparedData) -> Baseline | None:
    """The gradient-boosting baseline refitted as `tuner run` fitted it (deterministic, on
    the training rows, stopped on validation), or None for data it cannot serve: then the
    bundle says it has no such score, and no member learns from it."""
    from tuner.model.baseline import FIT_ERRORS, fit_baseline

    try:
        return fit_baseline(data)
    except FIT_ERRORS:
        return None


def _boosting_scores(baseline: Baseline | None) -> dict[str, float | None]:
    """The baseline scored on validation and, once, on test."""
    from tuner.model.baseline import FIT_ERRORS

    try:
        return {part: baseline and baseline.rmse(part) for part in ("val", "test")}
    except FIT_ERRORS:
        return {"val": None, "test": None}


def _teacher(
    weight: float, baseline: Baseline | None, search_val: float, say: Callable[[str], None]
) -> float:
    """The teacher's weight for this export, said in a line when one was asked for."""
    if not weight:
        return 0.0
    boosting_val = baseline.rmse("val") if baseline else None
    used = teacher_weight(weight, boosting_val)
    if not used:
        say("no gradient-boosting forecast to learn from: members learn the observed values")
    else:
        say(
            f"members learn from targets {used:.0%} gradient boosting's forecast (it "
            f"validated {boosting_val:.4g}, the best trial {search_val:.4g})"
        )
    return used


def taught_targets(
    data: PreparedData, baseline: Baseline, weight: float, seq_len: int
) -> np.ndarray:
    """The scaled targets of the training + validation windows for `seq_len`, taught."""
    windows = data.windows("train_val", seq_len)
    forecast = baseline.forecast(windows.rows, stop=data.bounds("val")[1])
    return taught(windows.y, (forecast - data.target_mean) / data.target_std, weight)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions
