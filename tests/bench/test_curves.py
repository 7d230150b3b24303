"""A curve bank resumes only what was made as the space trains now (no training here)."""

import dataclasses
import json
from dataclasses import asdict
from types import SimpleNamespace

import pytest

from tuner.bench.bank import Curve, read_bank, write_bank
from tuner.bench.curves import draw_configs, make_bank, schedule_of
from tuner.errors import TunerError
from tuner.search.space import load_space


def _first_line(space, **training) -> Curve:
    params = asdict(draw_configs(space, 1, seed=0)[0])
    return Curve(
        params,
        [25.0, 24.0],
        [1.0, 1.0],
        25.0,
        schedule_of(space),
        space.training.ema_momentum,
        **training,
    )


def test_a_line_from_before_these_were_recorded_reads_as_the_first_banks_were_made(tmp_path):
    line = json.loads(_first_line(load_space("lstm_baseline")).to_json())
    for recorded in ("predict", "loss", "target", "unit"):
        del line[recorded]
    (tmp_path / "bank.jsonl").write_text(json.dumps(line) + "\n")
    (curve,) = read_bank(tmp_path / "bank.jsonl")
    assert (curve.predict, curve.loss, curve.target, curve.unit) == (
        "level",
        "mse",
        "pm2.5",
        "µg/m³",
    )


def test_a_bank_of_another_target_is_not_resumed(tmp_path):
    space = load_space("lstm_baseline")
    training = {"predict": space.training.predict, "loss": space.training.loss}
    write_bank(tmp_path / "bank.jsonl", [_first_line(space, **training)])
    temperature = SimpleNamespace(spec=SimpleNamespace(target="TEMP"))
    with pytest.raises(TunerError, match="made with other settings"):
        make_bank(temperature, space, configs=2, epochs=2, seed=0, out=tmp_path / "bank.jsonl")


@pytest.mark.parametrize("predict, loss", [("level", "mse"), ("change", "mse"), ("level", "huber")])
def test_a_bank_trained_to_another_target_or_loss_is_not_resumed(tmp_path, predict, loss):
    space = load_space("lstm_baseline")
    space = dataclasses.replace(
        space, training=dataclasses.replace(space.training, predict="change", loss="huber")
    )
    write_bank(tmp_path / "bank.jsonl", [_first_line(space, predict=predict, loss=loss)])
    with pytest.raises(TunerError, match="made with other settings"):
        make_bank(None, space, configs=2, epochs=2, seed=0, out=tmp_path / "bank.jsonl")
