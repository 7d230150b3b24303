"""What a study records of its search when it is made, and the check every resume makes
against it: the data, the space (each parameter's distribution) and the training settings.

A resume on anything else would mix trials that do not compare, or meet Optuna's refusal
of a changed distribution at the first suggest, inside a worker; it is refused here in one
line, before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, asdict, fields
from typing import TYPE_CHECKING, Any

import optuna

from tuner.data.sources import DataSpec
from tuner.errors import TunerError
from tuner.search import attrs, notes
from tuner.search.space import SearchSpace

if TYPE_CHECKING:
    from tuner.search.config import RunConfig

# What the data must keep for its trials to compare (`DataSpec`'s fields).
SAME_DATA = (
    "sha256",
    "target",
    "val_start",
    "test_start",
    "horizon",
    "every_step",
    "freq",
    "time_col",
)


def space_record(space: SearchSpace) -> dict[str, dict[str, Any]]:
    """Each parameter of `space` as the study records it, in JSON's own types."""
    record = {}
    for name, spec in space.params.items():
        if spec.kind == "fixed":
            record[name] = {"fixed": spec.choices[0]}
        elif spec.kind == "categorical":
            record[name] = {"choices": list(spec.choices)}
        else:
            record[name] = {"type": spec.kind, "low": spec.low, "high": spec.high, "log": spec.log}
    return json.loads(json.dumps(record))


def distribution_record(distribution: optuna.distributions.BaseDistribution) -> dict[str, Any]:
    """An Optuna distribution as `space_record` writes a parameter: for a study made before
    tuner recorded its space, whose trials hold their distributions."""
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return json.loads(json.dumps({"choices": list(distribution.choices)}))
    kind = "int" if isinstance(distribution, optuna.distributions.IntDistribution) else "float"
    low, high, log = distribution.low, distribution.high, distribution.log
    return json.loads(json.dumps({"type": kind, "low": low, "high": high, "log": log}))


def shown_param(record: Mapping[str, Any] | None) -> str:
    """A recorded parameter as a refusal names it: `int 8 to 16`, `choices [6, 12]`…"""
    if record is None:
        return "absent"
    if "fixed" in record:
        return f"fixed {record['fixed']!r}"
    if "choices" in record:
        return f"choices {record['choices']!r}"
    scale = ", log" if record.get("log") else ""
    return f"{record.get('type')} {record.get('low')!r} to {record.get('high')!r}{scale}"


def recorded(storage: optuna.storages.BaseStorage, name: str) -> Mapping[str, Any] | None:
    """The user attributes of the study `name`; None when there is no such study yet."""
    for summary in storage.get_all_studies():
        if summary.study_name == name:
            return summary.user_attrs
    return None


def searched_before(storage: optuna.storages.BaseStorage, name: str) -> dict[str, dict]:
    """What the latest trial that sampled anything recorded of its distributions, for a
    study made before tuner recorded its space; empty when none did."""
    trials = storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False)
    for trial in reversed(trials):
        if trial.distributions:
            return {k: distribution_record(d) for k, d in trial.distributions.items()}
    return {}


def data_change(stored: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    """The first of `SAME_DATA` that differs, as `key=old, not new`; None when all agree.
    A field the record lacks (added to tuner after the study was made) held its default."""
    defaults = {f.name: f.default for f in fields(DataSpec) if f.default is not MISSING}
    for key in SAME_DATA:
        before = stored.get(key, defaults.get(key))
        if before != data[key]:
            return f"{key}={before!r}, not {data[key]!r}"
    return None


def params_change(stored: Mapping[str, Any], space: SearchSpace, *, partial: bool) -> str | None:
    """The first parameter whose distribution or fixed value differs from the record, as
    `params.NAME old, not new`. `partial`: the record holds only what a study's trials
    sampled (an older study), so a parameter it lacks is not compared."""
    for name, now in space_record(space).items():
        if partial and name not in stored:
            continue
        before = stored.get(name)
        if before != now:
            return f"params.{name} {shown_param(before)}, not {shown_param(now)}"
    return None


def training_change(stored: Mapping[str, Any], space: SearchSpace) -> str | None:
    """The first training setting that differs from the record, as `training.KEY=old, not
    new`. A setting the record lacks (added to tuner after the study was made) is not
    compared."""
    now = json.loads(json.dumps(asdict(space.training)))
    for key, value in now.items():
        if key in stored and stored[key] != value:
            return f"training.{key}={stored[key]!r}, not {value!r}"
    return None


def check_resumable(
    storage: optuna.storages.BaseStorage,
    name: str,
    study_attrs: Mapping[str, Any],
    data: Mapping[str, Any],
    space: SearchSpace,
) -> None:
    """Refuse to resume the study `name` (its attributes `study_attrs`) on other data, space
    or training settings, in one line that names what changed and both values.

    A study with no data recorded is being made by another process that started at the
    same moment (its creation and its record are several writes, the data last): there is
    nothing to compare yet, and `open_study` records the same."""
    if attrs.DATA not in study_attrs:
        return
    change = data_change(study_attrs[attrs.DATA], data)
    if change is None and study_attrs.get(attrs.SPACE) != space.name:
        raise TunerError(
            f"study '{name}' searches space '{study_attrs.get(attrs.SPACE)}', "
            f"not '{space.name}': choose another --study"
        )
    params = study_attrs.get(attrs.SPACE_PARAMS)
    if change is None and isinstance(params, dict):
        change = params_change(params, space, partial=False)
    elif change is None:  # made before tuner recorded its space
        change = params_change(searched_before(storage, name), space, partial=True)
    training = study_attrs.get(attrs.TRAINING)
    if change is None and isinstance(training, dict):
        change = training_change(training, space)
    if change:
        raise TunerError(f"study '{name}' was made with {change}: choose another --study")


def open_study(storage: optuna.storages.BaseStorage, config: RunConfig) -> optuna.Study:
    """The study `config` names, made if new, with its record written where it lacks one;
    a resumed study was checked by `check_resumable` first.

    The data is written last: a process joining at the same moment reads the record as
    whole once the data is in it, and as still being made before."""
    study = optuna.create_study(
        study_name=config.study_name,
        storage=storage,
        direction="minimize",
        load_if_exists=True,
    )
    for key, value in (
        (attrs.SPACE, config.space.name),
        (attrs.SPACE_PARAMS, space_record(config.space)),
        (attrs.TRAINING, asdict(config.space.training)),
        (attrs.DATA, asdict(config.data)),
    ):
        if key not in study.user_attrs:  # a new study, or one made before tuner recorded it
            study.set_user_attr(key, value)
    notes.name_metric(study, config.data)
    artifacts = str(config.location.artifacts)
    if study.user_attrs.get(attrs.ARTIFACTS) != artifacts:
        study.set_user_attr(attrs.ARTIFACTS, artifacts)
    return study
