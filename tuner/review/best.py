"""`tuner best`: the top trials against the baselines, and how the others ended."""

from __future__ import annotations

from typing import Any

import optuna
import pandas as pd

from tuner.data.sources import target_unit
from tuner.search import attrs, by_step, replicates
from tuner.search.cost import epoch_cost, is_costly
from tuner.search.outcomes import against_baseline, gain, most_first, outcomes, ranked

DEFAULT_TOP = 10


def best_report(study: optuna.Study, top: int = DEFAULT_TOP) -> dict[str, Any]:
    """The study's `top` completed trials, best first, each against persistence; the
    gradient-boosting baseline beside it when the study has one.

    Args:
        study: the study to report on.
        top: how many completed trials to list (as KerasTuner's `results_summary`).

    Returns:
        Plain data for `--json`: counts by state and reason, the baseline, the unit when
        tuner knows it, `best` (the first of `top`) and `top`.
    """
    trials = study.get_trials(deepcopy=False)
    tally = outcomes(trials)
    baseline = attrs.persistence_val_rmse(study.user_attrs)
    rows = [_row(trial, baseline) for trial in ranked(trials)[:top]]
    floor = replicates.noise_floor(trials)
    return {
        "study": study.study_name,
        "unit": _unit(study),
        "trials": tally.states,
        "pruned_reasons": tally.pruned_reasons,
        "fail_reasons": tally.fail_reasons,
        "persistence_val_rmse": baseline,
        "boosting_val_rmse": attrs.boosting_val_rmse(study.user_attrs),
        "best": rows[0] if rows else None,
        "top": rows,
        "noise_floor": None if floor is None else floor.to_dict(),
        "within_noise_floor": None if floor is None else replicates.within(trials, floor),
        "step": by_step.ahead(attrs.series_step(study.user_attrs), 1),
        "seasonal_val_rmse": attrs.seasonal_val_rmse(study.user_attrs),
        "by_step": _by_step(study, rows[0] if rows else None),
    }


def _by_step(study: optuna.Study, best: dict[str, Any] | None) -> dict[str, Any] | None:
    """The best trial's validation RMSE of each step and the baselines' (lists from step 1);
    None for a single-step study."""
    if best is None or best["val_rmse_by_step"] is None:
        return None
    baselines = attrs.baselines_by_step(study.user_attrs)
    return {
        "best": best["val_rmse_by_step"],
        **{name: list(baselines[name]) for name in by_step.BASELINES if name in baselines},
    }


def _row(trial: optuna.trial.FrozenTrial, baseline: float | None) -> dict[str, Any]:
    fraction = None if baseline is None else gain(trial.value, baseline)
    return {
        "trial": trial.number,
        "val_rmse": trial.value,
        "params": trial.user_attrs.get(attrs.MODEL_PARAMS, trial.params),
        "epochs": trial.user_attrs.get(attrs.EPOCHS),
        "seconds_per_epoch": epoch_cost(trial.user_attrs.get(attrs.EPOCH_SECONDS)),
        "costly": is_costly(trial),
        "vs_baseline": None if fraction is None else baseline - trial.value,
        "vs_baseline_pct": None if fraction is None else 100 * fraction,
        "artifact_id": trial.user_attrs.get(attrs.ARTIFACT_ID),
        "replicate_of": trial.user_attrs.get(attrs.REPLICATE_OF),
        "val_rmse_by_step": _listed(attrs.val_rmse_by_step(trial.user_attrs)),
    }


def _listed(values: tuple[float, ...] | None) -> list[float] | None:
    return None if values is None else list(values)


def _unit(study: optuna.Study) -> str | None:
    spec = attrs.data_spec(study.user_attrs)
    return None if spec is None else target_unit(spec)


def format_report(report: dict[str, Any]) -> str:
    """The report as a person reads it: a few lines, then the top trials as a table."""
    unit = f" {report['unit']}" if report.get("unit") else ""
    lines = [f"study {report['study']}"]
    baseline, boosting = report["persistence_val_rmse"], report.get("boosting_val_rmse")
    if baseline is not None:
        lines.append(f"persistence baseline: val RMSE {baseline:.3f}{unit}")
    steps = report.get("by_step")
    seasonal = report.get("seasonal_val_rmse")
    if steps is not None and seasonal is not None:
        lines.append(f"seasonal naive baseline: val RMSE {seasonal:.3f}{unit}")
    if boosting is not None:
        lines.append(f"gradient-boosting baseline: val RMSE {boosting:.3f}{unit}")
    best = report["best"]
    if best is None:
        lines.append("no completed trial yet")
    else:
        line = f"best trial {best['trial']}: val RMSE {best['val_rmse']:.3f}{unit}"
        if best["vs_baseline"] is not None:
            line += f", {against_baseline(best['val_rmse'], baseline)} than persistence"
        if boosting is not None:
            line += f", {against_baseline(best['val_rmse'], boosting)} than gradient boosting"
        lines.append(line)
    floor = report.get("noise_floor")
    if floor is not None:
        pairs = tuple((p["trial"], p["value"], p["replicate"]) for p in floor["pairs"])
        sentence = replicates.describe(
            replicates.NoiseFloor(pairs), report["within_noise_floor"], unit
        )
        lines.append(f"noise floor: {sentence}")
    lines.append("trials: " + most_first(report["trials"]))
    if report["pruned_reasons"]:
        lines.append("pruned: " + most_first(report["pruned_reasons"]))
    if report["fail_reasons"]:
        lines.append("failed: " + most_first(report["fail_reasons"]))
    if steps is not None:
        lines += ["", *step_table(steps, report)]
    if report["top"]:
        lines += ["", *top_table(report["top"], report.get("unit"))]
    return "\n".join(lines)


def step_table(steps: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """The best trial's validation RMSE of each step ahead beside the baselines'."""
    step = pd.Timedelta(report["step"])
    best = steps["best"]
    unit = f", {report['unit']}" if report.get("unit") else ""
    title = (
        f"by step (val RMSE{unit}; {len(best)} steps of {report['step']}, "
        f"best trial {report['best']['trial']}):"
    )
    baselines = {name: steps[name] for name in by_step.BASELINES if name in steps}
    rows = by_step.table(best, baselines, step, model_name="best")
    rest = by_step.omitted(len(best))
    return [title, *by_step.aligned(rows), *([f"{rest}; --json has every one"] if rest else [])]


def top_table(rows: list[dict[str, Any]], unit: str | None) -> list[str]:
    """The top trials, one a line, columns aligned: rank, trial, RMSE, gain, epochs, seconds
    an epoch, params."""
    names = list(dict.fromkeys(name for row in rows for name in row["params"]))
    header = [
        "rank",
        "trial",
        f"val RMSE ({unit})" if unit else "val RMSE",
        "vs persistence",
        "epochs",
        "s/epoch",
        *names,
        "model artifact",
    ]
    body = [
        [
            str(rank),
            f"{row['trial']}{_marks(row)}",
            f"{row['val_rmse']:.3f}",
            "-" if row["vs_baseline_pct"] is None else f"{-row['vs_baseline_pct']:+.1f}%",
            "-" if row["epochs"] is None else str(row["epochs"]),
            "-" if row.get("seconds_per_epoch") is None else f"{row['seconds_per_epoch']:.2f}",
            *(_fmt(row["params"].get(name, "-")) for name in names),
            row["artifact_id"] or "-",
        ]
        for rank, row in enumerate(rows, start=1)
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]
    table = [
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *body)
    ]
    if any(row.get("replicate_of") is not None for row in rows):
        table.append("* a replicate: a better trial's configuration trained again, another seed")
    if any(row.get("costly") for row in rows):
        table.append(
            "c costly: an earlier trial scored as well at a fraction of its cost an epoch, so "
            "the sampler leaned away from it"
        )
    return table


def _marks(row: dict[str, Any]) -> str:
    return ("*" if row.get("replicate_of") is not None else "") + ("c" if row.get("costly") else "")


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
