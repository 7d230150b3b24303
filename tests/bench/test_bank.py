"""A curve bank on disk: JSON lines written whole or appended durably, read back as `Curve`s."""

import json
import re

import pytest

from tuner.bench.bank import Curve, append_curve, read_bank, write_bank
from tuner.errors import TunerError

BANK = [
    Curve({"units": 8, "learning_rate": 0.01}, [30.0, None], [1.5, 0.5], 25.0),
    Curve(
        {"units": 16, "learning_rate": 0.001},
        [28.0, 26.5, 26.0],
        [1.0, 0.4, 0.4],
        25.0,
        schedule={"lr_patience": 1, "lr_factor": 0.5},
        ema_momentum=0.99,
        predict="change",
        loss="huber",
        target="TEMP",
        unit=None,
    ),
]


def test_bank_round_trip_and_an_interrupted_last_line(tmp_path):
    path = tmp_path / "bank.jsonl"
    write_bank(path, BANK)
    with open(path, "a") as f:
        f.write('{"params": {"i": 7}, "val_')
    assert read_bank(path) == BANK


def test_write_replaces_the_bank_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / "new" / "bank.jsonl"
    write_bank(path, BANK)
    write_bank(path, BANK[1:])
    assert read_bank(path) == BANK[1:]
    assert [p.name for p in path.parent.iterdir()] == ["bank.jsonl"]
    assert json.loads(path.read_text().splitlines()[0])["val_rmse"] == [28.0, 26.5, 26.0]


def test_appended_curves_follow_the_bank(tmp_path):
    path = tmp_path / "bank.jsonl"
    write_bank(path, BANK[:1])
    append_curve(path, BANK[1])
    append_curve(path, BANK[0])
    assert read_bank(path) == [*BANK, BANK[0]]


def test_a_line_of_a_bank_made_before_the_settings_were_recorded_gets_their_old_values(tmp_path):
    path = tmp_path / "old.jsonl"
    line = {"params": {"units": 8}, "val_rmse": [30.0], "seconds": [2.0], "baseline_val_rmse": 25}
    path.write_text(json.dumps(line) + "\n")
    (curve,) = read_bank(path)
    assert (curve.schedule, curve.ema_momentum, curve.predict, curve.loss) == (
        None,
        0.0,
        "level",
        "mse",
    )
    assert (curve.target, curve.unit) == ("pm2.5", "µg/m³")


@pytest.mark.parametrize(
    "broken", ["not json", '{"params": {}, "val_rmse": []}', '{"unknown": 1}'], ids=str
)
def test_a_broken_line_before_the_last_is_refused_with_its_number(tmp_path, broken):
    path = tmp_path / "bank.jsonl"
    write_bank(path, BANK)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], broken, lines[1]]) + "\n")
    with pytest.raises(TunerError, match=rf"^{re.escape(str(path))}:2: not a curve \("):
        read_bank(path)


def test_an_unreadable_bank_is_one_line(tmp_path):
    with pytest.raises(TunerError, match="cannot read the curve bank: No such file"):
        read_bank(tmp_path / "none.jsonl")
