"""Time-indexed rows -> a regular frame at the series' step: the step told or given, every
step present, the gap policy's limits."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import write_csv
from tuner.data.grid import (
    MAX_STEPS_PER_ROW,
    duration,
    freq_alias,
    parse_freq,
    regular,
    season,
)
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
    hourly, step = regular(frame)
    assert step == pd.Timedelta(hours=1)
    assert list(hourly.index) == list(pd.date_range("2020-01-01", periods=6, freq="h"))
    assert hourly.index.name == "time"
    assert hourly["load"].tolist()[:2] == [1.0, 2.0] and hourly["load"].tolist()[4:] == [5.0, 6.0]
    assert hourly["load"].isna().tolist() == [False, False, True, True, False, False]
    assert hourly["wind"].isna().sum() == 2 and hourly.loc["2020-01-01 05:00", "wind"] == "N"


@pytest.mark.parametrize("freq", ["15min", "h", "D"])
def test_a_regular_frame_is_unchanged_and_its_step_told(freq):
    frame = _frame(pd.date_range("2020-03-01", periods=48, freq=freq))
    gridded, step = regular(frame)
    pd.testing.assert_frame_equal(gridded, frame, check_freq=False)
    assert step == parse_freq(freq) and regular(frame, freq=freq)[1] == step


def test_a_daily_file_with_missing_days_is_daily_not_mostly_gaps(tmp_path):
    days = pd.date_range("2020-01-01", periods=730, freq="D").delete([5, 6, 100])
    text = "\n".join(["date,sales", *(f"{d:%Y-%m-%d},{i}" for i, d in enumerate(days))])
    frame, step = regular(
        load_csv(write_csv(tmp_path / "d.csv", text), target="sales", time_col="date")
    )
    assert step == pd.Timedelta(days=1) and len(frame) == 730 and frame["sales"].isna().sum() == 3


def test_missing_hours_from_a_file_become_missing_rows(tmp_path):
    header = "No,year,month,day,hour,load"
    times = pd.date_range("2020-01-01", periods=6, freq="h")
    lines = [f"{i},{t.year},{t.month},{t.day},{t.hour},{10 + i}" for i, t in enumerate(times)]
    del lines[2:4]
    path = write_csv(tmp_path / "d.csv", "\n".join([header, *lines]))
    frame, _ = regular(load_csv(path, target="load"))
    assert len(frame) == 6 and frame["load"].isna().sum() == 2


def test_no_rows_or_one_row_is_refused():
    with pytest.raises(TunerError, match="^d.csv: no rows$"):
        regular(_frame([]), source="d.csv")
    with pytest.raises(TunerError, match="^d.csv: 1 row.s.: the step between rows cannot be told"):
        regular(_frame(["2020-01-01"]), source="d.csv")


def test_timestamps_off_the_usual_step_s_grid_are_refused_naming_the_first():
    times = pd.date_range("2020-01-01", periods=10, freq="h").append(
        pd.DatetimeIndex(["2020-01-01 10:30"])
    )
    with pytest.raises(
        TunerError, match="1 timestamps are off the grid of the usual step, 1 hour,"
    ) as e:
        regular(_frame(times))
    assert "(first: 2020-01-01 10:30:00)" in str(e.value)


def test_irregular_timestamps_are_refused_in_one_line_saying_what_was_found():
    rng = np.random.default_rng(0)
    times = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 600, 200)), "s")
    with pytest.raises(TunerError, match="step between rows cannot be told: the commonest gaps"):
        regular(_frame(times))


def test_a_mix_of_steps_is_refused():
    quarter = pd.date_range("2020-01-01", periods=40, freq="15min")
    hourly = pd.date_range(quarter[-1] + pd.Timedelta(minutes=50), periods=60, freq="h")
    with pytest.raises(TunerError, match="off the grid of the usual step, 1 hour, from"):
        regular(_frame(quarter.append(hourly)))
    thirds = pd.date_range("2020-01-01", periods=30, freq="15min")
    for step in ("30min", "h"):
        thirds = thirds.append(pd.date_range(thirds[-1], periods=31, freq=step)[1:])
    with pytest.raises(
        TunerError, match=r"cannot be told: the commonest gaps are .*15 minutes \(3\d%\)"
    ):
        regular(_frame(thirds))
    assert regular(_frame(thirds), freq="15min")[0].shape[0] == 30 + 60 + 120


def test_a_freq_that_contradicts_the_timestamps_is_refused():
    frame = _frame(pd.date_range("2020-01-01", periods=48, freq="15min"))
    with pytest.raises(
        TunerError,
        match="--freq h contradicts the timestamps: the closest rows are 15 minutes apart",
    ):
        regular(frame, freq="h")
    hourly = _frame(pd.date_range("2020-01-01", periods=48, freq="h"))
    with pytest.raises(TunerError, match="--freq 15min contradicts the timestamps"):
        regular(hourly, freq="15min")
    shifted = _frame(
        pd.date_range("2020-01-01", periods=48, freq="h").append(
            pd.DatetimeIndex(["2020-01-03 00:30"])
        )
    )
    with pytest.raises(TunerError, match="1 timestamps are off the grid of --freq h"):
        regular(shifted, freq="h")
    with pytest.raises(TunerError, match="--freq: 'MS' is not a fixed step"):
        regular(hourly, freq="MS")


def test_gaps_up_to_the_limit_are_filled_and_beyond_it_refused():
    start = pd.Timestamp("2020-01-01")
    second = start + pd.Timedelta(hours=1)
    last = start + pd.Timedelta(hours=3 * MAX_STEPS_PER_ROW - 1)  # 3 rows, 30 hours: the limit
    assert len(regular(_frame([start, second, last]), freq="h")[0]) == 3 * MAX_STEPS_PER_ROW
    with pytest.raises(TunerError, match="3 rows spread over 31 steps of 1 hour"):
        regular(_frame([start, second, last + pd.Timedelta(hours=1)]), freq="h")


def test_a_file_that_is_mostly_gaps_is_refused_before_it_is_filled_in(tmp_path):
    text = "ts,load\n2014-01-01 00:00,1\n2014-01-01 01:00,2\n2014-01-01 02:00,2\n2104-01-01 00:00,3"
    path = write_csv(tmp_path / "d.csv", text)
    with pytest.raises(TunerError, match="4 rows spread over 788905 steps .* check the timestamps"):
        regular(load_csv(path, target="load", time_col="ts"))


def test_the_words_and_aliases_of_a_step():
    assert [duration(pd.Timedelta(v)) for v in ("15min", "1h", "24h", "90min")] == [
        "15 minutes",
        "1 hour",
        "1 day",
        "90 minutes",
    ]
    for freq in ("15min", "h", "D", "7D", "2h"):
        assert freq_alias(parse_freq(freq)) == freq
    assert [season(pd.Timedelta(v)) for v in ("15min", "1h", "1D", "7D", "7min")] == [
        96,
        24,
        7,
        None,
        None,
    ]
