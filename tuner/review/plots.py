"""The report's figures as PNG bytes: Optuna's own where it has one, matplotlib for the rest.

Figures are drawn with the Agg backend: a report is files, never a window. A process that
loaded pyplot before (a notebook) keeps its backend; every figure is closed once saved.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence

import matplotlib
import numpy as np
import optuna

from tuner.review.fates import Curve, counts
from tuner.review.forecasts import HOURS, Forecasts, hourly_week, rmse_by_hour
from tuner.search.attrs import PrunedReason

if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

STYLE = "ggplot"  # Optuna's figures use it too
DPI = 100
FATE_STYLE = {  # colour and label; completed curves are drawn last, on top
    "completed": ("tab:blue", "completed"),
    PrunedReason.BEHIND: ("tab:orange", "pruned: behind"),
    PrunedReason.NOISE: ("tab:gray", "pruned: noise"),
    PrunedReason.DIVERGED: ("tab:red", "pruned: diverged"),
    "pruned": ("tab:purple", "pruned: other reason"),
    "failed": ("black", "failed"),
}
BASELINE_STYLE = {"color": "tab:green", "linestyle": "--", "linewidth": 1.5}


def history(study: optuna.Study, baseline: float | None, label: str) -> bytes:
    """Each completed trial's value and the best so far, by trial number, and persistence."""
    with _optuna_figure():
        ax = optuna.visualization.matplotlib.plot_optimization_history(study, target_name=label)
        _baseline(ax, baseline)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("Best validation RMSE by trial")
        ax.legend(loc="upper right")
        return _png(ax.figure, (9, 4.5))


def learning_curves(found: Sequence[Curve], baseline: float | None, label: str) -> bytes:
    """Every curve, epoch by epoch, coloured by how its trial ended."""
    tally = counts(found)
    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 4.5))
        order = [f for f in FATE_STYLE if f != "completed"] + ["completed"]
        for name in order:
            colour, text = FATE_STYLE[name]
            drawn = [c for c in found if c.fate == name and c.values]
            for i, curve in enumerate(drawn):
                ax.plot(
                    [s + 1 for s in curve.steps],
                    curve.values,
                    color=colour,
                    alpha=0.7,
                    linewidth=1,
                    marker="." if len(curve.values) == 1 else None,
                    label=f"{text} ({tally[name]})" if i == 0 else None,
                )
        _baseline(ax, baseline)
        values = [v for c in found for v in c.values]
        if values:
            ax.set_ylim(*_y_range(values, baseline))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title="Learning curves by fate", xlabel="epoch", ylabel=label)
        if ax.get_legend_handles_labels()[0]:  # nothing drawn, nothing to name
            ax.legend(loc="upper right")
        return _png(fig)


def importances(study: optuna.Study, label: str) -> bytes:
    with _optuna_figure():
        ax = optuna.visualization.matplotlib.plot_param_importances(study, target_name=label)
        ax.set_title("Parameter importances (PED-ANOVA, completed trials)", loc="left")
        return _png(ax.figure, (9, 3.5))


def slices(study: optuna.Study, params: Sequence[str], label: str) -> bytes:
    with _optuna_figure():
        drawn = optuna.visualization.matplotlib.plot_slice(
            study, params=list(params), target_name=label
        )
        axes = np.atleast_1d(drawn)
        fig = axes[0].figure
        axes[0].set_title("")  # Optuna titles a single panel; the figure has its own title
        fig.suptitle("Validation RMSE by parameter, each completed trial a point")
        return _png(fig, (3.2 * len(axes) + 1.5, 4))


def forecast_weeks(forecast: Forecasts, starts: Sequence, target: str) -> bytes:
    """Observed, model and persistence, hour by hour, one panel per week."""
    with plt.style.context(STYLE):
        fig, axes = plt.subplots(
            len(starts), 1, figsize=(12, 2.8 * len(starts)), squeeze=False, layout="constrained"
        )
        for ax, start in zip(axes[:, 0], starts, strict=True):
            week = hourly_week(forecast, start)
            ax.plot(week.index, week["observed"], color="black", linewidth=1.2, label="observed")
            ax.plot(week.index, week["model"], color="tab:blue", linewidth=1, label="model")
            ax.plot(
                week.index,
                week["persistence"],
                color="tab:orange",
                linewidth=1,
                linestyle="--",
                label="persistence",
            )
            ax.set_ylabel(target)
            ax.set_title(f"week from {start:%Y-%m-%d}", fontsize="medium")
        axes[0, 0].legend(loc="upper right", ncols=3)
        fig.suptitle("Test split: forecast against observed, hour by hour")
        return _png(fig)


def hour_errors(forecast: Forecasts, target: str) -> bytes:
    """Test RMSE for each hour of day of the hour forecast, model beside persistence."""
    hours = np.asarray(forecast.times.hour)
    model = rmse_by_hour(hours, forecast.observed, forecast.model)
    persistence = rmse_by_hour(hours, forecast.observed, forecast.persistence)
    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.8))
        x = np.arange(HOURS)
        ax.bar(x - 0.2, model, width=0.4, color="tab:blue", label="model")
        ax.bar(x + 0.2, persistence, width=0.4, color="tab:orange", label="persistence")
        ax.set_xticks(x)
        ax.set(
            title="Test RMSE by hour of day",
            xlabel="hour of day forecast",
            ylabel=f"RMSE of {target}",
        )
        ax.legend(loc="upper right")
        return _png(fig)


STEP_STYLE = {  # colour, line style and label of each forecaster on the step figure
    "model": ("tab:blue", "-", "model"),
    "persistence": ("tab:orange", "--", "persistence"),
    "seasonal": ("tab:purple", "-.", "seasonal naive"),
    "boosting": ("tab:green", ":", "gradient boosting"),
}


def step_errors(
    by_step: Mapping[str, Sequence[float]], steps: Sequence[int], step: str, target: str
) -> bytes:
    """Test RMSE at each step ahead, the model beside each baseline it has (`by_step`,
    keyed as `STEP_STYLE`); `step` names the series' step in words."""
    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 4))
        for name, (colour, line, label) in STEP_STYLE.items():
            if name in by_step:
                ax.plot(steps, by_step[name], color=colour, linestyle=line, marker=".", label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(
            title="Test RMSE by step ahead",
            xlabel=f"steps ahead (one step: {step})",
            ylabel=f"RMSE of {target}",
        )
        ax.legend(loc="upper left")
        return _png(fig)


@contextlib.contextmanager
def _optuna_figure() -> Iterator[None]:
    """Optuna's figures without their warnings: each is marked experimental, and a slice
    whose trials share one value sets equal limits, which matplotlib widens itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", "Attempting to set identical", UserWarning)
        yield


def _baseline(ax, baseline: float | None) -> None:
    if baseline is not None:
        ax.axhline(baseline, label=f"persistence {baseline:.3f}", **BASELINE_STYLE)


def _y_range(values: Sequence[float], baseline: float | None) -> tuple[float, float]:
    """From the lowest value to the 95th percentile: a few first epochs far above the rest
    would otherwise flatten every curve; the baseline stays in view."""
    low, high = min(values), float(np.percentile(values, 95))
    if baseline is not None:
        low, high = min(low, baseline), max(high, baseline)
    pad = 0.05 * (high - low) or 0.05 * abs(high) or 1.0
    return low - pad, high + pad


def _png(fig: Figure, size: tuple[float, float] | None = None) -> bytes:
    if size is not None:
        fig.set_size_inches(*size)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()
