"""Forecast-quality levers, paired: the same configurations and seeds, one lever changed.

Usage: python benchmarks/experiments/levers.py [--levers level,change,...] [--seeds 0,1]
       [--out levers-beijing.jsonl] [--data beijing] [--target COLUMN]
       [--horizon 1] [--baseline level]

Each lever trains every configuration of `CONFIGS` (the kind the default search ends on,
and two smaller ones) with every seed, as a trial trains (the default space's epochs,
patience, schedule and averaged weights), and is scored on the validation year only, in
the target's units: the test year is never read. Rows are appended to `--out` as JSON
lines, so that an interrupted run resumes; the summary compares each lever with `level`
(the first model: the standardised level, MSE, every input; `--baseline` names another)
configuration by configuration.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tuner.data.prepared import prepare
from tuner.data.sources import resolve
from tuner.data.windows import forecast_origins, make_windows
from tuner.model.backend import use_backend
from tuner.model.params import ModelParams
from tuner.search.space import load_space

CONFIGS = [
    ModelParams(units=103, seq_len=12, learning_rate=3.3e-3, batch_size=32),
    ModelParams(units=88, seq_len=12, learning_rate=7.5e-3, batch_size=64),
    ModelParams(units=32, seq_len=24, learning_rate=1e-3, batch_size=64),
    ModelParams(units=16, seq_len=6, learning_rate=1e-2, batch_size=128),
]


@dataclass(frozen=True)
class Lever:
    """One way to train the same model; `level` is the first model, and
    `change+huber+unit+difference` today's (`tuner.model.network`)."""

    name: str
    predict: str = "level"  # or "change": the target minus its last observed value
    transform: str = "standard"  # or "log1p": the target column (input and output) in log
    loss: str = "mse"  # or "huber"
    delta: float = 1.0  # Huber's delta, on the standardised target
    drop: tuple[str, ...] = ()  # input features left out
    filled_flag: bool = False  # an input saying the target's hour was filled
    difference: bool = False  # an input: the target's change from the row before
    change_unit: bool = False  # a change predicted in units of the training changes' spread


LEVERS = {
    lever.name: lever
    for lever in (
        Lever("level"),
        Lever("change", predict="change"),
        Lever("log1p", transform="log1p"),
        Lever("change+log1p", predict="change", transform="log1p"),
        Lever("huber", loss="huber"),
        Lever("no-cumulative", drop=("Iws", "Is", "Ir")),
        Lever("no-calendar", drop=("hour_sin", "hour_cos", "doy_sin", "doy_cos")),
        Lever("no-wind-direction", drop=("cbwd=NE", "cbwd=NW", "cbwd=SE", "cbwd=cv")),
        Lever("filled-flag", filled_flag=True),
        Lever("change+huber", predict="change", loss="huber"),
        Lever("change+huber0.5", predict="change", loss="huber", delta=0.5),
        Lever("change+huber0.25", predict="change", loss="huber", delta=0.25),
        Lever("change+huber+difference", predict="change", loss="huber", difference=True),
        Lever("change+huber+unit", predict="change", loss="huber", change_unit=True),
        Lever(
            "change+huber+unit+difference",
            predict="change",
            loss="huber",
            change_unit=True,
            difference=True,
        ),
        Lever("huber+no-cumulative", loss="huber", drop=("Iws", "Is", "Ir")),
        Lever(
            "change+huber+no-cumulative", predict="change", loss="huber", drop=("Iws", "Is", "Ir")
        ),
    )
}


def features(data, lever: Lever) -> tuple[np.ndarray, list[str], float, float]:
    """Inputs standardised with training statistics; the target column's (mean, std)."""
    names = list(data.prep.features)
    raw = data.raw.astype("float64").copy()
    if lever.transform == "log1p":
        raw[:, 0] = np.log1p(np.clip(raw[:, 0], 0, None))
    if lever.filled_flag:
        raw = np.concatenate([raw, (~data.known).astype("float64")[:, None]], axis=1)
        names.append("filled")
    if lever.difference:
        raw = np.concatenate([raw, np.diff(raw[:, :1], axis=0, prepend=raw[:1, :1])], axis=1)
        names.append("difference")
    keep = [i for i, name in enumerate(names) if name not in lever.drop]
    raw, names = raw[:, keep], [names[i] for i in keep]
    train = slice(0, data._bounds["val"][0])
    mean, std = raw[train].mean(axis=0), raw[train].std(axis=0)
    std[std == 0] = 1.0
    one_hot = [i for i, n in enumerate(names) if "=" in n or n.endswith(("_sin", "_cos"))]
    mean[one_hot], std[one_hot] = 0.0, 1.0
    return ((raw - mean) / std).astype("float32"), names, float(mean[0]), float(std[0])


def evaluate(data, lever: Lever, params: ModelParams, seed: int, training) -> dict:
    import keras

    from tuner.data.windows import whole_batches
    from tuner.model.training import STEPS_PER_EXECUTION, VALIDATION_BATCH, fresh_session

    x, names, mean, std = features(data, lever)
    horizon = data.spec.horizon
    level = x[:, 0].astype("float64")
    last = np.roll(level, horizon)
    y = level - last if lever.predict == "change" else level
    train_rows = slice(horizon, data._bounds["val"][0])
    unit = float(np.std(y[train_rows])) if lever.change_unit else 1.0
    y = (y / unit).astype("float32")
    windows = {}
    for part in ("train", "val"):
        start, stop = data._bounds[part]
        steps = (horizon,)
        origins = forecast_origins(data.known, start, stop, seq_len=params.seq_len, steps=steps)
        windows[part] = make_windows(x, y, origins, seq_len=params.seq_len, steps=steps)
    val_rows = windows["val"].origins + horizon
    observed = data.to_target_units(data.y[val_rows])

    def to_units(predicted: np.ndarray) -> np.ndarray:
        offset = last[val_rows] if lever.predict == "change" else 0
        scaled = predicted.astype("float64") * unit + offset
        values = scaled * std + mean
        return np.expm1(values) if lever.transform == "log1p" else values

    class ValidationRMSE(keras.callbacks.Callback):
        """The trial's value in the target's units, whatever the loss and the transform."""

        def __init__(self) -> None:
            super().__init__()
            self.curve: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            predicted = self.model.predict(windows["val"].x, batch_size=16384, verbose=0)
            rmse = math.sqrt(float(np.mean((to_units(predicted.reshape(-1)) - observed) ** 2)))
            self.curve.append(rmse if math.isfinite(rmse) else float("inf"))
            if logs is not None:
                logs["val_rmse_units"] = self.curve[-1]

    fresh_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(params.seq_len, x.shape[1])),
            keras.layers.LSTM(params.units),
            keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=params.learning_rate,
            use_ema=training.ema_momentum > 0,
            ema_momentum=training.ema_momentum,
        ),
        loss=keras.losses.Huber(delta=lever.delta / unit) if lever.loss == "huber" else "mse",
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    score = ValidationRMSE()
    # As the recipe's schedule (`tuner.model.training`), on the value in the target's units.
    schedule = [
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_rmse_units",
            mode="min",
            factor=training.lr_factor,
            patience=training.lr_patience,
        )
    ]
    stop = keras.callbacks.EarlyStopping(
        monitor="val_rmse_units", mode="min", patience=training.patience
    )
    started = time.perf_counter()
    # Not tuner's recipe (`tuner.model.training.fit`): a lever changes the windows and the
    # target themselves, which the recipe does not let a caller do.
    train = whole_batches(windows["train"], params.batch_size)
    model.fit(
        train.x,
        train.y,
        batch_size=params.batch_size,
        epochs=training.max_epochs,
        validation_data=(windows["val"].x, windows["val"].y),
        validation_batch_size=min(len(windows["val"]), VALIDATION_BATCH),
        callbacks=[score, *schedule, stop],
        verbose=0,
    )
    best = min(score.curve)
    return {
        "lever": lever.name,
        "params": asdict(params),
        "seed": seed,
        "val_rmse": best,
        "best_epoch": score.curve.index(best) + 1,
        "epochs": len(score.curve),
        "curve": score.curve,
        "features": names,
        "seconds": round(time.perf_counter() - started, 1),
    }


def summarize(rows: list[dict], baseline: str = "level") -> list[str]:
    """Each lever against `baseline`, paired by configuration and seed."""
    by_key = {(r["lever"], json.dumps(r["params"]), r["seed"]): r["val_rmse"] for r in rows}
    lines = [
        "| lever | pairs | median difference | better in | mean val RMSE | lever's mean |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for lever in dict.fromkeys(r["lever"] for r in rows):
        pairs = [
            (by_key[(baseline, p, s)], value)
            for (name, p, s), value in by_key.items()
            if name == lever and (baseline, p, s) in by_key
        ]
        if not pairs:
            continue
        differences = [b - a for a, b in pairs]
        lines.append(
            f"| {lever} | {len(pairs)} | {statistics.median(differences):+.3f} | "
            f"{sum(d < 0 for d in differences)} of {len(pairs)} | "
            f"{statistics.mean(a for a, _ in pairs):.3f} | "
            f"{statistics.mean(b for _, b in pairs):.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levers", default=",".join(LEVERS))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--configs", type=int, default=len(CONFIGS), help="the first N")
    parser.add_argument("--data", default="beijing")
    parser.add_argument("--target")
    parser.add_argument("--horizon", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("levers-beijing.jsonl"))
    parser.add_argument("--baseline", default="level", help="the lever the others are paired with")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    rows = (
        [json.loads(line) for line in args.out.read_text().splitlines()]
        if args.out.exists()
        else []
    )
    if not args.summary_only:
        use_backend()
        spec = resolve(args.data, target=args.target, horizon=args.horizon)
        data = prepare(spec)
        training = load_space("lstm_baseline").training
        done = {(r["lever"], json.dumps(r["params"]), r["seed"]) for r in rows}
        for seed in (int(s) for s in args.seeds.split(",")):
            for params in CONFIGS[: args.configs]:
                for name in args.levers.split(","):
                    key = (name, json.dumps(asdict(params)), seed)
                    if key in done:
                        continue
                    row = evaluate(data, LEVERS[name], params, seed, training)
                    rows.append(row)
                    with args.out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(
                        f"{name:18} {params} seed {seed}: {row['val_rmse']:.3f} "
                        f"(epoch {row['best_epoch']} of {row['epochs']}, {row['seconds']} s)",
                        flush=True,
                    )
    print("\n".join(summarize(rows, args.baseline)))


if __name__ == "__main__":
    main()
