"""`fit_baseline`: LightGBM on lag features, real boosters, scored as persistence is scored."""

import copy
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_spec
from tuner.data import naive
from tuner.data.prepared import prepare
from tuner.data.sources import resolve
from tuner.errors import TunerError
from tuner.model.baseline import HISTORY, LAGS, feature_names, fit_baseline, lag_features

HOURS = 24 * 60
VAL_START, TEST_START = "2021-02-12", "2021-02-21"  # rows 1008 and 1224


def _series(hours: int = HOURS, *, seed: int = 0) -> pd.DataFrame:
    """A target with a strong lag-1 structure that persistence reads badly: it reverts
    halfway to its level every hour, pushed by a noisy input and a daily cycle."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2021-01-01", periods=hours, freq="h")
    push = rng.normal(0, 1, hours)
    load = np.empty(hours)
    load[0] = 50
    for t in range(1, hours):
        daily = 5 * np.sin(2 * np.pi * t / 24)
        load[t] = 50 + 0.5 * (load[t - 1] - 50) + daily + 4 * push[t - 1] + rng.normal(0, 1)
    # Unobserved targets: never trained on nor scored.
    load[[t for t in (30, 700, 1100, 1300) if t < hours]] = np.nan
    return pd.DataFrame(
        {
            "ts": times.strftime("%Y-%m-%d %H:%M"),
            "load": load,
            "push": push,
            "wind": rng.choice(["N", "S", "calm"], hours),
        }
    )


def _spec(tmp_path, frame: pd.DataFrame, *, name: str = "small.csv", horizon=1, every_step=False):
    split = {"val_start": VAL_START, "test_start": TEST_START, "horizon": horizon}
    return load_spec(tmp_path / name, frame, every_step=every_step, **split)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _spec(tmp_path_factory.mktemp("baseline"), _series())


# Features


def test_features_are_the_documented_values():
    rng = np.random.default_rng(1)
    raw = np.column_stack([rng.normal(size=(100, 2)), rng.integers(0, 2, (100, 1))])
    features = lag_features(raw, n_numeric=2)
    y, x, t = raw[:, 0], raw[:, 1], 60
    expected = {
        0: y[t],
        5: y[t - 5],
        LAGS - 1: y[t - LAGS + 1],
        LAGS: y[t] - y[t - 1],  # the first difference
        LAGS + 5: y[t] - y[t - 24],  # the last
        LAGS + 6: y[t - 2 : t + 1].mean(),  # rolling mean, max, std over 3 hours
        LAGS + 7: y[t - 2 : t + 1].max(),
        LAGS + 8: y[t - 2 : t + 1].std(),
        LAGS + 6 + 14: y[t - 47 : t + 1].std(),  # ... over 48 hours
        LAGS + 21: x[t],
        LAGS + 22: x[t] - x[t - 1],
        LAGS + 25: x[t] - x[t - 6],
        LAGS + 26: raw[t, 2],  # a one-hot column as it is
    }
    assert features.shape == (100, LAGS + 27)
    for column, value in expected.items():
        assert features[t, column] == pytest.approx(value), column
    assert np.isnan(features[HISTORY - 2, LAGS + 6 + 12])  # 47 hours: no 48-hour mean yet
    assert not np.isnan(features[HISTORY - 1 :]).any()


@pytest.mark.parametrize("t", [0, 10, 47, 48, 150, 298])
def test_features_read_only_the_past(t):
    rng = np.random.default_rng(t)
    raw = rng.normal(size=(300, 6))
    changed = raw.copy()
    changed[t + 1 :] = rng.normal(100, 50, size=changed[t + 1 :].shape)
    before, after = lag_features(raw, 3), lag_features(changed, 3)
    np.testing.assert_array_equal(before[: t + 1], after[: t + 1])  # NaN equals NaN here
    if t < 299:
        assert not np.array_equal(before[t + 1], after[t + 1], equal_nan=True)


def test_feature_names_match_the_columns(small):
    data = prepare(small)
    names = feature_names(data.prep)
    assert len(names) == lag_features(data.raw, len(data.prep.numeric)).shape[1]
    assert len(set(names)) == len(names)
    assert names[0] == "load[t-0]" and "push[t]-push[t-6]" in names and "wind=calm" in names


# Fitting


def _models(model) -> list[str]:
    return [booster.model_to_string() for booster in model.boosters]


def test_beats_persistence_on_a_strong_lag_one_structure(small):
    data = prepare(small, with_test=True)
    model = fit_baseline(data)
    origins, forecast = model.predict("val")
    np.testing.assert_array_equal(origins, data.scored_origins("val"))  # persistence's
    assert 1099 not in origins and forecast.shape == (len(origins), 1)
    for part in ("val", "test"):
        assert model.rmse(part) < 0.5 * data.persistence_rmse(part), part


@pytest.mark.parametrize(("horizon", "every_step"), [(1, False), (3, True)])
def test_the_test_part_is_never_read_when_fitting(tmp_path, horizon, every_step):
    poisoned = _series()
    poisoned.loc[1224:, "load"] = 1e6  # the test rows: if they were read, it would show
    poisoned.loc[1224:, "push"] = -1e6
    spec = _spec(tmp_path, poisoned, horizon=horizon, every_step=every_step)
    searched = fit_baseline(prepare(spec))
    exported = fit_baseline(prepare(spec, with_test=True))
    assert len(searched.boosters) == len(spec.steps)
    assert _models(searched) == _models(exported)
    assert searched.rmse("val") == exported.rmse("val")


def test_the_seed_decides_the_model(small):
    data = prepare(small)
    first, again, other = (fit_baseline(data, seed=s) for s in (0, 0, 1))
    assert _models(first) == _models(again)
    assert first.rmse("val") == again.rmse("val")
    assert _models(first) != _models(other)


def test_horizon_is_the_forecasts_distance(tmp_path):
    data = prepare(_spec(tmp_path, _series(), horizon=3), with_test=True)
    model = fit_baseline(data)
    origins, forecast = model.predict("test")
    np.testing.assert_array_equal(origins, data.scored_origins("test"))
    error = forecast[:, 0] - data.raw[origins + 3, 0]
    assert forecast.shape == (len(origins), 1)
    assert model.rmse("test") == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-12)
    assert model.rmse("test") < data.persistence_rmse("test")


def test_beijing_validation_beats_persistence(beijing_spec):
    data = prepare(beijing_spec)
    model = fit_baseline(data)
    assert data.persistence_rmse("val") == pytest.approx(24.863, abs=5e-4)
    assert model.rmse("val") == pytest.approx(22.547, abs=5e-4)  # as before several steps
    assert model.rmse_by_step("val") == (model.rmse("val"),)
    assert len(model.best_iterations) == 1 and 0 < model.best_iterations[0] < 5000


# Several steps ahead


@pytest.fixture(scope="module")
def every_step(tmp_path_factory):
    """Steps 1, 2 and 3 ahead of the small series, fitted once."""
    spec = _spec(tmp_path_factory.mktemp("steps"), _series(), horizon=3, every_step=True)
    data = prepare(spec, with_test=True)
    return data, fit_baseline(data)


def test_every_step_is_scored_on_persistences_origins(every_step):
    data, model = every_step
    assert data.steps == (1, 2, 3) and len(model.boosters) == 3
    for part in ("val", "test"):
        origins, forecast = model.predict(part)
        np.testing.assert_array_equal(origins, data.scored_origins(part))
        assert forecast.shape == (len(origins), 3) and np.isfinite(forecast).all()
    val_origins = set(model.predict("val")[0])
    assert not {1097, 1098, 1099} & val_origins  # the target at 1100 was missing
    assert {1096, 1100} <= val_origins


def test_the_rmse_is_over_every_step_and_origin(every_step):
    data, model = every_step
    origins, forecast = model.predict("test")
    observed = data.raw[origins[:, None] + np.array([1, 2, 3])[None, :], 0]
    np.testing.assert_allclose(observed, data.observed(origins), rtol=1e-6)
    error = forecast - observed
    assert model.rmse("test") == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-12)
    by_step = model.rmse_by_step("test")
    np.testing.assert_allclose(by_step, np.sqrt(np.mean(error**2, axis=0)), rtol=1e-12)
    assert model.rmse("test") == pytest.approx(np.sqrt(np.mean(np.square(by_step))))


def test_each_step_beats_persistence_on_a_series_with_signal(every_step):
    data, model = every_step
    origins = data.scored_origins("test")
    observed = data.observed(origins)
    persistence = naive.rmse_by_step(data.naive_forecasts(origins)["persistence"], observed)
    for step, ours, theirs in zip(data.steps, model.rmse_by_step("test"), persistence, strict=True):
        assert ours < 0.8 * theirs, step


def test_a_forecast_reads_nothing_after_its_origin(every_step):
    data, model = every_step
    origins = data.scored_origins("test")
    t = int(origins[len(origins) // 2])
    poisoned = copy.copy(data)
    poisoned.raw = data.raw.copy()
    poisoned.raw[t + 1 :, : len(data.prep.numeric)] = 1e6  # every step's target, and after
    stop = data.bounds("test")[1]
    before = model.forecast(origins, stop=stop)
    after = replace(model, data=poisoned).forecast(origins, stop=stop)
    np.testing.assert_array_equal(before[origins <= t], after[origins <= t])
    assert not np.array_equal(before[origins > t], after[origins > t])


def test_the_same_boosters_on_more_threads(every_step):
    data, model = every_step
    assert _models(fit_baseline(data, threads=3)) == _models(model)


# Errors


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_part_with_no_rows_is_a_one_line_error(small):
    model = fit_baseline(prepare(small))  # prepared without the test rows
    with pytest.raises(TunerError) as error:
        model.rmse("test")
    message = _one_line(error)
    assert "the test split (0 rows)" in message and "without the test rows" in message


def test_a_validation_part_with_no_observed_target_is_a_one_line_error(tmp_path):
    frame = _series()
    frame.loc[1008:1223, "load"] = np.nan
    with pytest.raises(TunerError) as error:
        fit_baseline(prepare(_spec(tmp_path, frame)))
    assert "the val split (216 rows) has no observed target" in _one_line(error)


def test_a_csv_too_short_for_the_features_is_a_one_line_error(tmp_path):
    frame = _series(hours=60)  # 42 training hours: less than the features' 48
    path = tmp_path / "short.csv"
    frame.to_csv(path, index=False)
    data = prepare(resolve(str(path), target="load", time_col="ts"))
    with pytest.raises(TunerError) as error:
        fit_baseline(data)
    assert f"{path}: too few rows: the train split (42 rows)" in _one_line(error)
