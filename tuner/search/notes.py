"""What optuna-dashboard shows a reviewer: the metric's name, the study's note, a pruned
trial's note.

The texts are pure functions of plain data. Only `save_note` touches a study, through
optuna-dashboard's notes (Markdown kept in the study's system attributes), so that the
dashboard shows what `tuner best` would say without anyone running it.
"""

from __future__ import annotations

import math
import shlex
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import optuna
import pandas as pd

from tuner.data.grid import duration, season
from tuner.data.sources import DataSpec, target_unit
from tuner.data.split import Split
from tuner.search import attrs, by_step, replicates
from tuner.search.location import StudyLocation
from tuner.search.outcomes import Outcomes, against_baseline, outcomes
from tuner.search.pruner import Verdict

if TYPE_CHECKING:
    from tuner.data.prepared import PreparedData

METRIC = "validation RMSE"
# What each of NoiseAwarePruner's reasons means; the figures come with the verdict.
WHY = {
    attrs.PrunedReason.NOISE: "its curve looks like noise: no downward trend, and no skill to show",
    attrs.PrunedReason.DIVERGED: "its loss became NaN or infinite",
    attrs.PrunedReason.BEHIND: (
        "even its best prospects leave it clearly behind the best completed trial"
    ),
}
_HOUR = "%Y-%m-%d %H:%M"


def metric_name(data: DataSpec) -> str:
    """The objective's label on the dashboard: with its unit when known, else its target."""
    unit = target_unit(data)
    return f"{METRIC} ({unit})" if unit else f"{METRIC} of {data.target}"


@dataclass(frozen=True)
class Periods:
    """The split's first and last hours; the test's end is not read while searching."""

    train: tuple[str, str]
    val: tuple[str, str]
    test_start: str


@dataclass(frozen=True)
class Best:
    trial: int
    value: float
    params: dict[str, Any]


@dataclass(frozen=True)
class StudyReview:
    """What the study's note says. `baseline` and `best.value` are in the target's units."""

    study_name: str
    data: DataSpec
    periods: Periods
    baseline: float
    best: Best | None
    states: dict[str, int]
    pruned_reasons: dict[str, int]
    fail_reasons: dict[str, int]
    export: str  # the command that exports the best model
    interrupted: bool = False
    boosting: float | None = None  # the gradient-boosting baseline, when the study has one
    noise: str | None = None  # what the replicates measured (`replicates.describe`)
    step: pd.Timedelta = attrs.HOUR  # the series' step
    # With several steps ahead: the best's RMSE of each, and each baseline's (by name).
    by_step: tuple[float, ...] | None = None
    baselines_by_step: dict[str, tuple[float, ...]] = field(default_factory=dict)
    seasonal: float | None = None  # the seasonal naive baseline overall, when it has one


def periods(index: pd.DatetimeIndex, split: Split) -> Periods:
    """`index`: the hours searched (train and validation); `split`: where each part starts."""
    val, test = split.positions(index)
    return Periods(
        train=(_hour(index[0]), _hour(index[val - 1])),
        val=(_hour(index[val]), _hour(index[test - 1])),
        test_start=_hour(split.test_start),
    )


def export_command(location: StudyLocation, study_name: str) -> str:
    """`tuner export` for this study, to be run from any folder; a password shows as ***.

    An SQLite path is made absolute against the current folder, where the run started.
    """
    return f"tuner export {location.command_line()} --study {shlex.quote(study_name)}"


def review(
    study: optuna.Study, data: PreparedData, location: StudyLocation, *, interrupted: bool = False
) -> StudyReview:
    """The study as its note describes it, from its attributes and trials and the run's data."""
    trials = study.get_trials(deepcopy=False)
    tally = outcomes(trials)
    floor = replicates.noise_floor(trials)
    best = None
    if tally.best is not None:
        params = tally.best.user_attrs.get(attrs.MODEL_PARAMS, tally.best.params)
        best = Best(tally.best.number, float(tally.best.value), params)
    several = len(data.spec.steps) > 1
    return StudyReview(
        step=data.step,
        by_step=attrs.val_rmse_by_step(tally.best.user_attrs) if several and best else None,
        baselines_by_step=attrs.baselines_by_step(study.user_attrs) if several else {},
        seasonal=attrs.seasonal_val_rmse(study.user_attrs) if several else None,
        study_name=study.study_name,
        data=data.spec,
        periods=periods(data.index, data.split),
        baseline=_or_nan(attrs.persistence_val_rmse(study.user_attrs)),
        boosting=attrs.boosting_val_rmse(study.user_attrs),
        best=best,
        states=tally.states,
        pruned_reasons=tally.pruned_reasons,
        fail_reasons=tally.fail_reasons,
        export=export_command(location, study.study_name),
        interrupted=interrupted,
        noise=None
        if floor is None
        else replicates.describe(floor, replicates.within(trials, floor)),
    )


def _unit(spec: DataSpec) -> str:
    unit = target_unit(spec)
    return f" {unit}" if unit else ""


def study_note(r: StudyReview) -> str:
    """The study's note, in Markdown: the best against the baselines, then how it was found."""
    metric = metric_name(r.data)
    if r.best is None:
        head = "**No completed trial yet.**"
    else:
        head = (
            f"**Best {metric}: {r.best.value:.3f}**, trial {r.best.trial} "
            f"({_params(r.best.params)}): {against_baseline(r.best.value, r.baseline)} "
            "than persistence"
        )
        if r.boosting is not None:
            head += f", {against_baseline(r.best.value, r.boosting)} than gradient boosting"
        head += "."
    p = r.periods
    lines = [
        head,
        "",
        f"- **Persistence** ({_persistence(r)}): {metric} {r.baseline:.3f}",
        *(
            [
                "- **Gradient boosting** (LightGBM on the target's lags, differences and rolling "
                f"statistics, fitted once on the training rows): {metric} {r.boosting:.3f}"
            ]
            if r.boosting is not None
            else []
        ),
        *_seasonal(r, metric),
        f"- **Trials**: {_trials(r)}",
        *([f"- **Noise floor**: {r.noise}"] if r.noise else []),
        f"- **Data**: `{r.data.path}`, sha256 `{r.data.sha256}`; target `{r.data.target}`, "
        f"{_ahead(r)}",
        f"- **Split**: train {p.train[0]} to {p.train[1]}; validation {p.val[0]} to {p.val[1]}; "
        f"test from {p.test_start}, scored only by export",
        f"- **Export** the best model: `{r.export}`",
    ]
    if r.by_step is not None and r.best is not None:
        rows = by_step.table(r.by_step, r.baselines_by_step, r.step, model_name="best")
        lines += ["", *_by_step_table(rows, len(r.by_step), metric)]
    if r.interrupted:
        lines += ["", "_The last run was interrupted: the same `tuner run` resumes it._"]
    return "\n".join(lines) + "\n"


def _persistence(r: StudyReview) -> str:
    if len(r.data.steps) > 1:
        return "the value at the origin as the forecast of every step"
    return f"the value {by_step.ahead(r.step, r.data.horizon)} earlier as the forecast"


def _seasonal(r: StudyReview, metric: str) -> list[str]:
    """With several steps, the seasonal naive baseline when the step has a cycle."""
    cycle = season(r.step)
    if r.seasonal is None or cycle is None or len(r.data.steps) == 1:
        return []
    return [
        f"- **Seasonal naive** (the value {duration(cycle * r.step)} before each target): "
        f"{metric} {r.seasonal:.3f}"
    ]


def _ahead(r: StudyReview) -> str:
    """How far ahead the study forecasts, worded by the series' step."""
    if len(r.data.steps) > 1:
        return (
            f"every step of {duration(r.step)} up to {by_step.ahead(r.step, r.data.horizon)} "
            f"ahead ({len(r.data.steps)} steps)"
        )
    return f"{by_step.ahead(r.step, r.data.horizon)} ahead"


def steps_note(
    rmse: tuple[float, ...], baselines: dict[str, tuple[float, ...]], step: pd.Timedelta
) -> str:
    """A completed trial's note when it forecasts several steps: each step's validation
    RMSE beside the baselines' (the dashboard shows it on the trial)."""
    rows = by_step.table(rmse, baselines, step, model_name="trial")
    return "\n".join(_by_step_table(rows, len(rmse), METRIC)) + "\n"


def _by_step_table(rows: list[list[str]], steps: int, metric: str) -> list[str]:
    lines = [f"**By step** ({metric}):", "", *by_step.markdown(rows)]
    rest = by_step.omitted(steps)
    return lines + (["", f"_{rest}; `tuner best --json` has every one._"] if rest else [])


def pruned_note(verdict: Verdict, epochs: int, best: float, metric: str) -> str:
    """A pruned trial's note: why, with the pruner's figures, and where its curve stood.

    `best` is its best value of `metric` (inf when no epoch gave a finite one).
    """
    reason = verdict.reason
    lines = [f"**Pruned ({reason})**: {WHY.get(reason, f'stopped by {reason}')}.", ""]
    if verdict.detail:
        lines += [f"`{verdict.detail}`", ""]
    stood = f"; its best {metric}: {best:.3f}" if math.isfinite(best) else ""
    lines.append(f"Stopped after epoch {epochs}{stood}.")
    return "\n".join(lines) + "\n"


def save_note(study_or_trial: optuna.Study | optuna.Trial, body: str) -> None:
    """Replace the note optuna-dashboard shows on a study or a running trial."""
    from optuna_dashboard import save_note as save

    save(study_or_trial, body)


def name_metric(study: optuna.Study, data: DataSpec) -> None:
    """Label the objective on a study that has no label yet (made before tuner named it)."""
    if study.metric_names is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([metric_name(data)])


def _trials(r: StudyReview) -> str:
    return Outcomes(r.states, r.pruned_reasons, r.fail_reasons, best=None).describe()


def _params(params: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _hour(timestamp: pd.Timestamp) -> str:
    return pd.Timestamp(timestamp).strftime(_HOUR)
