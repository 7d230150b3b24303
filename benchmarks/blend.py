"""An exported bundle averaged half and half with the gradient-boosting baseline, on test.

Usage: python benchmarks/blend.py --storage URL --bundle FOLDER [--study NAME]

A confirmation, not a choice: the weight is fixed at one half (never fitted), and it was
looked at on the export protocol's 2013 first (`export_choice.py`'s last rows). The bundle
is the study's export (`tuner export`); the baseline is refitted as `tuner run` and `tuner
export` fit it (deterministic: training rows, stopped on validation). Prints the test RMSE
of the bundle, of the baseline, of their mean, and how closely their errors agree.

The bundle itself stays what DESIGN.md's model section allows, single-LSTM members only:
this measures what a bundle that also held the baseline would score.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import optuna

from tuner.data.prepared import prepare
from tuner.data.sources import relocate
from tuner.deploy.predict import load_bundle
from tuner.model.backend import use_backend
from tuner.model.baseline import fit_baseline
from tuner.search import attrs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--study")
    args = parser.parse_args()
    use_backend("jax")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = args.study or optuna.get_all_study_names(args.storage)[0]
    study = optuna.load_study(study_name=name, storage=args.storage)
    data = prepare(relocate(attrs.data_spec(study.user_attrs)), with_test=True)

    meta, model = load_bundle(args.bundle)
    windows = data.raw_windows("test", meta.seq_len)
    lstm = model.predict(windows.x, batch_size=4096, verbose=0).reshape(-1)
    actual = data.to_target_units(windows.y).reshape(-1)
    rows, boosted = fit_baseline(data).predict("test")
    if len(rows) != len(actual) or not np.allclose(data.raw[rows, 0], actual, atol=1e-3):
        raise SystemExit("the bundle's test windows and the baseline's rows differ")

    def rmse(forecast: np.ndarray) -> float:
        return math.sqrt(float(np.mean((forecast - actual) ** 2)))

    print(
        f"{name}: bundle {rmse(lstm):.3f}, gradient boosting {rmse(boosted):.3f}, "
        f"half and half {rmse((lstm + boosted) / 2):.3f}, persistence "
        f"{data.persistence_rmse('test'):.3f}; correlation of their errors "
        f"{np.corrcoef(lstm - actual, boosted - actual)[0, 1]:.3f} ({len(actual)} hours)"
    )


if __name__ == "__main__":
    main()
