"""A bank of learning curves: one JSON line per configuration (plain data, no Keras)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from tuner.errors import TunerError


@dataclass(frozen=True)
class Curve:
    params: dict[str, int | float]
    val_rmse: list[float | None]  # per epoch, in the target's unit; None where it diverged
    seconds: list[float]  # per epoch
    baseline_val_rmse: float
    # lr_patience and lr_factor of the learning-rate schedule; None: a constant rate
    schedule: dict[str, int | float] | None = None
    # momentum of the validated moving average of the weights; 0: the raw weights
    ema_momentum: float = 0.0
    # what the network was trained to predict, and with which loss; the defaults are those
    # of the banks made before either was a setting
    predict: str = "level"
    loss: str = "mse"
    # the target and its unit (None when tuner does not know it); the defaults are those of
    # the banks made before either was recorded: pm2.5 of the built-in file
    target: str = "pm2.5"
    unit: str | None = "µg/m³"

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def read_bank(path: Path) -> list[Curve]:
    """The curves of a bank: a first line of provenance and a last line cut short by an
    interruption are not curves."""
    curves = []
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as e:
        raise TunerError(f"{path}: cannot read the curve bank: {e.strerror or e}") from e
    for number, line in enumerate(lines, start=1):
        try:
            fields = json.loads(line)
            if number == 1 and "provenance" in fields:
                continue  # how the bank was made (benchmarks/record.py), not a curve
            curves.append(Curve(**fields))
        except (json.JSONDecodeError, TypeError) as e:
            if number == len(lines):
                break
            raise TunerError(f"{path}:{number}: not a curve ({e})") from e
    return curves


def write_bank(out: Path, curves: list[Curve]) -> None:
    """Replace `out` with `curves`, atomically."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_text("".join(c.to_json() + "\n" for c in curves))
    partial.replace(out)


def append_curve(out: Path, curve: Curve) -> None:
    """Append one line and make it durable: an interrupted bank loses at most one curve."""
    with open(out, "a") as f:
        f.write(curve.to_json() + "\n")
        f.flush()
        os.fsync(f.fileno())
