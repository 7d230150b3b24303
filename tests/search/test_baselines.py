"""`missing_baselines` on a study of several steps: each baseline overall and step by step,
on real data and real boosters."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_spec
from tuner.data import naive
from tuner.data.prepared import prepare
from tuner.model.baseline import fit_baseline
from tuner.search import attrs
from tuner.search.baselines import missing_baselines

NAMES = {"persistence", "seasonal", "boosting"}


def _data(tmp_path, rows: int, *, freq: str = "h", horizon: int = 3):
    """A daily cycle under noise that half reverts each step: every baseline has skill."""
    rng = np.random.default_rng(0)
    times = pd.date_range("2021-01-01", periods=rows, freq=freq)
    hours = (times - times[0]) / pd.Timedelta(hours=1)
    noise = np.zeros(rows)
    for t in range(1, rows):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 2)
    load = 50 + 10 * np.sin(2 * np.pi * hours / 24) + noise
    frame = pd.DataFrame({"ts": times.strftime("%Y-%m-%d %H:%M"), "load": load})
    spec = load_spec(tmp_path / f"load-{freq}.csv", frame, horizon=horizon, every_step=True)
    return prepare(spec)


@pytest.fixture(scope="module")
def hourly(tmp_path_factory):
    data = _data(tmp_path_factory.mktemp("hourly"), 24 * 40)
    return data, missing_baselines({}, data)


def test_every_baseline_is_recorded_overall_and_by_step(hourly):
    data, found = hourly
    assert data.steps == (1, 2, 3) and data.season == 24
    assert found[attrs.PERSISTENCE_VAL_RMSE] == data.persistence_rmse("val")
    by_step = found[attrs.BASELINES_VAL_BY_STEP]
    assert by_step.keys() == NAMES
    assert all(len(v) == 3 and all(isinstance(x, float) for x in v) for v in by_step.values())
    overall = {"persistence": attrs.PERSISTENCE_VAL_RMSE, "seasonal": attrs.SEASONAL_VAL_RMSE}
    overall["boosting"] = attrs.BOOSTING_VAL_RMSE
    for name, key in overall.items():  # the RMSE over every step is the steps' together
        assert found[key] == pytest.approx(np.sqrt(np.mean(np.square(by_step[name])))), name
    assert by_step["persistence"][0] < by_step["persistence"][2]  # further is harder
    assert by_step["boosting"][2] < by_step["persistence"][2]


def test_the_baselines_are_the_forecasts_they_name(hourly):
    data, found = hourly
    origins = data.scored_origins("val")
    y = data.raw[:, 0]
    targets = origins[:, None] + np.array([1, 2, 3])[None, :]
    seasonal = naive.rmse_by_step(y[targets - 24], y[targets])  # a day before each target
    by_step = found[attrs.BASELINES_VAL_BY_STEP]
    np.testing.assert_allclose(by_step["seasonal"], seasonal, rtol=1e-5)
    persistence = naive.rmse_by_step(np.repeat(y[origins][:, None], 3, axis=1), y[targets])
    np.testing.assert_allclose(by_step["persistence"], persistence, rtol=1e-5)
    boosting = fit_baseline(data)
    assert by_step["boosting"] == list(boosting.rmse_by_step("val"))
    assert found[attrs.BOOSTING_VAL_RMSE] == boosting.rmse("val")


def test_a_study_keeps_the_baselines_it_has(hourly):
    data, found = hourly
    assert missing_baselines(found, data) == {}
    without = {k: v for k, v in found.items() if k != attrs.BASELINES_VAL_BY_STEP}
    assert missing_baselines(without, data) == {
        attrs.BASELINES_VAL_BY_STEP: found[attrs.BASELINES_VAL_BY_STEP]
    }


def test_without_a_cycle_there_is_no_seasonal_baseline(tmp_path):
    data = _data(tmp_path, 500, freq="7h")  # 7 hours: no whole number of steps in a day
    assert data.season is None
    found = missing_baselines({}, data)
    assert attrs.SEASONAL_VAL_RMSE not in found
    assert found[attrs.BASELINES_VAL_BY_STEP].keys() == {"persistence", "boosting"}


def test_boosting_that_cannot_be_fitted_is_left_out_step_by_step_too(tmp_path):
    data = _data(tmp_path, 60)  # 42 training hours: none with 48 hours of history
    found = missing_baselines({}, data)
    assert attrs.BOOSTING_VAL_RMSE not in found
    assert found[attrs.BASELINES_VAL_BY_STEP].keys() == {"persistence", "seasonal"}
