"""The parts of `tuner predict` that decide what a row says, without Keras."""

import os

import numpy as np
import pandas as pd
import pytest

from tuner.deploy.predict import decimals_for, filled_hours, write_csv
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
