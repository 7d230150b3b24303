"""CSV -> time-indexed frame: columns, dtypes, timestamps (to hourly rows: test_hourly)."""

import pandas as pd
import pytest

from tests.conftest import write_csv
from tuner.data.load import load_csv
from tuner.errors import TunerError

HEADER = "No,year,month,day,hour,load,temp,wind"


def _rows(n, start="2020-01-01", load=lambda i: 10 + i % 7):
    times = pd.date_range(start, periods=n, freq="h")
    winds = ["N", "S", "E"]
    return "\n".join(
        f"{i + 1},{t.year},{t.month},{t.day},{t.hour},{load(i)},{i % 5},{winds[i % 3]}"
        for i, t in enumerate(times)
    )


def test_load_sorts_by_time_and_drops_time_columns(tmp_path):
    lines = _rows(5).splitlines()
    path = write_csv(tmp_path / "d.csv", HEADER + "\n" + "\n".join(reversed(lines)))
    frame = load_csv(path, target="load")
    assert list(frame.columns) == ["No", "load", "temp", "wind"]
    assert frame.index.is_monotonic_increasing and frame.index[0] == pd.Timestamp("2020-01-01")


def test_time_column(tmp_path):
    path = write_csv(tmp_path / "d.csv", "ts,load\n2020-01-01 01:00,2\n2020-01-01 00:00,1")
    frame = load_csv(path, target="load", time_col="ts")
    assert frame["load"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "text, target, message",
    [
        (HEADER + "\n" + _rows(3), "pm", "no column 'pm'"),
        (
            HEADER + "\n" + _rows(3, load=lambda i: "x" if i == 1 else i),
            "load",
            "column 'load' has 1 non-numeric",
        ),
        ("a,load\n1,2", "load", "no time columns"),
        (HEADER + "\n" + _rows(2) + "\n" + _rows(1), "load", "duplicate timestamps"),
        ("No,year,month,day,hour,load\n1,2020,13,1,0,5", "load", "unreadable timestamp"),
        ("", "load", "cannot read as CSV"),
        ("ts,load,temp\n2020-01-01 00:00,1,inf", "load", "column 'temp' has 1 infinite values"),
        (
            "ts,load,temp\n2020-01-01 00:00,1e39,1",
            "load",
            "column 'load' has 1 values beyond ±3.4e\\+38, the range of the model's 32-bit",
        ),
    ],
)
def test_bad_data_is_one_line(tmp_path, text, target, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(TunerError, match=message) as error:
        load_csv(path, target=target)
    assert "\n" not in str(error.value)


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(TunerError, match="no such file"):
        load_csv(tmp_path / "nope.csv", target="load")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00load\n\x80\x81")
    with pytest.raises(TunerError, match="cannot read"):
        load_csv(binary, target="load")


def test_a_numeric_column_with_stray_text_is_refused(tmp_path):
    text = HEADER + "\n" + _rows(30)
    text = text.replace(",3,N\n", ",oops,N\n", 1)
    with pytest.raises(TunerError, match="column 'temp' has 1 non-numeric"):
        load_csv(write_csv(tmp_path / "d.csv", text), target="load")


def test_names_from_the_file_are_escaped_in_the_message(tmp_path):
    path = write_csv(tmp_path / "d.csv", '"\x1b[2J",load\n1,2')
    with pytest.raises(TunerError) as error:
        load_csv(path, target="pm2.5")
    assert "(has: \\x1b[2J, load)" in str(error.value) and str(error.value).isprintable()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2014,1,1,0,1\n,1,1,1,2\n2014,1,1,2,3", "1 rows have an unreadable timestamp"),
        ("2014,1,1,0,1\n2014,1,1,24,2", "1 rows have an unreadable timestamp"),
        ("2014,1,1,0,1\n2014,1,1,0.5,2", "1 rows have an unreadable timestamp"),
        ("2014,1,1,0,1\n1e30,1,1,0,2", "1 rows have an unreadable timestamp"),
    ],
)
def test_calendar_parts_missing_or_out_of_range_are_unreadable(tmp_path, rows, message):
    path = write_csv(tmp_path / "d.csv", "year,month,day,hour,load\n" + rows)
    with pytest.raises(TunerError, match=message):
        load_csv(path, target="load")


def test_a_time_column_is_not_a_target(tmp_path):
    path = write_csv(tmp_path / "d.csv", HEADER + "\n" + _rows(3))
    with pytest.raises(TunerError, match="the target 'year' is a time column"):
        load_csv(path, target="year")
