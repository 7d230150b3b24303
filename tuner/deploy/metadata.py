"""`metadata.json`: what predict must apply to a CSV, as a value, checked field by field.

A bundle may come from anywhere, so every field is checked for its type and bounds before
the value exists: a malformed one is refused in one line rather than failing later in Keras
or pandas.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from tuner.data.grid import parse_freq
from tuner.data.preprocessing import HOURLY_CALENDAR, Preprocessing
from tuner.deploy import fields
from tuner.deploy.fields import bounded_int, list_of, number, of, optional
from tuner.deploy.reach import reach
from tuner.errors import TunerError, shown
from tuner.model.params import MAX_BATCH_SIZE, MAX_SEQ_LEN, MAX_UNITS, ModelParams

FORMAT_VERSION = 2  # the layout and metadata this reader expects; SHA256SUMS is required
MAX_METADATA_BYTES = 1 << 20  # a real one is a few kilobytes
MAX_HORIZON = MAX_SEQ_LEN
MAX_EPOCHS = 1 << 20
# The baselines a bundle is scored beside, named as the study records them.
BASELINES = ("persistence", "seasonal", "boosting")


@dataclass(frozen=True)
class StepScores:
    """An RMSE over every origin and step, and one per step ahead, in target units."""

    rmse: float
    by_step: tuple[float, ...]


@dataclass(frozen=True)
class BundleMember:
    """One network of an ensemble bundle: the trial whose configuration it has, and the
    epochs it trained for."""

    trial: int
    hyperparameters: ModelParams
    epochs: int


@dataclass(frozen=True)
class BundleMetadata:
    """What a bundle's model expects and how well it did; `metadata.json` as a value.

    `hyperparameters` and `trial` are the search's best trial; `members` the networks the
    model averages when it is an ensemble (empty: the best trial's own model), `refit`
    whether they trained on the validation rows too, in which case `val_rmse` is None.
    """

    target: str
    horizon: int
    seq_len: int
    time_col: str | None
    features: tuple[str, ...]
    preprocessing: Preprocessing
    hyperparameters: ModelParams
    dataset: dict[str, str]  # name, file, sha256
    split: dict[str, str]  # val_start, test_start
    epochs: int | None
    val_rmse: float | None
    search_val_rmse: float
    test_rmse: float
    persistence_val_rmse: float | None
    persistence_test_rmse: float
    test_windows: int
    study: str
    trial: int
    backend: str
    versions: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # The gradient-boosting baseline (tuner.model.baseline), refitted at export on the
    # study's training rows; None in bundles made before tuner fitted one, or when the data
    # is too short for its features.
    boosting_val_rmse: float | None = None
    boosting_test_rmse: float | None = None
    members: tuple[BundleMember, ...] = ()
    refit: bool = False
    # The series' step as a pandas alias, and whether the model forecasts every step up to
    # `horizon` (one output each, `steps`) or `horizon` alone; hourly and single-step in
    # bundles made before tuner took other steps.
    freq: str = "h"
    every_step: bool = False
    # Test RMSE per step, and each baseline's on test; empty when not recorded (bundles
    # made before tuner scored by step).
    test_rmse_by_step: tuple[float, ...] = ()
    baselines_test: dict[str, StepScores] = field(default_factory=dict)

    @property
    def steps(self) -> tuple[int, ...]:
        """The steps ahead the model forecasts, one output column each."""
        return tuple(range(1, self.horizon + 1)) if self.every_step else (self.horizon,)

    @property
    def step(self) -> pd.Timedelta:
        """The series' step: the time between two rows."""
        return parse_freq(self.freq)

    def to_json(self) -> str:
        document = asdict(self)
        document["preprocessing"] = self.preprocessing.to_dict()
        document["features"] = list(self.features)
        del document["every_step"]
        document["steps"] = list(self.steps)
        return json.dumps(document, indent=2) + "\n"

    def reach(self) -> str:
        """How far ahead the model forecasts: `1 hour ahead`, `every step from 1 to 24
        hours ahead`."""
        return reach(self.steps, self.step)

    def describe(self) -> str:
        """What the bundle's model is and forecasts, in the words every command and page
        uses for it."""
        return f"{self.model_words()}, forecasting {self.reach()}"

    def model_words(self) -> str:
        """What the bundle's model is: the best trial's, or an ensemble of refits."""
        if not self.members:
            return f"trial {self.trial}'s own model"
        if len(self.members) == 1:
            return f"trial {self.trial}'s configuration, refitted"
        return f"the mean of {len(self.members)} refitted models (best trial {self.trial})"

    @classmethod
    def from_dict(cls, d: Any) -> BundleMetadata:
        """Checked field by field; raises ValueError or TypeError saying which is wrong."""
        if not isinstance(d, dict):
            raise TypeError("not a JSON object")
        version = d.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"bundle format {shown(version)}; this tuner reads format {FORMAT_VERSION}: "
                "export the study again with this version of tuner"
            )
        prep = _preprocessing(d.get("preprocessing"))
        features = tuple(list_of(str, d.get("features"), "features"))
        if features != prep.features:
            raise ValueError("features do not match the preprocessing's features")
        target = of(str, d.get("target"), "target")
        if target != prep.target:
            raise ValueError(
                f"target {shown(target)} is not the preprocessing's {shown(prep.target)}"
            )
        seq_len = bounded_int(d.get("seq_len"), "seq_len", MAX_SEQ_LEN)
        _check_untaught(d.get("teacher", 0))
        members = tuple(
            _member(member, f"members[{i}]", seq_len)
            for i, member in enumerate(list_of(dict, d.get("members", []), "members"))
        )
        horizon = bounded_int(d.get("horizon"), "horizon", MAX_HORIZON)
        steps = fields.steps(d.get("steps", [horizon]), horizon)
        return cls(
            target=target,
            horizon=horizon,
            seq_len=seq_len,
            time_col=optional(str, d.get("time_col"), "time_col"),
            features=features,
            preprocessing=prep,
            hyperparameters=_params(d.get("hyperparameters"), "hyperparameters", seq_len),
            dataset={k: str(v) for k, v in of(dict, d.get("dataset"), "dataset").items()},
            split={k: str(v) for k, v in of(dict, d.get("split"), "split").items()},
            epochs=optional(int, d.get("epochs"), "epochs"),
            val_rmse=optional(float, d.get("val_rmse"), "val_rmse"),
            search_val_rmse=number(d.get("search_val_rmse"), "search_val_rmse"),
            test_rmse=number(d.get("test_rmse"), "test_rmse"),
            persistence_val_rmse=optional(float, d.get("persistence_val_rmse"), "persistence"),
            persistence_test_rmse=number(d.get("persistence_test_rmse"), "persistence_test"),
            test_windows=of(int, d.get("test_windows"), "test_windows"),
            study=of(str, d.get("study"), "study"),
            trial=of(int, d.get("trial"), "trial"),
            backend=of(str, d.get("backend"), "backend"),
            versions={k: str(v) for k, v in of(dict, d.get("versions", {}), "versions").items()},
            boosting_val_rmse=optional(float, d.get("boosting_val_rmse"), "boosting_val_rmse"),
            boosting_test_rmse=optional(float, d.get("boosting_test_rmse"), "boosting_test_rmse"),
            members=members,
            refit=of(bool, d.get("refit", False), "refit"),
            freq=fields.freq(d.get("freq", "h")),
            every_step=len(steps) > 1,
            **_by_step(d, len(steps)),
        )


def _by_step(d: dict, count: int) -> dict[str, Any]:
    """The scores by step: each list has one value per step, or is absent (empty)."""
    by_step = d.get("test_rmse_by_step", [])
    baselines = of(dict, d.get("baselines_test", {}), "baselines_test")
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"baselines_test: {shown(min(unknown))} is not a baseline tuner scores")
    return {
        "test_rmse_by_step": fields.numbers(by_step, "test_rmse_by_step", count) if by_step else (),
        "baselines_test": {
            name: _step_scores(value, f"baselines_test.{name}", count)
            for name, value in baselines.items()
        },
    }


def _step_scores(value: Any, name: str, count: int) -> StepScores:
    scores = of(dict, value, name)
    return StepScores(
        rmse=number(scores.get("rmse"), f"{name}.rmse"),
        by_step=fields.numbers(scores.get("by_step"), f"{name}.by_step", count),
    )


def _params(value: Any, name: str, seq_len: int) -> ModelParams:
    """A network's hyperparameters; its window is at most the bundle's (an ensemble's
    members read the last hours of the longest), and is the bundle's when not given."""
    params = of(dict, value, name)
    own = params.get("seq_len", seq_len)
    return ModelParams(
        units=bounded_int(params.get("units"), f"{name}.units", MAX_UNITS),
        seq_len=bounded_int(own, f"{name}.seq_len", seq_len),
        learning_rate=number(params.get("learning_rate"), f"{name}.learning_rate"),
        batch_size=bounded_int(params.get("batch_size"), f"{name}.batch_size", MAX_BATCH_SIZE),
    )


def _member(value: dict, name: str, seq_len: int) -> BundleMember:
    return BundleMember(
        trial=of(int, value.get("trial"), f"{name}.trial"),
        hyperparameters=_params(value.get("hyperparameters"), f"{name}.hyperparameters", seq_len),
        epochs=bounded_int(value.get("epochs"), f"{name}.epochs", MAX_EPOCHS),
    )


def parse_metadata(data: bytes, *, source: str) -> BundleMetadata:
    """`metadata.json`'s bytes as a `BundleMetadata`, or a one-line `TunerError`."""
    try:
        return BundleMetadata.from_dict(json.loads(data))
    except RecursionError:
        raise TunerError(f"{source}: not valid export metadata: nested too deeply") from None
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
        raise TunerError(f"{source}: not valid export metadata: {reason}") from e


def _preprocessing(d: Any) -> Preprocessing:
    d = of(dict, d, "preprocessing")
    numeric = list_of(str, d.get("numeric"), "preprocessing.numeric")
    if len(set(numeric)) != len(numeric) or not numeric:
        raise ValueError("preprocessing.numeric: empty, or a column listed twice")
    categories = of(dict, d.get("categories"), "preprocessing.categories")
    mean = of(dict, d.get("mean"), "preprocessing.mean")
    std = of(dict, d.get("std"), "preprocessing.std")
    for name in numeric:
        number(mean.get(name), f"preprocessing.mean[{shown(name)}]")
        if not number(std.get(name), f"preprocessing.std[{shown(name)}]") > 0:
            raise ValueError(f"preprocessing.std[{shown(name)}]: must be positive")
    columns = [*numeric, *categories]
    if len(set(columns)) != len(columns):
        raise ValueError("preprocessing: a column is both numeric and categorical")
    return Preprocessing(
        target=of(str, d.get("target"), "preprocessing.target"),
        numeric=tuple(numeric),
        categories={
            str(k): tuple(list_of(str, v, f"preprocessing.categories[{shown(k)}]"))
            for k, v in categories.items()
        },
        mean={n: float(mean[n]) for n in numeric},
        std={n: float(std[n]) for n in numeric},
        calendar=fields.calendar(d.get("calendar", list(HOURLY_CALENDAR))),
    )


def _check_untaught(weight: Any) -> None:
    """Bundles of earlier versions record `teacher`, the weight of gradient boosting's
    forecast in the targets their members were refitted on: 0 is a bundle like any other;
    any other weight is a model this tuner no longer makes nor can describe."""
    if number(weight, "teacher") != 0:
        raise ValueError(
            f"teacher {shown(weight)}: its members learnt from gradient boosting, which this "
            "tuner no longer does: export the study again with this version of tuner"
        )
