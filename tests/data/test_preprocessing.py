"""Training rows -> `Preprocessing`; `encode` applies it to any rows, filling from the past."""

import numpy as np
import pandas as pd
import pytest

from tuner.data.preprocessing import Preprocessing, calendar_terms, encode, fit_preprocessing
from tuner.errors import TunerError

HOURLY_TERMS = ("hour_sin", "hour_cos", "doy_sin", "doy_cos")


def _frame(n=6, start="2020-01-01"):
    index = pd.date_range(start, periods=n, freq="h", name="time")
    return pd.DataFrame(
        {
            "No": np.arange(1, n + 1),  # a row counter: not a feature
            "temp": np.resize([3.0, 1.5, 4.0, 2.5, 5.0, 0.5], n),
            "flat": np.full(n, 3.0),  # constant in training: not a feature
            "y": np.arange(n, dtype="float64") * 2,
            "wind": ["N", "S"] * (n // 2),
        },
        index=index,
    )


def test_features_are_chosen_and_scaled_from_training_rows():
    prep = fit_preprocessing(_frame(), "y")
    assert prep.numeric == ("y", "temp") and prep.categories == {"wind": ("N", "S")}
    assert prep.features == ("y", "temp", "wind=N", "wind=S", *HOURLY_TERMS)
    assert prep.mean["y"] == pytest.approx(5.0) and prep.std["y"] == pytest.approx(
        np.std(_frame().y)
    )
    assert Preprocessing.from_dict(prep.to_dict()) == prep


def test_encode_fills_from_the_past_and_zeroes_unseen_categories():
    prep = fit_preprocessing(_frame(), "y")
    later = _frame(start="2020-02-01")
    later.loc[later.index[2], "temp"] = np.nan
    later.loc[later.index[3], "wind"] = "E"  # not seen in training
    x = encode(later, prep)
    assert x[2, 1] == x[1, 1]  # the gap takes the hour before, never the hour after
    assert x[3, 2:4].tolist() == [0.0, 0.0]
    assert x.dtype == np.float32 and x.shape == (6, len(prep.features))


def test_a_constant_target_is_refused():
    frame = _frame()
    frame["y"] = 1.0
    with pytest.raises(TunerError, match="target 'y' is constant"):
        fit_preprocessing(frame, "y")


def test_a_column_the_model_needs_is_required():
    prep = fit_preprocessing(_frame(), "y")
    with pytest.raises(TunerError, match="no column 'temp'"):
        encode(_frame().drop(columns=["temp"]), prep, source="new.csv")


def test_the_calendar_terms_follow_the_step():
    assert calendar_terms(pd.Timedelta("15min")) == calendar_terms(pd.Timedelta("1h"))
    assert calendar_terms(pd.Timedelta("1h")) == ("day", "year")
    assert calendar_terms(pd.Timedelta("1D")) == ("week", "year")
    assert calendar_terms(pd.Timedelta("7D")) == ("year",)


def test_a_daily_series_reads_the_day_of_week_and_a_quarter_hour_its_time_of_day():
    daily = _frame(n=14).set_axis(pd.date_range("2024-01-01", periods=14, freq="D"))
    prep = fit_preprocessing(daily, "y", pd.Timedelta("1D"))
    assert prep.features[-4:] == ("dow_sin", "dow_cos", "doy_sin", "doy_cos")
    x = encode(daily, prep)
    np.testing.assert_allclose(x[0, -4:-2], x[7, -4:-2], atol=1e-6)  # Monday, then Monday
    assert not np.allclose(x[0, -4:-2], x[1, -4:-2])
    quarter = _frame(n=8).set_axis(pd.date_range("2024-01-01", periods=8, freq="15min"))
    prep = fit_preprocessing(quarter, "y", pd.Timedelta("15min"))
    x = encode(quarter, prep)
    angle = 2 * np.pi * 0.25 / 24  # 00:15
    np.testing.assert_allclose(x[1, -4:-2], [np.sin(angle), np.cos(angle)], atol=1e-6)
    assert Preprocessing.from_dict(prep.to_dict()) == prep


def test_a_bundle_written_before_calendar_terms_reads_as_hourly():
    recorded = fit_preprocessing(_frame(), "y").to_dict()
    del recorded["calendar"]
    assert Preprocessing.from_dict(recorded).features[-4:] == HOURLY_TERMS
