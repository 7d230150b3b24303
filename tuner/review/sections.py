"""What the report's page says, section by section: the search, then the exported model on
the test split. Each section is its facts, its figures (PNG bytes from `plots`) and notes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from tuner.data.grid import HOUR, duration, parse_freq
from tuner.data.sources import DataSpec
from tuner.deploy.metadata import BundleMetadata
from tuner.deploy.reach import reach, span
from tuner.review import plots
from tuner.review.fates import Curve
from tuner.review.forecasts import StepForecasts, week_starts
from tuner.review.page import Plot, Section
from tuner.search import attrs
from tuner.search.cost import is_costly
from tuner.search.notes import METRIC, metric_name
from tuner.search.outcomes import Outcomes, against_baseline, outcomes, ranked

TEST_WEEKS = 3

Fact = tuple[str, str]


def search_section(study: optuna.Study, found: Sequence[Curve]) -> Section:
    """What the search found: its data, its trials, the best against the baselines, and the
    figures of the trials (`found`: their curves, `fates.curves`)."""
    trials = study.get_trials(deepcopy=False)
    spec = attrs.data_spec(study.user_attrs)
    baseline = attrs.persistence_val_rmse(study.user_attrs)
    label = metric_name(spec) if spec is not None else METRIC
    facts = search_facts(study.user_attrs, outcomes(trials))
    complete = ranked(trials)
    figures = [
        *([_history(study, complete, baseline, label)] if complete else []),
        _curves(found, baseline, label),
    ]
    notes = []
    params = searched_params(trials)
    if len(complete) >= 2 and params:
        figures += _parameter_plots(study, params, label)
    else:
        notes.append("Parameter importances and slice plots need two completed trials.")
    return Section("The search", facts, tuple(figures), tuple(notes))


def search_facts(study_attrs: Mapping[str, Any], tally: Outcomes) -> tuple[Fact, ...]:
    """The search's facts: the data, the trials as `tuner best` counts them, the best trial,
    and each baseline with the best trial against it."""
    facts = []
    spec = attrs.data_spec(study_attrs)
    if spec is not None:
        facts.append(
            (
                "data",
                f"{spec.name} ({Path(spec.path).name}, sha256 {spec.sha256[:12]}…), target "
                f"{spec.target}, {_reach(spec)}",
            )
        )
    facts.append(("trials", tally.describe()))
    best = tally.best
    if best is not None:
        params = best.user_attrs.get(attrs.MODEL_PARAMS, best.params)
        shown = ", ".join(f"{k}={_number(v)}" for k, v in params.items())
        facts.append(("best", f"trial {best.number}: {best.value:.3f} ({shown})"))
    baselines = (
        ("persistence", attrs.persistence_val_rmse(study_attrs)),
        ("gradient boosting", attrs.boosting_val_rmse(study_attrs)),
    )
    for name, value in baselines:
        if value is not None:
            versus = (
                "" if best is None else f"; the best trial is {against_baseline(best.value, value)}"
            )
            facts.append((name, f"{value:.3f}{versus}"))
    return tuple(facts)


def _reach(spec: DataSpec) -> str:
    """How far ahead the study forecasts; in steps when the study left the step to the
    data (an hourly study's words when it forecasts one step, as they always were)."""
    if spec.freq is not None:
        return reach(spec.steps, parse_freq(spec.freq))
    if len(spec.steps) == 1:
        return f"{spec.horizon} hour(s) ahead"
    return reach(spec.steps, None)


def searched_params(trials: Iterable[FrozenTrial]) -> list[str]:
    """The parameters Optuna chose in completed trials, in the order they were suggested
    (a space's fixed values are not suggested)."""
    names: dict[str, None] = {}
    for trial in trials:
        if trial.state == TrialState.COMPLETE:
            names.update(dict.fromkeys(trial.params))
    return list(names)


def _history(
    study: optuna.Study, complete: Sequence[FrozenTrial], baseline: float | None, label: str
) -> Plot:
    costly = (
        " Grey dots are costly trials (an earlier one scored as well at a fraction of the "
        "cost per epoch; `tuner best` marks them c), which Optuna's line leaves out."
        if any(is_costly(t) for t in complete)
        else ""
    )
    return Plot(
        "history",
        "Best validation RMSE by trial",
        "Each dot is a completed trial, the line the best so far. The dashed line is "
        "persistence (the next value is this value): below it, the model knows something "
        "persistence does not." + costly,
        plots.history(study, baseline, label),
    )


def _curves(found: Sequence[Curve], baseline: float | None, label: str) -> Plot:
    return Plot(
        "curves",
        "Learning curves",
        "Validation RMSE after each epoch of every trial that ended, coloured by its fate: "
        "completed, or stopped as noise (no trend and no skill), as behind (it could not "
        "come within reach of the best), as diverged (NaN or inf), or failed (the trial's "
        "fail_reason says why). The axis stops at the 95th percentile of the values, so "
        "that a few high first epochs do not flatten the rest.",
        plots.learning_curves(found, baseline, label),
    )


def _parameter_plots(study: optuna.Study, params: list[str], label: str) -> list[Plot]:
    return [
        Plot(
            "importances",
            "Parameter importances",
            "How much each parameter decides whether a completed trial is among the best "
            "(Optuna's PED-ANOVA); with few trials, a rough guide.",
            plots.importances(study, label),
        ),
        Plot(
            "slices",
            "Slice plots",
            "Each completed trial's validation RMSE against each searched parameter; darker "
            "points are later trials, where the sampler has narrowed down.",
            plots.slices(study, params, label),
        ),
    ]


def model_section(
    bundle: Path, meta: BundleMetadata, forecasts: StepForecasts, unit: str | None
) -> Section:
    """What the exported model does on the test split, beside the baselines; the weeks and
    the hours of day (below a day's step) show its first step ahead (its only one, for a
    single step)."""
    label = f"{meta.target} ({unit})" if unit else meta.target
    first = forecasts.at(0)
    starts = week_starts(first.times[0], first.times[-1], TEST_WEEKS)
    ahead = span(meta.steps[0], meta.step) + " ahead"
    which = f"{ahead}" if len(meta.steps) == 1 else f"{ahead} (its first step)"
    figures = [
        Plot(
            "test_weeks",
            "Forecast against observed",
            f"{len(starts)} weeks spread over the test split, step by step: what was "
            f"observed, the exported model's forecast {which}, and persistence. Gaps are "
            "times whose value is missing in the data.",
            plots.forecast_weeks(first, starts, label),
        ),
    ]
    if meta.step < pd.Timedelta(days=1):  # a day's step has no hours of day
        figures.append(
            Plot(
                "test_by_hour",
                "Error by hour of day",
                f"Test RMSE of the forecasts {which} for each hour of day, the model beside "
                "persistence.",
                plots.hour_errors(first, label),
            )
        )
    if len(meta.steps) > 1:
        figures.append(_step_plot(meta, forecasts, label))
    facts = model_facts(bundle, meta, forecasts)
    return Section("The exported model on the test split", facts, tuple(figures))


def _step_plot(meta: BundleMetadata, forecasts: StepForecasts, label: str) -> Plot:
    return Plot(
        "test_by_step",
        "Error by step ahead",
        "Test RMSE at each step ahead, over every test origin: the model beside persistence, "
        "the seasonal naive forecast (where the step has a cycle) and gradient boosting "
        "(fitted at export). Below a baseline at a step, the model knows something it "
        "does not that far ahead.",
        plots.step_errors(step_rmses(meta, forecasts), meta.steps, duration(meta.step), label),
    )


def step_rmses(meta: BundleMetadata, forecasts: StepForecasts) -> dict[str, tuple[float, ...]]:
    """Test RMSE per step of the model and each baseline: the naive ones from the
    forecasts drawn, gradient boosting's as export scored it."""
    by_step = forecasts.by_step()
    boosting = meta.baselines_test.get("boosting")
    if boosting is not None:
        by_step["boosting"] = boosting.by_step
    return by_step


def model_facts(bundle: Path, meta: BundleMetadata, forecasts: StepForecasts) -> tuple[Fact, ...]:
    """The bundle, in its own words (`BundleMetadata.describe`), and its test RMSE: over
    every step, then at the first, middle and last steps of several."""
    model_rmse, persistence_rmse = forecasts.rmse()
    boosting = (
        ""
        if meta.boosting_test_rmse is None
        else f", gradient boosting {meta.boosting_test_rmse:.3f}"
    )
    seasonal = meta.baselines_test.get("seasonal")
    seasonal_words = "" if seasonal is None else f", seasonal naive {seasonal.rmse:.3f}"
    origins = (
        f"{len(forecasts.origins)} observed origins"
        if len(meta.steps) > 1
        else (
            f"{len(forecasts.origins)} observed hours"
            if meta.step == HOUR
            else f"{len(forecasts.origins)} observed rows"
        )
    )
    facts = [
        ("bundle", f"{bundle} ({meta.describe()}, {meta.backend} backend)"),
        (
            "test RMSE",
            f"model {model_rmse:.3f}, persistence {persistence_rmse:.3f}{boosting}"
            f"{seasonal_words} over {origins} from {meta.split.get('test_start', '?')[:10]}",
        ),
    ]
    if len(meta.steps) > 1:
        facts.append(("test RMSE by step", _by_step_words(meta, step_rmses(meta, forecasts))))
    return tuple(facts)


def _by_step_words(meta: BundleMetadata, by_step: dict[str, tuple[float, ...]]) -> str:
    """The first, middle and last steps' RMSE, each forecaster's."""
    n = len(meta.steps)
    shown = sorted({0, n // 2 - 1, n - 1})
    names = {"model": "model", "persistence": "persistence", "seasonal": "seasonal naive",
             "boosting": "gradient boosting"}  # fmt: skip
    return "; ".join(
        f"{span(meta.steps[i], meta.step)} ahead: "
        + ", ".join(f"{names[k]} {v[i]:.3f}" for k, v in by_step.items())
        for i in shown
    )


def _number(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.3g}"
    return str(value)
