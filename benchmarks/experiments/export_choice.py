"""What an export should hold: the best trial's model, or an average of the best few
configurations, each trained on the training rows or refitted on training + validation.

Usage: python benchmarks/experiments/export_choice.py --storage URL [--study NAME]
       [--members 5] [--seeds 3] --out FILE.jsonl

Every model is trained through tuner's own recipe (`tuner.model.training`), chosen by
tuner's own rule (`tuner.deploy.members.choose`) from a study made by `tuner run`, and
scored on that study's test part; the members' forecasts are averaged as the packed
ensemble averages them. To choose without reading the test year, run it on a study whose
test part is a year before the real one: for the Beijing file, the file cut after 2013
and searched with `--val-start 2012-01-01 --test-start 2013-01-01`, so that models train
on 2010-2011, select on 2012 and are scored here on 2013. Then run it once on the default
study to confirm on 2014.

Trained per study: the best `--members` configurations on the training rows (seed 0, as
a trial trains: early stopping on validation), the same refitted on training +
validation (seeds 0 .. `--seeds` - 1), and the best trial's saved model as exported.
(Members taught by gradient boosting were measured here too, and dropped: the figures are
in git at 992a9fa, benchmarks/README.md, "The exported model".)
Each model's forecast is appended to `--out` as a JSON line, so an interrupted run
resumes; the summary is printed from the file.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from tuner.data.prepared import PreparedData, prepare
from tuner.data.sources import relocate
from tuner.deploy.members import choose
from tuner.model.backend import use_backend
from tuner.search import attrs
from tuner.search.seeds import derive_seed
from tuner.search.space import load_space


def forecast(model, data: PreparedData, seq_len: int) -> np.ndarray:
    from tuner.model.network import for_deployment

    deployed = for_deployment(model, data.prep)
    windows = data.raw_windows("test", seq_len)
    return deployed.predict(windows.x, batch_size=4096, verbose=0).reshape(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--study")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    use_backend("jax")
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    names = optuna.get_all_study_names(args.storage)
    study = optuna.load_study(study_name=args.study or names[0], storage=args.storage)
    spec = relocate(attrs.data_spec(study.user_attrs))
    training = attrs.training_settings(study.user_attrs)
    if training is None:
        training = load_space(study.user_attrs[attrs.SPACE]).training
    data = prepare(spec, with_test=True)
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    members = choose(trials, args.members)

    done = {}
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            row = json.loads(line)
            done[row["key"]] = row
    actual = data.to_target_units(data.windows("test", 1).y)

    def record(key: str, make) -> None:
        if key in done:
            return
        start = time.perf_counter()
        model, seq_len, val = make()
        row = {
            "key": key,
            "val_rmse": val,
            "forecast": [round(float(v), 4) for v in forecast(model, data, seq_len)],
            "seconds": round(time.perf_counter() - start, 1),
        }
        done[key] = row
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(key, f"{rmse(row['forecast'], actual):.3f}", f"{row['seconds']} s", flush=True)

    from tuner.model.training import refit, train
    from tuner.search.artifacts import load_model
    from tuner.search.stores import open_store, parse_store

    def refitted(m, s: int):
        """Member `m` refitted with seed `s`; no validation score."""
        model = refit(
            m.params, data, training, learning_rates=m.learning_rates, seed=derive_seed(s, m.trial)
        )
        return model, m.params.seq_len, None

    best = min(trials, key=lambda t: t.value)
    where = parse_store(study.user_attrs[attrs.ARTIFACTS])
    saved = load_model(open_store(where, create=False), best, where)
    record(f"saved:{best.number}", lambda: (saved, saved.input_shape[1], best.value))
    for m in members:
        seed = derive_seed(0, m.trial)
        record(
            f"train:{m.trial}:0",
            lambda m=m, seed=seed: trained(train(m.params, data, training, seed=seed), m),
        )
        for s in range(args.seeds):
            record(f"refit:{m.trial}:{s}", lambda m=m, s=s: refitted(m, s))
    summarize(done, members, args.seeds, actual, best.number, data)


def boosting(data: PreparedData) -> dict[str, float]:
    """The gradient-boosting baseline on the test part as tuner fits it (training rows,
    stopped on validation), and refitted like the members: on training + validation, for
    the rounds that early stopping chose."""
    import lightgbm as lgb

    from tuner.model import baseline as gb

    fitted = gb.fit_baseline(data)
    horizon = data.spec.horizon
    rows = data.scored_origins("train_val") + horizon
    rows = rows[rows - horizon >= gb.HISTORY - 1]
    y = data.raw[:, 0].astype("float64")
    features = gb.lag_features(data.raw[: data.bounds("val")[1]], len(data.prep.numeric))
    alpha = float(np.std(y[rows] - y[rows - horizon]))
    booster = lgb.train(
        {**gb.PARAMS, "alpha": alpha, "seed": 0},
        lgb.Dataset(features[rows - horizon], label=y[rows] - y[rows - horizon]),
        num_boost_round=fitted.best_iterations[0],
    )
    refitted = gb.Baseline(boosters=(booster,), best_iterations=fitted.best_iterations, data=data)
    return {
        "as tuner fits it": fitted.predict("test")[1][:, 0],
        "refitted on train + val": refitted.predict("test")[1][:, 0],
    }


def trained(model_and_record, member):
    """A model trained as a trial trains, with its validation RMSE: against the trial's own
    value, what another seed alone moves the same configuration by."""
    model, record = model_and_record
    return model, member.params.seq_len, record.best


def rmse(predicted, actual) -> float:
    return math.sqrt(float(np.mean((np.asarray(predicted) - actual) ** 2)))


def summarize(done, members, seeds, actual, best, data) -> None:
    def mean_of(keys):
        return rmse(np.mean([done[k]["forecast"] for k in keys], axis=0), actual)

    top = [m.trial for m in members]
    rows = [("the best trial's saved model (export today)", [f"saved:{best}"])]
    for k in (1, 3, len(top)):
        rows.append(
            (f"best {k}, trained on training rows, seed 0", [f"train:{t}:0" for t in top[:k]])
        )
    for k in (1, 3, len(top)):
        rows.append(
            (f"best {k}, refitted on train + val, seed 0", [f"refit:{t}:0" for t in top[:k]])
        )
    rows.append((f"best 1, refitted, {seeds} seeds", [f"refit:{top[0]}:{s}" for s in range(seeds)]))
    for k in (3, len(top)):
        rows.append(
            (
                f"best {k}, refitted, {seeds} seeds each",
                [f"refit:{t}:{s}" for t in top[:k] for s in range(seeds)],
            )
        )
    print(
        f"test part from {data.split.test_start}; persistence {data.persistence_rmse('test'):.3f}"
    )
    print(f"members (trial, value): {[(m.trial, round(m.value, 3)) for m in members]}")
    singles = {k: rmse(done[k]["forecast"], actual) for k in done}
    for kind in ("train", "refit"):
        values = [v for k, v in singles.items() if k.startswith(kind)]
        print(
            f"single {kind} models: median {statistics.median(values):.3f}, "
            f"min {min(values):.3f}, max {max(values):.3f} ({len(values)})"
        )
    moved = [
        abs(done[f"train:{m.trial}:0"]["val_rmse"] - m.value)
        for m in members
        if done.get(f"train:{m.trial}:0", {}).get("val_rmse") is not None
    ]
    if moved:
        print(
            f"validation RMSE moved by another seed, same configuration: median "
            f"{statistics.median(moved):.3f}, max {max(moved):.3f} ({len(moved)} configurations); "
            f"the best {len(members)} trials span {members[-1].value - members[0].value:.3f}"
        )
    print("| export | models | test RMSE |")
    print("| --- | --- | --- |")
    boosted = boosting(data)
    for name, forecast in boosted.items():
        print(f"| gradient boosting, {name} | 1 | {rmse(forecast, actual):.3f} |")
    for name, keys in rows:
        if all(k in done for k in keys):
            print(f"| {name} | {len(keys)} | {mean_of(keys):.3f} |")
    # Half and half, a weight chosen on nothing: what the two kinds of model share.
    widest = (
        f"best {len(top)}, refitted on train + val, seed 0",
        f"best {len(top)}, refitted, {seeds} seeds each",
    )
    for name, keys in rows:
        if name in widest and all(k in done for k in keys):
            lstm = np.mean([done[k]["forecast"] for k in keys], axis=0)
            half = (lstm + boosted["as tuner fits it"]) / 2
            print(
                f"| {name}, half and half with gradient boosting | {len(keys)} + 1 "
                f"| {rmse(half, actual):.3f} |"
            )


if __name__ == "__main__":
    main()
