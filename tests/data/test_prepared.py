"""`prepare`: a small CSV -> the scaled series, its split and its windows, checked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_spec
from tuner.data.prepared import TargetScales, prepare, target_scales
from tuner.errors import TunerError

HOURS = 24 * 30
VAL_START, TEST_START = "2021-01-21", "2021-01-26"  # rows 480 and 600


@pytest.fixture
def raw() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    times = pd.date_range("2021-01-01", periods=HOURS, freq="h")
    load = 50 + 10 * np.sin(np.arange(HOURS) / 5) + rng.normal(0, 1, HOURS)
    load[[3, 100, 500, 650]] = np.nan  # unobserved targets: never trained on nor scored
    frame = pd.DataFrame(
        {
            "ts": times.strftime("%Y-%m-%d %H:%M"),
            "load": load,
            "temp": rng.normal(5, 3, HOURS),
            "wind": rng.choice(["N", "S"], HOURS),
        }
    )
    frame.loc[HOURS - 10 :, "load"] = 1e6  # the test split's values: they must not leak
    return frame


def _spec(tmp_path, raw, horizon=1, **more):
    split = {"val_start": VAL_START, "test_start": TEST_START, "horizon": horizon, **more}
    return load_spec(tmp_path / "small.csv", raw, **split)


def test_statistics_come_from_the_training_rows_and_test_rows_stay_out(tmp_path, raw):
    data = prepare(_spec(tmp_path, raw))
    assert len(data.index) == 600 and data.index[-1] == pd.Timestamp("2021-01-25 23:00")
    train = raw["load"][:480]
    assert data.target_mean == pytest.approx(train.mean())
    assert data.target_std == pytest.approx(train.std(ddof=0), rel=1e-6)
    assert data.prep.features[:2] == ("load", "temp")  # the target's own past first
    assert data.n_features == len(data.prep.features) == data.x.shape[1]
    assert np.abs(data.x[:480, 0][data.known[:480]]).max() < 5  # standardised


def test_with_test_only_export_sees_the_test_rows(tmp_path, raw):
    searched, exported = (
        prepare(_spec(tmp_path, raw)),
        prepare(_spec(tmp_path, raw), with_test=True),
    )
    assert len(exported.index) == HOURS
    assert exported.target_mean == searched.target_mean  # the same training statistics
    assert len(exported.windows("test", 6)) == 120 - 1  # row 650 unobserved
    assert exported.windows("test", 6).origins.min() == 600 - 1


def test_windows_hold_the_past_of_observed_targets_and_are_built_once(tmp_path, raw):
    data = prepare(_spec(tmp_path, raw, horizon=2))
    train, val = data.windows("train", 6), data.windows("val", 6)
    assert data.windows("train", 6) is train and data.windows("train", 12) is not train
    targets = train.origins + 2
    assert targets.min() == 6 + 2 - 1 and 3 not in targets and 100 not in targets
    targets = val.origins + 2
    assert targets.min() == 480 and targets.max() == 599 and 500 not in targets
    origin = val.origins[0]
    np.testing.assert_array_equal(train.x.shape[1:], (6, data.n_features))
    np.testing.assert_allclose(val.x[0], data.x[origin - 5 : origin + 1])  # ends at its origin
    assert val.y.shape == (len(val), 1) and val.y[0, 0] == data.y[origin + 2]


def test_raw_windows_are_the_same_windows_unscaled(tmp_path, raw):
    data = prepare(_spec(tmp_path, raw))
    scaled, unscaled = data.windows("val", 4), data.raw_windows("val", 4)
    np.testing.assert_array_equal(scaled.origins, unscaled.origins)
    origin = unscaled.origins[0]
    assert unscaled.x[0, -1, 0] == pytest.approx(raw["load"][origin], rel=1e-6)
    assert unscaled.x[0, -1, 1] == pytest.approx(raw["temp"][origin], rel=1e-6)


def test_target_units_undo_the_scaling(tmp_path, raw):
    data = prepare(_spec(tmp_path, raw))
    rows = data.windows("train", 1).origins[:20] + 1
    np.testing.assert_allclose(data.to_target_units(data.y[rows]), raw["load"][rows], rtol=1e-5)


def test_persistence_is_scored_on_observed_targets_in_target_units(tmp_path, raw):
    for horizon in (1, 3):
        data = prepare(_spec(tmp_path, raw, horizon=horizon))
        load = raw["load"].to_numpy()
        filled = pd.Series(load).ffill().to_numpy()  # inputs are filled from the past
        rows = [r for r in range(480, 600) if not math.isnan(load[r])]
        expected = math.sqrt(np.mean([(filled[r - horizon] - load[r]) ** 2 for r in rows]))
        assert data.persistence_rmse("val") == pytest.approx(expected, rel=1e-4)
        np.testing.assert_array_equal(data.scored_origins("val") + horizon, rows)


def test_bounds_and_scored_origins_without_and_with_the_test_rows(tmp_path, raw):
    searched = prepare(_spec(tmp_path, raw))
    exported = prepare(_spec(tmp_path, raw), with_test=True)
    assert searched.bounds("train") == exported.bounds("train") == (0, 480)
    assert searched.bounds("val") == exported.bounds("val") == (480, 600)
    assert searched.bounds("test") == (600, 600) and len(searched.scored_origins("test")) == 0
    assert exported.bounds("test") == (600, HOURS)
    assert len(exported.scored_origins("test")) == 120 - 1  # row 650 unobserved
    targets = searched.scored_origins("train") + 1
    assert targets[0] == 1 and 3 not in targets


def test_too_few_rows_for_a_window_names_the_split(tmp_path, raw):
    data = prepare(_spec(tmp_path, raw))
    data.check_enough_rows(479)  # one training window: the target at row 479
    with pytest.raises(
        TunerError, match=r"the train split \(480 rows\) has no window for seq_len 480"
    ):
        data.check_enough_rows(480)


def test_every_step_windows_and_persistence_score_each_step_on_the_same_origins(tmp_path, raw):
    data = prepare(_spec(tmp_path, raw, horizon=3, every_step=True), with_test=True)
    val = data.windows("val", 6)
    assert data.steps == (1, 2, 3) and val.y.shape == (len(val), 3)
    for origin, targets in zip(val.origins[:5], val.y[:5], strict=True):
        np.testing.assert_array_equal(targets, data.y[origin + 1 : origin + 4])
    origins = data.scored_origins("val")
    reached = (origins[:, None] + np.arange(1, 4)).ravel()
    assert reached.min() >= 480 and reached.max() < 600 and 500 not in reached
    load = pd.Series(raw["load"].to_numpy()).ffill().to_numpy()
    errors = [[load[o] - raw["load"][o + s] for s in (1, 2, 3)] for o in origins]
    expected = math.sqrt(np.mean(np.square(errors)))
    assert data.persistence_rmse("val") == pytest.approx(expected, rel=1e-4)
    naive = data.naive_forecasts(origins)
    np.testing.assert_allclose(naive["persistence"][:, 2], load[origins], rtol=1e-5)
    np.testing.assert_allclose(naive["seasonal"][:, 0], load[origins + 1 - 24], rtol=1e-5)
    np.testing.assert_allclose(data.observed(origins)[:, 1], raw["load"][origins + 2], rtol=1e-5)


def test_the_target_s_moves_are_measured_on_the_training_rows_in_standardised_units(tmp_path, raw):
    searched = prepare(_spec(tmp_path, raw, horizon=2, every_step=True))
    exported = prepare(_spec(tmp_path, raw, horizon=2, every_step=True), with_test=True)
    load = pd.Series(raw["load"].to_numpy()[:480]).ffill().bfill().to_numpy()  # as the inputs
    std = raw["load"][:480].std(ddof=0)
    origins = [o for o in range(478) if not {o + 1, o + 2} & {3, 100}]  # targets observed
    expected = [np.std([load[o + s] - load[o] for o in origins]) / std for s in (1, 2)]
    scales = searched.target_scales
    assert scales.changes == pytest.approx(expected, rel=1e-4)
    assert scales.difference == pytest.approx(np.std(np.diff(load)) / std, rel=1e-4)
    assert scales.changes[0] < scales.changes[1] < 1  # this series moves little per hour
    assert exported.target_scales == scales  # the test rows' values change nothing


def test_a_target_that_never_moves_has_a_unit_of_one():
    flat = np.zeros(10, dtype="float32")
    assert target_scales(flat, np.arange(8), (1, 2)) == TargetScales(1.0, (1.0, 1.0))
    assert target_scales(flat[:1], np.arange(0), (1,)) == TargetScales(1.0, (1.0,))


def test_a_horizon_longer_than_the_validation_or_test_split_is_refused(tmp_path, raw):
    prepare(_spec(tmp_path, raw, horizon=120))  # the validation split's 120 hours: allowed
    with pytest.raises(
        TunerError, match=r"--horizon 121 \(121 hours\) is longer than the validation"
    ):
        prepare(_spec(tmp_path, raw, horizon=121, every_step=True))
