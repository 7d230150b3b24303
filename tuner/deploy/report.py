"""What a study found: the best trial against the persistence baseline, and trial counts."""

from __future__ import annotations

import math
from typing import Any

import optuna

from tuner.search import attrs
from tuner.search.outcomes import outcomes


def best_report(study: optuna.Study) -> dict[str, Any]:
    tally = outcomes(study.get_trials(deepcopy=False))
    baseline = study.user_attrs.get(attrs.BASELINE_VAL_RMSE)
    report: dict[str, Any] = {
        "study": study.study_name,
        "trials": tally.states,
        "pruned_reasons": tally.pruned_reasons,
        "fail_reasons": tally.fail_reasons,
        "baseline_val_rmse": baseline,
        "best": None,
    }
    best = tally.best
    if best is not None:
        gain = baseline - best.value if baseline is not None else math.nan
        report["best"] = {
            "trial": best.number,
            "val_rmse": best.value,
            "params": best.user_attrs.get(attrs.MODEL_PARAMS, best.params),
            "epochs": best.user_attrs.get(attrs.EPOCHS),
            "vs_baseline": gain,
            "vs_baseline_pct": 100 * gain / baseline if baseline else math.nan,
        }
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [f"study {report['study']}"]
    baseline = report["baseline_val_rmse"]
    best = report["best"]
    if best is None:
        lines.append("no completed trial yet")
    else:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in best["params"].items())
        lines.append(f"best trial {best['trial']}: val RMSE {best['val_rmse']:.3f} ({params})")
    if baseline is not None:
        line = f"persistence baseline: val RMSE {baseline:.3f}"
        if best is not None:
            side = "better" if best["vs_baseline"] > 0 else "worse"
            line += (
                f"; best is {abs(best['vs_baseline']):.3f} "
                f"({abs(best['vs_baseline_pct']):.1f}%) {side}"
            )
        lines.append(line)
    lines.append("trials: " + _counts(report["trials"]))
    if report["pruned_reasons"]:
        lines.append("pruned: " + _counts(report["pruned_reasons"]))
    if report["fail_reasons"]:
        lines.append("failed: " + _counts(report["fail_reasons"]))
    return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
