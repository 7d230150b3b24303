"""Inputs that carry more than the window: rolling summaries of the target as input columns.

Usage: python benchmarks/context_inputs.py --storage URL [--windows 24,48] [--members 5]

The default export's members (the study's best distinct configurations, refitted on
training + validation, seeds as export seeds them) trained twice: on the study's own
inputs, and with the target's trailing mean, max and standard deviation over each of
`--windows` hours added as input columns (causal: hour t sees hours up to t; scaled with
training statistics like every column). Each member, and their mean, is scored on the
study's test part, so run it on a study whose test part is a year before the real one
(benchmarks/README.md, "The exported model"). Prints one line per member and the means.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import optuna
from optuna.trial import TrialState

from tuner.model.backend import use_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--windows", default="24,48")
    parser.add_argument("--members", type=int, default=5)
    args = parser.parse_args()
    use_backend("jax")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=optuna.get_all_study_names(args.storage)[0], storage=args.storage
    )
    from tuner.deploy.members import as_member, choose

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    members = choose(
        [m for t in trials if (m := as_member(t.number, t.value, t.user_attrs))], args.members
    )
    windows = [int(w) for w in args.windows.split(",")]
    for label, extra in (("own inputs", []), (f"+ rolling {windows}", windows)):
        each, mean = score(study, members, extra)
        print(f"{label}: members {[round(v, 3) for v in each]}, mean of {len(each)}: {mean:.3f}")


def score(study, members, windows: list[int]) -> tuple[list[float], float]:
    from tuner.data.hourly import to_hourly
    from tuner.data.load import load_csv
    from tuner.data.prepared import PreparedData
    from tuner.data.preprocessing import fit_preprocessing
    from tuner.data.sources import relocate
    from tuner.data.split import chronological_split
    from tuner.deploy.export import REFIT_SEED
    from tuner.model.network import for_deployment
    from tuner.model.training import refit
    from tuner.search import attrs
    from tuner.search.seeds import derive_seed
    from tuner.search.space import load_space

    spec = relocate(attrs.data_spec(study.user_attrs))
    training = attrs.training_settings(study.user_attrs)
    training = training or load_space(study.user_attrs[attrs.SPACE]).training
    frame = to_hourly(
        load_csv(spec.path, target=spec.target, time_col=spec.time_col), source=spec.path
    )
    split = chronological_split(frame.index, val_start=spec.val_start, test_start=spec.test_start)
    target = frame[spec.target].ffill().bfill()
    for w in windows:
        rolling = target.rolling(w, min_periods=1)
        frame[f"mean{w}"], frame[f"max{w}"] = rolling.mean(), rolling.max()
        frame[f"std{w}"] = rolling.std().fillna(0)
    data = PreparedData(
        spec, frame, split, fit_preprocessing(frame[frame.index < split.val_start], spec.target)
    )
    actual = data.to_target_units(data.windows("test", 1).y)
    forecasts, each = [], []
    for m in members:
        model = refit(
            m.params,
            data,
            training,
            learning_rates=m.learning_rates,
            seed=derive_seed(REFIT_SEED, m.trial),
        )
        x = data.raw_windows("test", m.params.seq_len).x
        forecast = for_deployment(model, data.prep).predict(x, batch_size=4096, verbose=0)
        forecasts.append(forecast.reshape(-1))
        each.append(math.sqrt(float(np.mean((forecasts[-1] - actual) ** 2))))
    mean = math.sqrt(float(np.mean((np.mean(forecasts, axis=0) - actual) ** 2)))
    return each, mean


if __name__ == "__main__":
    main()
