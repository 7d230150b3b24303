"""The replay benchmark's arithmetic, on a bank of synthetic curves with known labels."""

from pathlib import Path

import optuna
import pytest

from tuner.bench.bank import Curve, read_bank
from tuner.bench.replay import PRUNERS, benchmark, early_stopped, format_table
from tuner.errors import TunerError
from tuner.search.pruner import NoiseAwarePruner
from tuner.search.space import load_space

BASELINE, PATIENCE = 25.0, 2
CURVES = [
    [30, 26, 24, 23, 22, 21],  # 0 skilled, the best: 6 epochs, 21
    [30, 27, 25.5, 24.5, 24.6, 24.7],  # 1 skilled only from epoch 4: 6 epochs, 24.5
    [31, 31.5, 31.2, 30.9, 31.4, 31.1],  # 2 noise: stops at 3, 31
    [29, 29.5, 29.2, 29.1, 29.4, 29.3],  # 3 noise: stops at 3, 29
    [28, None, None, None, None, None],  # 4 diverged at epoch 2
    [26, 25, 24.9, 24.8, 24.7, 24.6],  # 5 skilled: 6 epochs, 24.6
    [35, 33, 31, 29, 27, 26],  # 6 learning but never skilled: 6 epochs, 26
]
BANK = [Curve({"i": i}, v, [1.0] * len(v), BASELINE) for i, v in enumerate(CURVES)]
REFERENCE_EPOCHS = 6 + 6 + 3 + 3 + 2 + 6 + 6


@pytest.mark.parametrize(
    "values, expected",
    [(CURVES[0], (21, 6)), (CURVES[1], (24.5, 6)), (CURVES[2], (31, 3)), (CURVES[4], (None, 2))],
)
def test_early_stopped(values, expected):
    assert early_stopped(values, PATIENCE) == expected


def _rows(**pruners):
    rows = benchmark(BANK, patience=PATIENCE, orders=3, pruners=pruners)
    return {row.pruner: row for row in rows}


def test_no_pruning_row_is_early_stopping_alone():
    row = _rows(none=lambda epochs: optuna.pruners.NopPruner())["none"]
    assert row.epochs_share == 1.0 and row.regret == 0.0 and row.top_pruned == 0
    assert row.no_skill_pruned == 1 / 4  # of 2, 3, 4, 6 only the diverged one stops
    assert row.no_skill_epoch == 2 and row.false_noise == 0


def test_columns_of_a_pruner_that_cuts_everything_above_28():
    row = _rows(cut=lambda epochs: optuna.pruners.ThresholdPruner(upper=28.0))["cut"]
    assert row.epochs_share == pytest.approx((1 + 1 + 1 + 1 + 2 + 6 + 1) / REFERENCE_EPOCHS)
    assert row.regret == pytest.approx(24.6 - 21)  # only curve 5 completes
    assert row.top_pruned == 4  # curves 0, 1, 6, 3 of the top five 0, 1, 5, 6, 3
    assert row.no_skill_pruned == 1.0 and row.no_skill_epoch == 1
    assert row.false_noise == 0  # prunes not labelled noise


def _nearly_always_noise(epochs: int) -> NoiseAwarePruner:
    """No drop is ever large enough, except on a noiseless line (curve 6 until epoch 6)."""
    return NoiseAwarePruner(
        warmup_steps=3,
        noise_steps=3,
        min_drop=1e9,
        skill_margin=0,
        min_trials=10**6,  # never "behind"
    )


def test_false_noise_counts_noise_labels_on_skilled_curves():
    row = _rows(noise=_nearly_always_noise)["noise"]
    assert row.epochs_share == pytest.approx((6 + 3 + 3 + 3 + 2 + 6 + 6) / REFERENCE_EPOCHS)
    assert row.regret == 0.0
    assert row.top_pruned == 3  # 1, 3 and 6
    assert row.no_skill_pruned == 1.0 and row.no_skill_epoch == 3  # epochs 3, 3, 2, 6
    assert row.false_noise == pytest.approx(1 / 3)  # curve 1, of skilled 0, 1, 5


def test_default_pruners_all_replay():
    rows = benchmark(BANK, patience=PATIENCE, orders=2)
    assert len(rows) == len(PRUNERS) and rows[0].epochs_share == 1.0
    assert all(0 < row.epochs_share <= 1.0 for row in rows)


def test_a_bank_too_small_is_refused():
    with pytest.raises(TunerError, match="too small"):
        benchmark(BANK[:5], patience=PATIENCE)


def test_false_noise_as_trained_ignores_skill_that_early_stopping_never_reaches():
    late_dip = [26, 27, 27.5, 26.5, 24.0, 26]  # below 25 only at epoch 5; stopped at 3
    bank = [*BANK, Curve({"i": 7}, late_dip, [1.0] * 6, BASELINE)]
    row = benchmark(bank, patience=PATIENCE, orders=2, pruners={"n": _nearly_always_noise})[0]
    assert row.false_noise == pytest.approx(2 / 4)  # curves 1 and 7 of skilled 0, 1, 5, 7
    assert row.false_noise_trained == pytest.approx(1 / 3)  # curve 1 of 0, 1, 5


TUNING_BANK = Path(__file__).parents[2] / "benchmarks" / "banks" / "beijing-plateau-seed0.jsonl"


def test_default_pruner_holds_its_row_on_the_bank_it_was_tuned_on():
    """benchmarks/README.md's row for this bank, so that a change cannot quietly undo it."""
    rows = benchmark(
        read_bank(TUNING_BANK),
        patience=load_space("lstm_baseline").training.patience,
        pruners={"d": PRUNERS["NoiseAwarePruner()"]},
    )
    row = rows[0]
    assert row.epochs_share <= 0.70 and row.regret <= 0.05 and row.top_pruned <= 0.1
    assert row.no_skill_pruned >= 0.85 and row.no_skill_epoch <= 6
    assert row.false_noise <= 0.03


def test_replay_is_repeatable_for_hyperband():
    """Hyperband picks brackets from the study's name: the replay must fix the name."""
    bank = read_bank(TUNING_BANK)
    hyperband = {"hb": PRUNERS["Hyperband"]}
    first, second = (benchmark(bank, patience=PATIENCE, orders=3, pruners=hyperband) for _ in "ab")
    assert first == second


def test_the_table_gives_regret_in_the_banks_unit():
    rows = benchmark(
        BANK, patience=3, orders=1, pruners={"none": PRUNERS["none (early stopping only)"]}
    )
    assert "regret (µg/m³)" in format_table(rows, "µg/m³")
    assert "regret (target units)" in format_table(rows, None)
