"""`tuner predict`: what a row says, and real bundles of one step or several on real files."""

import os

import numpy as np
import pandas as pd
import pytest

from tests.deploy import tiny
from tuner.data.load import load_csv
from tuner.data.preprocessing import encode
from tuner.data.windows import input_windows
from tuner.deploy.predict import decimals_for, filled_hours, load_bundle, predict_csv, write_csv
from tuner.errors import TunerError


def test_filled_hours_counts_the_window_s_hours_with_any_missing_input():
    inputs = pd.DataFrame(
        {
            "pm2.5": [np.nan, np.nan, 3.0, 4.0, 5.0, np.nan, 7.0],
            "TEMP": [1.0, 1.0, 1.0, np.nan, 1.0, 1.0, 1.0],
        }
    )
    ends = np.arange(2, 7)  # windows of 3 hours: rows 0-2, 1-3, ..., 4-6
    assert filled_hours(inputs, ends, seq_len=3).tolist() == [2, 2, 1, 2, 1]


def test_a_whole_window_of_filled_hours():
    inputs = pd.DataFrame({"x": [np.nan] * 4 + [1.0]})
    assert filled_hours(inputs, np.array([3, 4]), seq_len=4).tolist() == [4, 3]


@pytest.mark.parametrize(
    ("spread", "decimals"),
    [(92.0, 2), (1000.0, 0), (12_000.0, 0), (0.05, 5), (8.5, 3), (0.0, 6), (np.nan, 6)],
)
def test_decimals_keep_a_thousandth_of_the_spread(spread, decimals):
    assert decimals_for(spread) == decimals


def test_forecasts_are_written_whole_or_not_at_all(tmp_path):
    frame = pd.DataFrame({"a": [1, 2]})
    write_csv(frame, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text() == ",a\n0,1\n1,2\n"
    with pytest.raises(TunerError, match="missing: no such folder"):
        write_csv(frame, tmp_path / "missing" / "f.csv")
    (tmp_path / "folder").mkdir()
    with pytest.raises(TunerError, match="folder: cannot write the forecasts: Is a directory"):
        write_csv(frame, tmp_path / "folder")
    assert sorted(os.listdir(tmp_path)) == ["f.csv", "folder"]  # no temporary file left


# Real bundles: a tiny Keras model of one output per step, on files of its own step.

SPLIT = {"val_start": "2021-01-02", "test_start": "2021-01-03"}


@pytest.fixture(scope="module")
def hourly(tmp_path_factory):
    """A single-step hourly bundle, 3 hours ahead, and a new file of 60 hours."""
    folder = tmp_path_factory.mktemp("hourly")
    data = tiny.prepared(folder, tiny.series(24 * 4, "h"), horizon=3, **SPLIT)
    meta = tiny.metadata(data, seq_len=6, freq="h")
    new = tiny.series(60, "h", seed=1)
    new.loc[[10, 11], "load"] = np.nan
    new.to_csv(folder / "new.csv", index=False)
    return tiny.bundle(folder / "bundle", tiny.model(data, 6), meta), folder / "new.csv", new


@pytest.fixture(scope="module")
def quarter_hours(tmp_path_factory):
    """A bundle of every quarter hour up to 2 hours ahead, and a new file of 2 days."""
    folder = tmp_path_factory.mktemp("quarter")
    frame = tiny.series(4 * 24 * 4, "15min")
    data = tiny.prepared(folder, frame, horizon=8, every_step=True, **SPLIT)
    meta = tiny.metadata(data, seq_len=12, freq="15min")
    new = tiny.series(4 * 24 * 2, "15min", seed=2)
    new.to_csv(folder / "new.csv", index=False)
    return tiny.bundle(folder / "bundle", tiny.model(data, 12), meta), folder / "new.csv", new


def _model_forecasts(bundle, csv, seq_len):
    """The bundle's own model on the file's windows, (origins, steps)."""
    meta, model = load_bundle(bundle)
    frame = load_csv(csv, target=None, time_col="ts")
    x = input_windows(
        encode(frame, meta.preprocessing), np.arange(seq_len - 1, len(frame)), seq_len
    )
    return model.predict(x, verbose=0)


def test_a_single_step_hourly_bundle_writes_a_row_per_hour_as_before(hourly):
    bundle, csv, new = hourly
    forecast = predict_csv(bundle, csv)
    assert forecast.index.name == "time"
    assert list(forecast.columns) == [
        "target_time", "step", "load_forecast", "load_observed", "load_persistence",
        "load_seasonal", "filled_hours",
    ]  # fmt: skip
    assert len(forecast) == 60 - 6 + 1 and (forecast["step"] == 3).all()
    assert (forecast["target_time"] - forecast.index == pd.Timedelta(hours=3)).all()
    load = new["load"].to_numpy()
    origins = np.arange(5, 60)
    assert np.allclose(forecast["load_persistence"], load[origins], equal_nan=True, atol=1e-3)
    observed = np.where(origins + 3 < 60, load[np.minimum(origins + 3, 59)], np.nan)
    assert np.allclose(forecast["load_observed"], observed, equal_nan=True, atol=1e-3)
    seasonal = np.where(origins + 3 >= 24, load[np.maximum(origins + 3 - 24, 0)], np.nan)
    assert np.allclose(forecast["load_seasonal"], seasonal, equal_nan=True, atol=1e-3)
    assert forecast["filled_hours"].tolist()[:12] == [0] * 5 + [1] + [2] * 5 + [1]
    expected = _model_forecasts(bundle, csv, 6)
    assert np.allclose(forecast["load_forecast"], expected.reshape(-1), atol=1e-3)


def test_every_step_bundle_writes_a_row_per_origin_and_step(quarter_hours):
    bundle, csv, new = quarter_hours
    forecast = predict_csv(bundle, csv)
    origins, steps = np.arange(11, len(new)), np.arange(1, 9)
    assert len(forecast) == len(origins) * 8
    assert forecast["step"].tolist()[:10] == [1, 2, 3, 4, 5, 6, 7, 8, 1, 2]
    ahead = forecast["target_time"] - forecast.index
    assert (ahead == forecast["step"] * pd.Timedelta(minutes=15)).all()
    assert "filled_steps" in forecast.columns and "filled_hours" not in forecast.columns
    load = new["load"].to_numpy()
    first = forecast.iloc[:8]  # the first origin, row 11, every step
    assert np.allclose(first["load_observed"], load[11 + steps], atol=1e-3)
    assert np.allclose(first["load_persistence"], load[11], atol=1e-3)
    assert first["load_seasonal"].isna().all()  # a day back is before the file
    last_day = forecast[forecast.index == forecast.index[0] + pd.Timedelta(days=1)]
    row = 11 + 96
    assert np.allclose(last_day["load_seasonal"], load[row + steps - 96], atol=1e-3)
    expected = _model_forecasts(bundle, csv, 12)
    assert expected.shape == (len(origins), 8)
    assert np.allclose(forecast["load_forecast"], expected.reshape(-1), atol=1e-3)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda f: f.iloc[::4],
            "the bundle's step 15min contradicts the timestamps: the closest rows are 1 hour",
        ),
        (
            lambda f: f.assign(ts=f["ts"].where(f.index != 20, "2021-01-01 05:07")).drop([19, 21]),
            "1 timestamps are off the grid of the bundle's step 15min from 2021-01-01 00:00:00 "
            "\\(first: 2021-01-01 05:07:00\\)",
        ),
    ],
)
def test_a_file_of_another_step_is_refused_in_one_line(quarter_hours, tmp_path, edit, message):
    bundle, _, new = quarter_hours
    edit(new).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(TunerError, match=message) as error:
        predict_csv(bundle, tmp_path / "other.csv")
    assert "\n" not in str(error.value)


def test_too_short_a_file_says_rows_of_the_bundle_s_step(quarter_hours, tmp_path):
    bundle, _, new = quarter_hours
    new.head(5).to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(TunerError, match="5 rows of 15 minutes, fewer than the model's seq_len 12"):
        predict_csv(bundle, tmp_path / "short.csv")
