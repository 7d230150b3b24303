"""Input files of other steps for the bad-input tests: the series of benchmarks/series.py
and a few that must be refused."""

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import series
from tests.conftest import data_dir


def write_step_inputs(folder: Path) -> None:
    """Into `folder`: the shared series (NAME.csv), an irregular series, one of 15 minutes
    then hours off its grid (`ts`, `load`), and the daily series up to 2014-06-20."""
    series.write(folder, data_dir())
    rng = np.random.default_rng(0)
    jitter = pd.to_timedelta(np.cumsum(rng.integers(1, 600, 500)), "s")
    quarter = pd.date_range("2020-01-01", periods=200, freq="15min")
    hours = pd.date_range(quarter[-1] + pd.Timedelta("50min"), periods=300, freq="h")
    for name, times in (
        ("irregular", pd.Timestamp("2020-01-01") + jitter),
        ("mixed", quarter.append(hours)),
    ):
        load = np.sin(np.arange(len(times)) / 10)
        pd.DataFrame({"ts": times, "load": load}).to_csv(folder / f"{name}.csv", index=False)
    daily = pd.read_csv(folder / "beijing-daily.csv")
    daily[daily["date"] < "2014-06-21"].to_csv(folder / "short_val.csv", index=False)
