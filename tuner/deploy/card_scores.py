"""The model card's scores: the model on validation and test beside its baselines, over
every step and, for a model of several steps, step by step."""

from __future__ import annotations

import textwrap

from tuner.data.grid import season
from tuner.deploy.metadata import BASELINES, BundleMetadata
from tuner.deploy.reach import span
from tuner.model.baseline import HISTORY

CARD_WIDTH = 90  # the model card's prose, in characters per line
MAX_STEP_ROWS = 12  # a longer horizon's table shows its first, middle and last steps
BASELINE_NAMES = {
    "persistence": "persistence",
    "seasonal": "seasonal naive",
    "boosting": "gradient boosting",
}


def scores_section(meta: BundleMetadata, units: str) -> str:
    val, test = meta.split["val_start"][:10], meta.split["test_start"][:10]
    model_val = "— (trained on it)" if meta.val_rmse is None else f"{meta.val_rmse:.3f}"
    seasonal = meta.baselines_test.get("seasonal")
    head, rule, val_more, test_more = "", "", "", ""
    if seasonal is not None:
        head, rule, val_more, test_more = (
            " seasonal naive RMSE |",
            " --- |",
            " — |",
            (f" {seasonal.rmse:.3f} |"),
        )
    table = f"""| split | RMSE, in {units} | persistence RMSE | gradient-boosting RMSE |{head}
| --- | --- | --- | --- |{rule}
| validation (from {val}) | {model_val} | {_number(meta.persistence_val_rmse)} | \
{_number(meta.boosting_val_rmse)} |{val_more}
| test (from {test}, scored once, at export) | {meta.test_rmse:.3f} | \
{meta.persistence_test_rmse:.3f} | {_number(meta.boosting_test_rmse)} |{test_more}
"""
    return f"""{table}{by_step_table(meta)}
{_baselines_prose(meta)}
"""


def _baselines_prose(meta: BundleMetadata) -> str:
    persistence = (
        f"Persistence forecasts that `{meta.target}` {span_of(meta, meta.horizon)} later is what "
        "it is now: the baseline to beat."
    )
    if len(meta.steps) > 1:
        persistence = (
            f"Persistence forecasts `{meta.target}` at every step to be what it is now: the "
            "baseline to beat; the RMSE over every step is over every forecast origin and "
            "step."
        )
    cycle = season(meta.step)
    seasonal = ""
    if cycle is not None and "seasonal" in meta.baselines_test:
        seasonal = (
            f" Seasonal naive forecasts each step as what it was one cycle "
            f"({span_of(meta, cycle)}) earlier, or whole cycles earlier when one cycle back is "
            "still ahead of the last known value."
        )
    text = f"""{persistence}{seasonal} Gradient boosting (LightGBM on the last
{span_of(meta, HISTORY)}' lags, differences and rolling statistics, fitted on the training
rows) is what a few seconds of classical forecasting reach: the model earns its place
where it is below all of them."""
    return textwrap.fill(" ".join(text.split()), CARD_WIDTH)


def by_step_table(meta: BundleMetadata) -> str:
    """Test RMSE step by step, the model beside each baseline: every step of a short
    horizon, the first, middle and last of a long one; empty for a single step."""
    if len(meta.steps) < 2 or not meta.test_rmse_by_step:
        return ""
    names = [name for name in BASELINES if name in meta.baselines_test]
    shown = range(len(meta.steps))
    if len(meta.steps) > MAX_STEP_ROWS:
        shown = sorted({0, len(meta.steps) // 2 - 1, len(meta.steps) - 1})
    rows = "\n".join(
        f"| {span_of(meta, meta.steps[i])} | {meta.test_rmse_by_step[i]:.3f} | "
        + " | ".join(f"{meta.baselines_test[n].by_step[i]:.3f}" for n in names)
        + " |"
        for i in shown
    )
    head = " | ".join(BASELINE_NAMES[n] for n in names)
    return f"""
Test RMSE by step ahead:

| ahead | model | {head} |
| --- | --- |{" --- |" * len(names)}
{rows}
"""


def span_of(meta: BundleMetadata, n: int) -> str:
    """`n` steps of the bundle's series in words."""
    return span(n, meta.step)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
