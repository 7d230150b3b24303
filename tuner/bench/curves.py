"""`tuner bench curves`: a bank of real learning curves, one JSON line per configuration.

Each configuration is drawn from the search space (seeded) and trained for a fixed number
of epochs with no early stopping and no pruning, on the data, split and scaling of
`tuner run`, so that pruners can later be replayed on the curves (`tuner.bench.replay`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import optuna

from tuner.bench.bank import Curve, append_curve, read_bank, write_bank
from tuner.data.prepared import PreparedData
from tuner.data.sources import target_unit
from tuner.errors import TunerError
from tuner.model.params import ModelParams
from tuner.model.training import train
from tuner.search.space import SearchSpace


def draw_configs(space: SearchSpace, n: int, seed: int) -> list[ModelParams]:
    """The same `n` configurations for the same space and seed, every time."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return [space.suggest(study.ask()) for _ in range(n)]


def make_bank(
    data: PreparedData,
    space: SearchSpace,
    *,
    configs: int,
    epochs: int,
    seed: int,
    out: Path,
    log: Callable[[str], None] = print,
) -> list[Curve]:
    """Train the configurations not yet in `out` and append their curves; resumable."""
    if configs < 1 or epochs < 2:
        raise TunerError(f"need --configs >= 1 and --epochs >= 2, got {configs} and {epochs}")
    drawn = draw_configs(space, configs, seed)
    done = read_bank(out) if Path(out).exists() else []
    for i, curve in enumerate(done[:configs]):
        if (
            curve.params != asdict(drawn[i])
            or len(curve.val_rmse) != epochs
            or curve.schedule != schedule_of(space)
            or curve.ema_momentum != space.training.ema_momentum
            or (curve.predict, curve.loss) != (space.training.predict, space.training.loss)
            or curve.target != data.spec.target
        ):
            raise TunerError(
                f"{out}: line {i + 1} was made with other settings (seed, space, schedule, "
                f"weight averaging, what it predicts, loss, target or epochs); "
                f"choose another --out"
            )
    write_bank(out, done)  # drops a line cut short by an interruption
    baseline = data.persistence_rmse("val")
    for i in range(len(done), configs):
        curve = train_curve(data, space, drawn[i], epochs, baseline, seed=seed + i)
        append_curve(out, curve)
        done.append(curve)
        best = min((v for v in curve.val_rmse if v is not None), default=math.nan)
        log(
            f"[{i + 1}/{configs}] {asdict(drawn[i])}: best {best:.3f} in {sum(curve.seconds):.0f} s"
        )
    return done


def train_curve(
    data: PreparedData,
    space: SearchSpace,
    params: ModelParams,
    epochs: int,
    baseline: float,
    *,
    seed: int,
) -> Curve:
    """One configuration trained as `tuner run` trains it (the recipe, `train`) but for all
    `epochs`: no early stopping, no pruning."""
    _, record = train(params, data, space.training, seed=seed, early_stopping=False, epochs=epochs)
    values = list(record.val_rmse) + [None] * (epochs - record.epochs)
    return Curve(
        asdict(params),
        values,
        list(record.seconds),
        baseline,
        schedule_of(space),
        space.training.ema_momentum,
        space.training.predict,
        space.training.loss,
        data.spec.target,
        target_unit(data.spec),
    )


def schedule_of(space: SearchSpace) -> dict[str, int | float] | None:
    training = space.training
    if training.lr_patience == 0:
        return None
    return {"lr_patience": training.lr_patience, "lr_factor": training.lr_factor}
