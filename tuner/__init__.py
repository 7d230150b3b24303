"""Hyperparameter search for the single-LSTM time-series baseline, on Optuna."""

from tuner.errors import TunerError
from tuner.pruner import NoiseAwarePruner, Verdict, noise_verdict

__all__ = ["NoiseAwarePruner", "TunerError", "Verdict", "noise_verdict"]
