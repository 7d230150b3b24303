"""What the report's page says, section by section: the search, then the exported model on
the test split. Each section is its facts, its figures (PNG bytes from `plots`) and notes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from tuner.deploy.metadata import BundleMetadata
from tuner.review import plots
from tuner.review.fates import Curve
from tuner.review.forecasts import Forecasts, week_starts
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
                f"{spec.target}, {spec.horizon} hour(s) ahead",
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
    bundle: Path, meta: BundleMetadata, forecast: Forecasts, unit: str | None
) -> Section:
    """What the exported model does on the test split, beside persistence."""
    label = f"{meta.target} ({unit})" if unit else meta.target
    starts = week_starts(forecast.times[0], forecast.times[-1], TEST_WEEKS)
    figures = (
        Plot(
            "test_weeks",
            "Forecast against observed",
            f"{len(starts)} weeks spread over the test split, hour by hour: what was "
            f"observed, the exported model's forecast {meta.horizon} hour(s) ahead, and "
            "persistence. Gaps are hours whose value is missing in the data.",
            plots.forecast_weeks(forecast, starts, label),
        ),
        Plot(
            "test_by_hour",
            "Error by hour of day",
            "Test RMSE of the forecasts for each hour of day, the model beside persistence.",
            plots.hour_errors(forecast, label),
        ),
    )
    return Section(
        "The exported model on the test split", model_facts(bundle, meta, forecast), figures
    )


def model_facts(bundle: Path, meta: BundleMetadata, forecast: Forecasts) -> tuple[Fact, ...]:
    """The bundle, in its own words (`BundleMetadata.describe`), and its test RMSE."""
    model_rmse, persistence_rmse = forecast.rmse()
    boosting = (
        ""
        if meta.boosting_test_rmse is None
        else f", gradient boosting {meta.boosting_test_rmse:.3f}"
    )
    return (
        ("bundle", f"{bundle} ({meta.describe()}, {meta.backend} backend)"),
        (
            "test RMSE",
            f"model {model_rmse:.3f}, persistence {persistence_rmse:.3f}{boosting} over "
            f"{len(forecast.times)} observed hours from {meta.split.get('test_start', '?')[:10]}",
        ),
    )


def _number(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.3g}"
    return str(value)
