"""Series of other steps than the hour, made from the files in ../shared/data, for the tests,
the CI smoke and the benchmarks of `--freq`, `--horizon` and `--every-step`.

Usage: python benchmarks/series.py OUT_DIR [--data-dir DIR]

Writes each made series to OUT_DIR/NAME.csv and prints, per series, the `tuner run` flags
that read it. DIR defaults to $TUNER_DATA_DIR, else ../shared/data beside the checkout.

- `beijing-daily`: the Beijing file's daily means, 2010-2014 (1,826 days): `pm2.5` and the
  weather columns averaged over the day's hours, `cbwd` the day's most common direction; a
  `date` column; validation 2013, test 2014, as for the hourly file.
- `changping-15min`: the Changping station's hourly rows of March-May 2013, interpolated
  linearly to the quarter hour (8,829 rows, a `time` column; `wd` kept from the hour before).
  A real sub-hourly series is not among the shared files: this one is made by
  interpolation, so three steps of four lie on a line and persistence is hard to beat.
- The hourly series are the files as they are: `beijing` (built in) and both stations.

Only pandas and NumPy: the script runs in a virtual environment made from the wheel alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BEIJING_FILE = "PRSA_data_2010.1.1-2014.12.31.csv"
CHANGPING_FILE = "PRSA_Data_Changping_20130301-20170228.csv"
BEIJING_WEATHER = ("DEWP", "TEMP", "PRES", "Iws", "Is", "Ir")
QUARTER_HOURS_FROM, QUARTER_HOURS_TO = "2013-03-01", "2013-05-31 23:00"
DECIMALS = 3  # the sources' own precision is at most 2 decimals


def _hourly_times(raw: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(raw[["year", "month", "day", "hour"]]))


def daily(beijing_csv: str | Path) -> pd.DataFrame:
    """The Beijing file's days: means of `pm2.5` and the weather, `cbwd`'s commonest value.

    A day whose 24 `pm2.5` readings are all missing has a missing target, as in the file.
    A tie between wind directions goes to the first in alphabetical order.
    """
    raw = pd.read_csv(beijing_csv)
    day = _hourly_times(raw).normalize()
    numeric = raw[["pm2.5", *BEIJING_WEATHER]].groupby(day).mean().round(DECIMALS)
    wind = raw["cbwd"].groupby(day).agg(lambda v: sorted(v.mode())[0] if v.notna().any() else None)
    frame = numeric.join(wind.rename("cbwd"))
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.index.name = "date"
    return frame.reset_index()[
        ["date", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd", *BEIJING_WEATHER[3:]]
    ]


def quarter_hourly(
    station_csv: str | Path, *, start: str = QUARTER_HOURS_FROM, end: str = QUARTER_HOURS_TO
) -> pd.DataFrame:
    """A station's hours from `start` to `end`, linearly interpolated to the quarter hour.

    Each quarter hour lies on the line between its two hours; where either is missing, so
    is it, so no gap of the file is filled in. Text columns keep the earlier hour's value;
    `station` and `No`, constant or a counter, are left out.
    """
    raw = pd.read_csv(station_csv)
    raw.index = _hourly_times(raw)
    hours = raw.loc[start:end].drop(columns=["No", "year", "month", "day", "hour", "station"])
    numeric = hours.select_dtypes("number").astype("float64")
    values = numeric.to_numpy()
    fractions = np.array([0.0, 0.25, 0.5, 0.75])[None, :, None]
    between = (1 - fractions) * values[:-1, None, :] + fractions * values[1:, None, :]
    between[:, 0] = values[:-1]  # the hour itself, even when the next one is missing
    rows = np.concatenate([between.reshape(-1, values.shape[1]), values[-1:]])
    times = pd.date_range(hours.index[0], hours.index[-1], freq="15min")
    frame = pd.DataFrame(rows, index=times, columns=numeric.columns).round(DECIMALS)
    text = hours.drop(columns=numeric.columns).reindex(times, method="ffill")
    frame = frame.join(text)[list(hours.columns)]
    frame.index.name = "time"
    return frame.reset_index()


@dataclass(frozen=True)
class Series:
    """A series made from one source file, and the `tuner run` flags that read it."""

    name: str
    source: str
    make: Callable[[Path], pd.DataFrame]
    flags: tuple[str, ...]


SERIES = (
    Series(
        "beijing-daily",
        BEIJING_FILE,
        daily,
        ("--target", "pm2.5", "--time-col", "date")
        + ("--val-start", "2013-01-01", "--test-start", "2014-01-01"),
    ),
    Series(
        "changping-15min",
        CHANGPING_FILE,
        quarter_hourly,
        ("--target", "PM2.5", "--time-col", "time"),
    ),
)


def data_dir(environ=os.environ) -> Path:
    """$TUNER_DATA_DIR, else the shared data folder beside the checkout."""
    given = environ.get("TUNER_DATA_DIR")
    return Path(given) if given else Path(__file__).resolve().parents[2] / "shared" / "data"


def write(out: Path, source_dir: Path) -> dict[str, Path]:
    """Every series as OUT/NAME.csv; its path by name."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for series in SERIES:
        path = out / f"{series.name}.csv"
        series.make(source_dir / series.source).to_csv(path, index=False)
        written[series.name] = path
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder the CSVs are written to")
    parser.add_argument("--data-dir", type=Path, default=None, help="the source files' folder")
    args = parser.parse_args(argv)
    written = write(args.out, args.data_dir or data_dir())
    for series in SERIES:
        path = written[series.name]
        rows = sum(1 for _ in path.open()) - 1
        print(f"{path} ({rows} rows): tuner run --data {path} {' '.join(series.flags)}")


if __name__ == "__main__":
    sys.exit(main())
