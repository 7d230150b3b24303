"""Export bundle + new CSV -> one forecast per hour with enough history.

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

from tuner.data.grid import regular
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
    """Forecasts in the target's units, indexed by `time`, the last hour of each input window.

    Args:
        model_dir: a folder written by `tuner export`.
        data: a CSV with the columns the model was trained on (the target's own past
            included) and the same timestamps columns.

    Returns:
        One row per hour that has `seq_len` hours of history, with the columns
        `forecast_columns` names: the hour forecast (`target_time`); the forecast, its unit
        in the name when tuner knows it; the value observed at `target_time` and the
        persistence forecast (the value at `time`) where the file has them; and
        `filled_hours`, the hours of the input window in which some input was missing from
        the file and filled from another hour. Values are rounded to a thousandth of the
        target's spread in training: finer digits are noise.
    """
    meta, model = load_bundle(model_dir)
    prep = meta.preprocessing
    frame, _ = regular(
        load_csv(data, target=None, time_col=meta.time_col, required=prep.columns),
        freq="h",
        source=str(data),
    )
    if len(frame) < meta.seq_len:
        raise TunerError(
            f"{data}: {len(frame)} hours, fewer than the model's seq_len {meta.seq_len}"
        )
    features = encode(frame, prep, source=str(data))
    ends = np.arange(meta.seq_len - 1, len(frame))
    windows = input_windows(features, ends, meta.seq_len)
    predicted = model.predict(windows, batch_size=1024, verbose=0).reshape(-1)
    index = frame.index[ends]
    target_time = index + pd.Timedelta(hours=meta.horizon)
    observed = pd.to_numeric(frame[meta.target], errors="coerce")
    names = forecast_columns(meta)
    forecast = pd.DataFrame(
        {
            names.target_time: target_time,
            names.forecast: predicted.astype("float64"),
            names.observed: observed.reindex(target_time).to_numpy(),
            names.persistence: observed.to_numpy()[ends],
            names.filled_hours: filled_hours(frame[list(prep.columns)], ends, meta.seq_len),
        },
        index=index,
    )
    decimals = decimals_for(prep.std[meta.target])
    values = (names.forecast, names.observed, names.persistence)
    return forecast.round(dict.fromkeys(values, decimals))


class ForecastColumns(NamedTuple):
    target_time: str
    forecast: str
    observed: str
    persistence: str
    filled_hours: str


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
        forecast=f"{meta.target}_forecast" + (f" ({unit})" if unit else ""),
        observed=f"{meta.target}_observed",
        persistence=f"{meta.target}_persistence",
        filled_hours="filled_hours",
    )


def filled_hours(inputs: pd.DataFrame, ends: np.ndarray, seq_len: int) -> np.ndarray:
    """For each window ending at row `ends[i]`: its hours with any input missing (filled)."""
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
