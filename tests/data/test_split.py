"""The chronological split: by dates, or 70/15/15 of the hours."""

import pandas as pd
import pytest

from tuner.data.split import chronological_split
from tuner.errors import TunerError


def test_default_split_is_70_15_15_by_time():
    index = pd.date_range("2020-01-01", periods=1000, freq="h")
    split = chronological_split(index)
    assert split.positions(index) == (700, 850)


def test_split_by_dates_and_its_errors():
    index = pd.date_range("2020-01-01", periods=24 * 30, freq="h")
    split = chronological_split(index, val_start="2020-01-20", test_start="2020-01-25")
    assert split.positions(index) == (19 * 24, 24 * 24)
    with pytest.raises(TunerError, match="not before"):
        chronological_split(index, val_start="2020-01-25", test_start="2020-01-20")
    with pytest.raises(TunerError, match="too few rows"):
        chronological_split(index, val_start="2019-01-01", test_start="2020-01-20")
    with pytest.raises(TunerError, match="not a date"):
        chronological_split(index, val_start="soon")
