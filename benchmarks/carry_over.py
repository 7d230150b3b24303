"""How well a trial's validation score carries to a later year it was not selected on.

Usage: python benchmarks/carry_over.py --storage URL [--study NAME] [--configs 30]
       [--out benchmarks/carry-over-beijing.jsonl] [--summary-only]

The configurations are those of a real search's completed trials (the study at `--storage`,
e.g. a default `tuner run --trials 100`), `--configs` of them evenly spaced by value. Each is
trained again as a trial trains (the default space's epochs, early stopping, schedule and
averaged weights), one year earlier than the search did, so that the year after validation
is still before the test year:

- origin 2012: train 2010-2011, validate 2012 (the trial's value), then score the kept
  weights on 2013, the "later year";
- origin 2011: train 2010, validate 2011; with origin 2012 it makes the rolling-origin value
  (the mean of the two validation years), scored against the same 2013 figures.

Each configuration is trained as the model was before (`level`, MSE) and as it is now
(`change`, Huber), with the same seed. 2014, the test year, is never read. Rows are appended
to `--out` as JSON lines, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from tuner.data.prepared import prepare
from tuner.data.sources import resolve
from tuner.data.windows import make_windows, target_rows
from tuner.model.backend import use_backend
from tuner.model.params import ModelParams
from tuner.search.space import load_space

# (model, origin): the year validated; training is every year before it.
RUNS = [("level+mse", 2012), ("change+huber", 2012), ("change+huber", 2011)]
MODELS = {"level+mse": ("level", "mse"), "change+huber": ("change", "huber")}
LATER_YEAR = 2013


def pick_configs(storage: str, study_name: str | None, n: int) -> list[ModelParams]:
    """`n` completed trials' configurations, evenly spaced from the best to the worst."""
    names = optuna.get_all_study_names(storage)
    study = optuna.load_study(study_name=study_name or names[0], storage=storage)
    complete = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    chosen = [complete[round(i * (len(complete) - 1) / max(n - 1, 1))] for i in range(n)]
    unique = {json.dumps(t.user_attrs["model_params"], sort_keys=True): t for t in chosen}
    return [ModelParams(**json.loads(key)) for key in unique]


def train_and_score(model_name: str, origin: int, params: ModelParams, seed: int) -> dict:
    import keras

    from tuner.model.network import VALIDATION_MSE, fresh_session, plateau_schedule
    from tuner.model.training import build, fit

    spec = resolve("beijing", val_start=f"{origin}-01-01", test_start=f"{origin + 1}-01-01")
    # The "test" part here is the later year, cut at its end below; 2014 is never scored.
    data = prepare(spec, with_test=origin + 1 == LATER_YEAR)
    predict, loss = MODELS[model_name]
    training = dataclasses.replace(load_space("lstm_baseline").training, predict=predict, loss=loss)
    train = data.windows("train", params.seq_len)
    val = data.windows("val", params.seq_len)

    fresh_session()
    keras.utils.set_random_seed(seed)
    model = build(params, data.n_features, training)
    stop = keras.callbacks.EarlyStopping(
        monitor=VALIDATION_MSE, mode="min", patience=training.patience, restore_best_weights=True
    )
    curve: list[float] = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: curve.append(
            math.sqrt(logs[VALIDATION_MSE]) * data.target_std
        )
    )
    started = time.perf_counter()
    fit(
        model,
        train,
        val,
        batch_size=params.batch_size,
        epochs=training.max_epochs,
        callbacks=[record, stop, *plateau_schedule(training)],
    )
    seconds = time.perf_counter() - started
    row = {
        "model": model_name,
        "origin": origin,
        "params": asdict(params),
        "seed": seed,
        "val_rmse": min(curve),
        "epochs": len(curve),
        "seconds": round(seconds, 1),
    }
    if origin + 1 == LATER_YEAR:
        row["later_rmse"] = _rmse_in_year(model, data, params.seq_len, LATER_YEAR)
    return row


def _rmse_in_year(model, data, seq_len: int, year: int) -> float:
    start = int(data.index.searchsorted(np.datetime64(f"{year}-01-01")))
    stop = int(data.index.searchsorted(np.datetime64(f"{year + 1}-01-01")))
    horizon = data.spec.horizon
    rows = target_rows(data.known, start, stop, seq_len=seq_len, horizon=horizon)
    windows = make_windows(data.x, data.y, rows, seq_len=seq_len, horizon=horizon)
    predicted = model.predict(windows.x, batch_size=4096, verbose=0).reshape(-1)
    error = data.to_target_units(predicted) - data.to_target_units(windows.y)
    return math.sqrt(float(np.mean(error**2)))


def spearman(a: list[float], b: list[float]) -> float:
    ranks = [np.argsort(np.argsort(x)) for x in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


def summarize(rows: list[dict]) -> list[str]:
    """Per way of selecting: rank correlation with the later year, and what it would pick."""
    by = {(r["model"], r["origin"], json.dumps(r["params"], sort_keys=True)): r for r in rows}
    lines = [
        "| model | selected on | configs | Spearman, all | Spearman, better half "
        "| later-year RMSE of the pick | best later-year RMSE | pick's rank in the later year "
        "| training seconds per config |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model_name in MODELS:
        keys = [k[2] for k in by if k[0] == model_name and k[1] == LATER_YEAR - 1]
        rolling = [k for k in keys if (model_name, LATER_YEAR - 2, k) in by]
        ways = {f"{LATER_YEAR - 1}": keys}
        if rolling:
            ways[f"{LATER_YEAR - 2} and {LATER_YEAR - 1} (mean)"] = rolling
        for label, chosen in ways.items():
            if len(chosen) < 3:
                continue
            later = [by[(model_name, LATER_YEAR - 1, k)]["later_rmse"] for k in chosen]
            if "mean" in label:
                value = [
                    statistics.mean(by[(model_name, o, k)]["val_rmse"] for o in (2011, 2012))
                    for k in chosen
                ]
                seconds = [
                    sum(by[(model_name, o, k)]["seconds"] for o in (2011, 2012)) for k in chosen
                ]
            else:
                value = [by[(model_name, LATER_YEAR - 1, k)]["val_rmse"] for k in chosen]
                seconds = [by[(model_name, LATER_YEAR - 1, k)]["seconds"] for k in chosen]
            order = sorted(range(len(chosen)), key=lambda i: value[i])
            half = order[: len(order) // 2]
            pick = order[0]
            lines.append(
                f"| {model_name} | {label} | {len(chosen)} "
                f"| {spearman(value, later):.2f} "
                f"| {spearman([value[i] for i in half], [later[i] for i in half]):.2f} "
                f"| {later[pick]:.3f} | {min(later):.3f} "
                f"| {sorted(later).index(later[pick]) + 1} of {len(later)} "
                f"| {statistics.median(seconds):.0f} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", help="the study whose completed trials give the configs")
    parser.add_argument("--study")
    parser.add_argument("--configs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/carry-over-beijing.jsonl"))
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    rows = (
        [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
        if args.out.exists()
        else []
    )
    if not args.summary_only:
        use_backend()
        done = {(r["model"], r["origin"], json.dumps(r["params"], sort_keys=True)) for r in rows}
        configs = pick_configs(args.storage, args.study, args.configs)
        for model_name, origin in RUNS:  # the rolling origin last: it only adds a year
            for params in configs:
                key = (model_name, origin, json.dumps(asdict(params), sort_keys=True))
                if key in done:
                    continue
                row = train_and_score(model_name, origin, params, args.seed)
                rows.append(row)
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(
                    f"{model_name:13} origin {origin} {params}: val {row['val_rmse']:.3f}"
                    + (f", {LATER_YEAR} {row['later_rmse']:.3f}" if "later_rmse" in row else "")
                    + f" ({row['epochs']} epochs, {row['seconds']} s)",
                    flush=True,
                )
    print("\n".join(summarize(rows)))


if __name__ == "__main__":
    main()
