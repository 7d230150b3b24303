"""How well a trial's validation score carries to a later year it was not selected on.

Usage: python benchmarks/carry_over.py --storage URL [--study NAME] [--configs 40]
       [--seed 0] [--out benchmarks/carry-over-beijing.jsonl] [--summary-only]

The configurations are those of a real search's completed trials (the study at `--storage`,
e.g. a default `tuner run --trials 100`), `--configs` of them evenly spaced by value. Each is
trained again as a trial trains (the default space's epochs, early stopping, schedule and
averaged weights), one year earlier than the search did, so that the year after validation
is still before the test year:

- origin 2012: train 2010-2011, validate 2012 (the trial's value), then score the kept
  weights on 2013, the "later year";
- origin 2011: train 2010, validate 2011; with origin 2012 it makes the rolling-origin value
  (the mean of the two validation years), scored against the same 2013 figures;
- refit: train 2010-2012 for the epochs that origin 2012 kept, at its learning rates, and
  score the result on 2013: what training on the validation year too would give.

Each configuration is trained as the model was before (`level`, MSE) and as it is now
(`change`, Huber), with the same seed; the rolling origin and the refit, as it is now.
2014, the test year, is never read. Rows are appended to `--out` as JSON lines, so an
interrupted run resumes.
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
from tuner.search import attrs
from tuner.search.space import load_space

# (model, origin, refit): the year validated, training being every year before it; a refit
# trains on the validation year too, for as many epochs and at the learning rates of the
# same configuration's run at that origin, and is scored on the later year.
RUNS = [
    ("level+mse", 2012, False),
    ("change+huber", 2012, False),
    ("change+huber", 2012, True),
    ("change+huber", 2011, False),
]
MODELS = {"level+mse": ("level", "mse"), "change+huber": ("change", "huber")}
LATER_YEAR = 2013


def pick_configs(storage: str, study_name: str | None, n: int) -> list[ModelParams]:
    """`n` completed trials' configurations, evenly spaced from the best to the worst."""
    names = optuna.get_all_study_names(storage)
    study = optuna.load_study(study_name=study_name or names[0], storage=storage)
    complete = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    chosen = [complete[round(i * (len(complete) - 1) / max(n - 1, 1))] for i in range(n)]
    unique = {json.dumps(t.user_attrs[attrs.MODEL_PARAMS], sort_keys=True): t for t in chosen}
    return [ModelParams(**json.loads(key)) for key in unique]


def key(model_name: str, origin: int, refit: bool, params: dict) -> tuple:
    return (model_name, origin, refit, json.dumps(params, sort_keys=True))


def row_key(row: dict) -> tuple:
    return key(row["model"], row["origin"], row.get("refit", False), row["params"])


def train_and_score(
    model_name: str, origin: int, params: ModelParams, seed: int, refit_of: dict | None = None
) -> dict:
    """Train as a trial trains and score; with `refit_of` (the row of the same configuration
    at `origin`), train on the validation year too, as long and as fast as that row did."""
    import keras

    from tuner.model.training import train

    first_unseen = origin + 1 if refit_of else origin
    spec = resolve(
        "beijing", val_start=f"{first_unseen}-01-01", test_start=f"{first_unseen + 1}-01-01"
    )
    # The "test" part is the later year, cut at its end below; 2014 is never scored.
    data = prepare(spec, with_test=first_unseen + 1 == LATER_YEAR)
    predict, loss = MODELS[model_name]
    training = dataclasses.replace(load_space("lstm_baseline").training, predict=predict, loss=loss)
    if refit_of:  # as long and as fast as the run it refits
        training = dataclasses.replace(training, lr_patience=0)
        rates = keras.callbacks.LearningRateScheduler(lambda e: refit_of["rates"][e])
        options = {"early_stopping": False, "epochs": refit_of["kept_epoch"], "callbacks": [rates]}
    else:
        options = {}
    started = time.perf_counter()
    model, record = train(params, data, training, seed=seed, **options)
    seconds = time.perf_counter() - started
    curve = [v for v in record.val_rmse if v is not None]
    row = {
        "model": model_name,
        "origin": origin,
        "refit": bool(refit_of),
        "params": asdict(params),
        "seed": seed,
        "val_rmse": min(curve),
        "epochs": len(curve),
        "rates": list(record.learning_rate),
        "seconds": round(seconds, 1),
    }
    if refit_of:
        row["val_rmse"] = refit_of["val_rmse"]  # the value it was selected on
        row["later_rmse"] = curve[-1]  # the later year was its validation part
    else:
        row["kept_epoch"] = record.kept_epoch
    if not refit_of and origin + 1 == LATER_YEAR:
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
    by = {row_key(r): r for r in rows}
    later_year, origins = LATER_YEAR, (LATER_YEAR - 2, LATER_YEAR - 1)
    lines = [
        "| model | selected on | scored in 2013 | configs | Spearman, all | Spearman, better half "
        "| 2013 RMSE of the pick | best 2013 RMSE | pick's rank in 2013 "
        "| training seconds per config (median) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    ways = [
        ("level+mse", "2012", False, False),
        ("change+huber", "2012", False, False),
        ("change+huber", "2011 and 2012 (mean)", True, False),
        ("change+huber", "2012", False, True),
    ]
    for model_name, label, rolling, refit in ways:
        configs = [
            k[3]
            for k in by
            if k[:3] == (model_name, origins[1], refit)
            and (not rolling or (model_name, origins[0], False, k[3]) in by)
        ]
        if len(configs) < 3:
            continue

        runs = {(o, f, c): r for (m, o, f, c), r in by.items() if m == model_name}
        later = [runs[(origins[1], refit, c)]["later_rmse"] for c in configs]
        if rolling:
            value = [
                statistics.mean(runs[(o, False, c)]["val_rmse"] for o in origins) for c in configs
            ]
            seconds = [sum(runs[(o, False, c)]["seconds"] for o in origins) for c in configs]
        else:
            value = [runs[(origins[1], False, c)]["val_rmse"] for c in configs]
            seconds = [runs[(origins[1], refit, c)]["seconds"] for c in configs]
        order = sorted(range(len(configs)), key=lambda i: value[i])
        half, pick = order[: len(order) // 2], order[0]
        scored = "refit on 2010-2012" if refit else "trained on the years before"
        lines.append(
            f"| {model_name} | {label} | {scored} | {len(configs)} "
            f"| {spearman(value, later):.2f} "
            f"| {spearman([value[i] for i in half], [later[i] for i in half]):.2f} "
            f"| {later[pick]:.3f} | {min(later):.3f} "
            f"| {sorted(later).index(later[pick]) + 1} of {len(later)} "
            f"| {statistics.median(seconds):.0f} |"
        )
    pairs = {
        "change+huber against level+mse": [
            (by[("level+mse",) + k[1:]]["later_rmse"], r["later_rmse"])
            for k, r in by.items()
            if k[:3] == ("change+huber", origins[1], False) and ("level+mse",) + k[1:] in by
        ],
        "refit on the validation year against not": [
            (by[k[:2] + (False, k[3])]["later_rmse"], r["later_rmse"])
            for k, r in by.items()
            if k[2] and k[:2] + (False, k[3]) in by
        ],
    }
    lines.append("")
    for label, paired in pairs.items():
        if paired:
            differences = [after - before for before, after in paired]
            lines.append(
                f"- {label}, paired by configuration, RMSE in {later_year}: median difference "
                f"{statistics.median(differences):+.3f}, better in "
                f"{sum(d < 0 for d in differences)} of {len(differences)}, means "
                f"{statistics.mean(a for a, _ in paired):.3f} and "
                f"{statistics.mean(b for _, b in paired):.3f}."
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", help="the study whose completed trials give the configs")
    parser.add_argument("--study")
    parser.add_argument("--configs", type=int, default=40)
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
        by = {row_key(r): r for r in rows}
        configs = pick_configs(args.storage, args.study, args.configs)
        for model_name, origin, refit in RUNS:
            for params in configs:
                if key(model_name, origin, refit, asdict(params)) in by:
                    continue
                refit_of = by[key(model_name, origin, False, asdict(params))] if refit else None
                row = train_and_score(model_name, origin, params, args.seed, refit_of)
                by[row_key(row)] = row
                rows.append(row)
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(
                    f"{model_name:13} origin {origin}{' refit' if refit else ''} {params}: "
                    f"val {row['val_rmse']:.3f}"
                    + (f", {LATER_YEAR} {row['later_rmse']:.3f}" if "later_rmse" in row else "")
                    + f" ({row['epochs']} epochs, {row['seconds']} s)",
                    flush=True,
                )
    print("\n".join(summarize(rows)))


if __name__ == "__main__":
    main()
