"""`tuner bench …` as a command: its arguments, what it prints, and its refusals in one line.

The commands that train (`curves`, `speed`, `engines` with a budget) run in
tests/test_e2e.py and tests/bench/test_engines.py; these need no Keras.
"""

import json
import math
from pathlib import Path

import pytest

from tests.bench.test_replay import BANK
from tuner.bench.bank import write_bank
from tuner.bench.cli import _space_for_a_child, main
from tuner.bench.engines import EngineRun, Event, format_table, to_json
from tuner.bench.replay import PRUNERS
from tuner.cli import main as tuner_main
from tuner.errors import TunerError

FAST_SPACE = Path(__file__).parents[1] / "fast_space.toml"


def test_pruners_replays_a_bank_for_each_pruner(tmp_path, capsys):
    write_bank(tmp_path / "bank.jsonl", BANK)
    assert main(["pruners", "--bank", str(tmp_path / "bank.jsonl"), "--orders", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["pruner"] for row in rows] == list(PRUNERS)
    assert rows[0]["epochs_share"] == 1.0  # early stopping alone spends every epoch
    assert all(0 < row["epochs_share"] <= 1 and math.isfinite(row["regret"]) for row in rows)


def test_pruners_table_gives_regret_in_the_bank_s_unit(tmp_path, capsys):
    bank = tmp_path / "bank.jsonl"
    write_bank(bank, BANK)  # pm2.5 in µg/m³, the defaults of a curve
    assert main(["pruners", "--bank", str(bank), "--orders", "1"]) == 0
    assert "| pruner | epochs spent | regret (µg/m³) |" in capsys.readouterr().out


def test_engines_show_prints_the_table_of_a_saved_report(tmp_path, capsys):
    runs = [EngineRun("tuner", 600, [Event(120, 24.0), Event(400, 23.0)])]
    report = tmp_path / "engines.json"
    report.write_text(to_json(runs, 24.863))
    assert main(["engines", "--show", str(report)]) == 0
    assert capsys.readouterr().out == format_table(runs, 24.863) + "\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["engines", "--budget", "0"], "--budget must be a positive number of seconds, got 0.0"),
        (["engines", "--budget", "nan"], "--budget must be a positive number of seconds, got nan"),
        (["engines", "--budget", "-60"], "--budget must be a positive number of seconds"),
        (["engines", "--engines", "tuner,ray"], "unknown engine 'ray'"),
        (["engines", "--space", "nope.toml"], "nope.toml"),
        (["engines", "--show", "nope.json"], "nope.json: cannot read"),
        (["pruners", "--bank", "nope.jsonl"], "nope.jsonl: cannot read the curve bank"),
    ],
)
def test_bad_input_is_refused_before_any_work(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TunerError, match="^" + message.replace(".", r"\.")):
        main(args)


def test_through_tuner_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert tuner_main(["bench", "engines", "--engines", "tuner,ray"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown engine 'ray'") and err.count("\n") == 1


def test_curves_needs_where_to_write(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["curves"], prog="tuner bench")
    assert exit_.value.code == 2
    assert "tuner bench curves: error: the following arguments are required: --out" in (
        capsys.readouterr().err
    )


def test_a_space_is_named_so_that_a_process_started_elsewhere_finds_it(tmp_path, monkeypatch):
    (tmp_path / "my_space.toml").write_text(FAST_SPACE.read_text())
    monkeypatch.chdir(tmp_path)
    assert _space_for_a_child("my_space.toml") == str(tmp_path.resolve() / "my_space.toml")
    assert _space_for_a_child("lstm_baseline") == "lstm_baseline"  # built in: found anywhere
