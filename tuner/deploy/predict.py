"""Export bundle + new CSV -> a forecast per origin with enough history, per step ahead.

Imports no Optuna and no search code: a bundle deploys where only Keras runs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from tuner.data.grid import HOUR, duration, regular, season
from tuner.data.load import load_csv
from tuner.data.preprocessing import encode
from tuner.data.sources import DataSpec, target_unit
from tuner.data.windows import input_windows
from tuner.deploy.bundle import model_path, read_bundle
from tuner.deploy.manifest import check_model_archive
from tuner.deploy.metadata import BundleMetadata
from tuner.deploy.publish import current_umask, read_pinned
from tuner.errors import TunerError

if TYPE_CHECKING:
    import keras


def predict_csv(model_dir: str | Path, data: str | Path) -> pd.DataFrame:
    """Forecasts in the target's units, one row per forecast origin and step ahead.

    Args:
        model_dir: a folder written by `tuner export`.
        data: a CSV with the columns the model was trained on (the target's own past
            included) and the same timestamps columns, one row per step of the bundle's
            series (`freq`); missing rows are filled as in training.

    Returns:
        Indexed by `time`, the origin (the last row of each input window with `seq_len`
        rows of history), origin by origin and step by step within one, with the columns
        `forecast_columns` names: the time forecast (`target_time`); the `step` ahead; the
        forecast, its unit in the name when tuner knows it; the value observed at
        `target_time`, the persistence forecast (the value at `time`) and the seasonal
        naive one (the value whole cycles before `target_time`, when the step has a cycle)
        where the file has them; and the input window's filled rows (`filled_hours` for an
        hourly bundle, else `filled_steps`). Values are rounded to a thousandth of the
        target's spread in training: finer digits are noise.
    """
    meta, model = load_bundle(model_dir)
    frame = _on_the_bundle_s_grid(data, meta)
    features = encode(frame, meta.preprocessing, source=str(data))
    origins = np.arange(meta.seq_len - 1, len(frame))
    windows = input_windows(features, origins, meta.seq_len)
    predicted = np.asarray(model.predict(windows, batch_size=1024, verbose=0))
    predicted = predicted.reshape(len(origins), -1)
    if predicted.shape[1] != len(meta.steps):
        raise TunerError(
            f"{model_dir}: its model gives {predicted.shape[1]} values per window; its "
            f"metadata says {len(meta.steps)} steps"
        )
    return _rows(frame, meta, origins, predicted)


def _on_the_bundle_s_grid(data: str | Path, meta: BundleMetadata) -> pd.DataFrame:
    """The file on the grid of the bundle's step; a file of another step is refused."""
    prep = meta.preprocessing
    frame = load_csv(data, target=None, time_col=meta.time_col, required=prep.columns)
    frame, step = regular(frame, freq=meta.freq, source=str(data), given_by="the bundle's step")
    if len(frame) < meta.seq_len:
        raise TunerError(
            f"{data}: {len(frame)} rows of {duration(step)}, fewer than the model's seq_len "
            f"{meta.seq_len}"
        )
    return frame


def _rows(
    frame: pd.DataFrame, meta: BundleMetadata, origins: np.ndarray, predicted: np.ndarray
) -> pd.DataFrame:
    """One row per origin and step: the forecast beside what was observed and the naive
    forecasts, origin-major."""
    steps = np.asarray(meta.steps, dtype="int64")
    n, k = len(origins), len(steps)
    origin = np.repeat(origins, k)
    target = origin + np.tile(steps, n)
    observed = pd.to_numeric(frame[meta.target], errors="coerce").to_numpy()
    names = forecast_columns(meta)
    columns = {
        names.target_time: frame.index[0] + pd.to_timedelta(target * meta.step.value, unit="ns"),
        names.step: np.tile(steps, n),
        names.forecast: predicted.reshape(-1).astype("float64"),
        names.observed: _at(observed, target),
        names.persistence: observed[origin],
    }
    cycle = season(meta.step)
    if names.seasonal is not None and cycle is not None:
        columns[names.seasonal] = _at(observed, target - cycle * -(-(target - origin) // cycle))
    filled = filled_hours(frame[list(meta.preprocessing.columns)], origins, meta.seq_len)
    columns[names.filled] = np.repeat(filled, k)
    forecast = pd.DataFrame(columns, index=frame.index[origin])
    # the model's output to the precision it has; the file's own values as the file has them
    decimals = decimals_for(meta.preprocessing.std[meta.target])
    return forecast.round({names.forecast: decimals})


def _at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`values[rows]`, NaN for a row before the first or after the last."""
    inside = (rows >= 0) & (rows < len(values))
    return np.where(inside, values[np.clip(rows, 0, len(values) - 1)], np.nan)


class ForecastColumns(NamedTuple):
    target_time: str
    step: str
    forecast: str
    observed: str
    persistence: str
    seasonal: str | None  # None when the bundle's step has no cycle
    filled: str


def forecast_columns(meta: BundleMetadata) -> ForecastColumns:
    """Column names of `predict_csv`'s result; the unit is named when tuner knows it."""
    spec = DataSpec(
        path=meta.dataset.get("file", ""),
        name=meta.dataset.get("name", ""),
        sha256=meta.dataset.get("sha256", ""),
        target=meta.target,
    )
    unit = target_unit(spec)
    return ForecastColumns(
        target_time="target_time",
        step="step",
        forecast=f"{meta.target}_forecast" + (f" ({unit})" if unit else ""),
        observed=f"{meta.target}_observed",
        persistence=f"{meta.target}_persistence",
        seasonal=f"{meta.target}_seasonal" if season(meta.step) is not None else None,
        filled="filled_hours" if meta.step == HOUR else "filled_steps",
    )


def filled_hours(inputs: pd.DataFrame, ends: np.ndarray, seq_len: int) -> np.ndarray:
    """For each window ending at row `ends[i]`: its rows with any input missing (filled)."""
    missing = inputs.isna().any(axis=1).to_numpy().astype("int64")
    totals = np.concatenate([[0], np.cumsum(missing)])
    return totals[ends + 1] - totals[ends + 1 - seq_len]


def decimals_for(spread: float) -> int:
    """Decimals that keep a thousandth of `spread` (a standard deviation) and no more."""
    if not np.isfinite(spread) or spread <= 0:
        return 6
    return max(0, int(np.ceil(-np.log10(spread / 1000))))


def write_csv(frame: pd.DataFrame, out: str | Path) -> None:
    """`frame` as a CSV at `out`, whole or not at all: a full disk leaves no half a file.

    It is written beside `out` and renamed over it, with the mode any other output gets.
    """
    out = Path(out)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except FileNotFoundError:
        raise TunerError(f"{out.parent}: no such folder") from None
    except OSError as e:
        raise TunerError(f"{out}: cannot write here: {e.strerror}") from e
    try:
        with os.fdopen(handle, "w", newline="") as f:
            frame.to_csv(f)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, out)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(e, OSError):
            raise TunerError(f"{out}: cannot write the forecasts: {e.strerror}") from e
        raise


def load_bundle(folder: str | Path) -> tuple[BundleMetadata, keras.Model]:
    """The metadata and the model of the bundle in `folder`, both from one version of it."""
    return read_pinned(folder, _load)


def _load(folder: Path) -> tuple[BundleMetadata, keras.Model]:
    """The metadata, checked, then the model in Keras's safe mode, which runs no code."""
    import keras

    meta = read_bundle(folder)
    check_model_archive(model_path(folder))
    try:
        model = keras.saving.load_model(model_path(folder), safe_mode=True)
    except (ValueError, TypeError, KeyError, OSError) as e:  # what Keras raises on bad files
        raise TunerError(f"{model_path(folder)}: refused: {_first_line(e)}") from e
    return meta, model


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
