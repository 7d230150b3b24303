"""The test-split figures' arithmetic: error by hour of day, which weeks, gaps kept."""

import math

import numpy as np
import pandas as pd
import pytest

from tuner.review.forecasts import (
    Forecasts,
    StepForecasts,
    hourly_week,
    rmse_by_hour,
    week_starts,
)


def test_rmse_by_hour():
    hours = np.array([0, 0, 1, 23])
    observed = np.array([10.0, 10.0, 5.0, 1.0])
    predicted = np.array([13.0, 6.0, 5.0, 3.0])  # errors 3, -4 at hour 0; 0 at 1; 2 at 23
    by_hour = rmse_by_hour(hours, observed, predicted)
    assert by_hour.shape == (24,)
    assert by_hour[0] == pytest.approx(math.sqrt(12.5)) and by_hour[1] == 0.0
    assert by_hour[23] == 2.0 and np.isnan(by_hour[2:23]).all()


def test_the_hours_together_are_the_whole_rmse():
    rng = np.random.default_rng(0)
    times = pd.date_range("2014-01-01", periods=24 * 30, freq="h")
    observed, model = rng.normal(size=len(times)), rng.normal(size=len(times))
    forecast = Forecasts(times, observed, model, np.roll(observed, 1))
    by_hour = rmse_by_hour(np.asarray(times.hour), observed, model)
    assert math.sqrt(np.mean(by_hour**2)) == pytest.approx(forecast.rmse()[0])


@pytest.mark.parametrize(
    ("first", "last", "count", "expected"),
    [
        # a year: its first week, one in the middle, its last whole week
        ("2014-01-01", "2014-12-31 23:00", 3, ["2014-01-01", "2014-06-28", "2014-12-24"]),
        ("2014-01-01 05:00", "2014-01-20", 3, ["2014-01-01", "2014-01-13"]),  # room for two
        ("2014-01-01", "2014-01-05", 3, ["2014-01-01"]),  # less than a week
        ("2014-01-01", "2014-01-09", 3, ["2014-01-01"]),  # 8 to 13 days: room for one
        ("2014-01-01", "2014-01-14", 3, ["2014-01-01"]),
        ("2014-01-01", "2014-12-31", 1, ["2014-01-01"]),
    ],
)
def test_week_starts(first, last, count, expected):
    starts = week_starts(pd.Timestamp(first), pd.Timestamp(last), count)
    assert starts == [pd.Timestamp(s) for s in expected]


def test_a_week_keeps_its_gaps():
    times = pd.date_range("2014-01-01", periods=48, freq="h").delete([5, 6])
    values = np.arange(len(times), dtype="float64")
    week = hourly_week(Forecasts(times, values, values, values), pd.Timestamp("2014-01-01"))
    assert len(week) == 7 * 24 and list(week.columns) == ["observed", "model", "persistence"]
    assert week["observed"].isna().sum() == 7 * 24 - 46
    assert np.isnan(week["model"].iloc[5]) and week["model"].iloc[7] == 5.0


def test_each_step_s_forecasts_and_the_rmse_over_every_step():
    origins = pd.date_range("2014-01-01", periods=4, freq="15min")
    observed = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 5.0]])
    model = observed + np.array([[1.0, 3.0]])  # off by 1 at step 1, by 3 at step 2
    persistence = np.repeat(observed[:, :1], 2, axis=1)
    seasonal = observed - 2
    both = StepForecasts(
        origins, (1, 2), pd.Timedelta(minutes=15), observed, model,
        {"persistence": persistence, "seasonal": seasonal},
    )  # fmt: skip
    assert both.by_step() == {
        "model": (1.0, 3.0), "persistence": (0.0, 1.0), "seasonal": (2.0, 2.0),
    }  # fmt: skip
    assert both.rmse() == pytest.approx((math.sqrt(5), math.sqrt(0.5)))
    second = both.at(1)
    assert list(second.times) == list(origins + pd.Timedelta(minutes=30))
    assert second.model.tolist() == [5.0, 6.0, 7.0, 8.0] and second.persistence.tolist() == [
        1,
        2,
        3,
        4,
    ]
    week = hourly_week(second, pd.Timestamp("2014-01-01"))
    assert len(week) == 7 * 24 * 4 and week["model"].iloc[2] == 5.0
