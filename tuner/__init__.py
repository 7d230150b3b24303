"""Hyperparameter search for the single-LSTM time-series baseline, on Optuna.

The package follows the data flow: `tuner.data` (CSV to windows), `tuner.search` (space,
trials, pruner, study, storage), `tuner.model` (the network and its training),
`tuner.deploy` (export, predict), `tuner.review` (`tuner best`, the dashboard, `tuner report`)
and `tuner.bench` (the measuring instruments).

The names below are the public API, for notebooks and scripts. Each is imported when first
used, so that `import tuner` stays light and a deployment that only predicts never imports
Optuna.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {
    "NoiseAwarePruner": "tuner.search.pruner",
    "Verdict": "tuner.search.pruner",
    "noise_verdict": "tuner.search.pruner",
    "RunConfig": "tuner.search.study",
    "RunSummary": "tuner.search.summary",
    "StudyLocation": "tuner.search.location",
    "train": "tuner.model.training",
    "run_study": "tuner.search.study",
    "load_space": "tuner.search.space",
    "resolve": "tuner.data.sources",
    "export_best": "tuner.deploy.export",
    "predict_csv": "tuner.deploy.predict",
    "read_bundle": "tuner.deploy.bundle",
    "report_study": "tuner.review.report",
    "TunerError": "tuner.errors",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'tuner' has no attribute {name!r}")
    value = getattr(import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
