"""Time-indexed rows -> a regular hourly frame: every hour present, the gap policy's limits."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import write_csv
from tuner.data.hourly import MAX_HOURS_PER_ROW, to_hourly
from tuner.data.load import load_csv
from tuner.errors import TunerError


def _frame(times, **columns) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(times), name="time")
    columns = columns or {"load": np.arange(len(index), dtype="float64")}
    return pd.DataFrame(columns, index=index)


def test_missing_hours_become_rows_of_missing_values_and_the_rest_is_kept():
    frame = _frame(
        ["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 04:00", "2020-01-01 05:00"],
        load=[1.0, 2.0, 5.0, 6.0],
        wind=["N", "S", "E", "N"],
    )
    hourly = to_hourly(frame)
    assert list(hourly.index) == list(pd.date_range("2020-01-01", periods=6, freq="h"))
    assert hourly.index.name == "time"
    assert hourly["load"].tolist()[:2] == [1.0, 2.0] and hourly["load"].tolist()[4:] == [5.0, 6.0]
    assert hourly["load"].isna().tolist() == [False, False, True, True, False, False]
    assert hourly["wind"].isna().sum() == 2 and hourly.loc["2020-01-01 05:00", "wind"] == "N"


def test_a_regular_frame_is_unchanged():
    frame = _frame(pd.date_range("2020-03-01", periods=48, freq="h"))
    pd.testing.assert_frame_equal(to_hourly(frame), frame, check_freq=False)


def test_missing_hours_from_a_file_become_missing_rows(tmp_path):
    header = "No,year,month,day,hour,load"
    times = pd.date_range("2020-01-01", periods=6, freq="h")
    lines = [f"{i},{t.year},{t.month},{t.day},{t.hour},{10 + i}" for i, t in enumerate(times)]
    del lines[2:4]
    path = write_csv(tmp_path / "d.csv", "\n".join([header, *lines]))
    frame = to_hourly(load_csv(path, target="load"))
    assert len(frame) == 6 and frame["load"].isna().sum() == 2


def test_no_rows_is_refused():
    with pytest.raises(TunerError, match="^d.csv: no rows$"):
        to_hourly(_frame([]), source="d.csv")


def test_off_hour_timestamps_are_refused_naming_the_first():
    frame = _frame(["2020-01-01 00:00", "2020-01-01 00:30", "2020-01-01 01:15"])
    with pytest.raises(TunerError, match="2 timestamps are not on the hour") as error:
        to_hourly(frame)
    assert "(first: 2020-01-01 00:30:00)" in str(error.value)


def test_off_hour_timestamps_from_a_file_are_refused(tmp_path):
    path = write_csv(tmp_path / "d.csv", "ts,load\n2020-01-01 00:30,1\n2020-01-01 01:00,2")
    with pytest.raises(TunerError, match="not on the hour"):
        to_hourly(load_csv(path, target="load", time_col="ts"))


def test_gaps_up_to_the_limit_are_filled_and_beyond_it_refused():
    start = pd.Timestamp("2020-01-01")
    last = start + pd.Timedelta(hours=2 * MAX_HOURS_PER_ROW - 1)  # 2 rows, 20 hours: the limit
    assert len(to_hourly(_frame([start, last]))) == 2 * MAX_HOURS_PER_ROW
    with pytest.raises(TunerError, match="2 rows spread over 21 hours"):
        to_hourly(_frame([start, last + pd.Timedelta(hours=1)]))


def test_a_file_that_is_mostly_gaps_is_refused_before_it_is_filled_in(tmp_path):
    text = "ts,load\n2014-01-01 00:00,1\n2014-01-01 01:00,2\n2104-01-01 00:00,3"  # a typo
    path = write_csv(tmp_path / "d.csv", text)
    with pytest.raises(TunerError, match="3 rows spread over 788905 hours .* check the timestamps"):
        to_hourly(load_csv(path, target="load", time_col="ts"))
