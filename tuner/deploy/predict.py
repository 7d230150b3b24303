"""Export bundle + new CSV -> one forecast per hour with enough history.

Imports no Optuna and no search code: a bundle deploys where only Keras runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tuner.data.hourly import to_hourly
from tuner.data.load import load_csv
from tuner.data.preprocessing import encode
from tuner.data.windows import make_windows
from tuner.deploy.bundle import (
    BundleMetadata,
    check_model_archive,
    model_path,
    read_bundle,
    read_pinned,
)
from tuner.errors import TunerError

if TYPE_CHECKING:
    import keras


def predict_csv(model_dir: str | Path, data: str | Path) -> pd.DataFrame:
    """Forecasts in target units, indexed by the last hour of each input window.

    Args:
        model_dir: a folder written by `tuner export`.
        data: a CSV with the columns the model was trained on (the target's own past
            included) and the same timestamps columns.

    Returns:
        One row per hour that has `seq_len` hours of history: `target_time` (the hour
        forecast) and `<target>_forecast`.
    """
    meta, model = read_pinned(model_dir, _load)
    prep = meta.preprocessing
    frame = to_hourly(
        load_csv(data, target=None, time_col=meta.time_col, required=prep.columns),
        source=str(data),
    )
    if len(frame) < meta.seq_len:
        raise TunerError(
            f"{data}: {len(frame)} hours, fewer than the model's seq_len {meta.seq_len}"
        )
    features = encode(frame, prep, source=str(data))
    ends = np.arange(meta.seq_len - 1, len(frame))
    windows = make_windows(features, features[:, 0], ends, seq_len=meta.seq_len, horizon=0)
    predicted = model.predict(windows.x, batch_size=1024, verbose=0).reshape(-1)
    index = frame.index[ends]
    return pd.DataFrame(
        {
            "target_time": index + pd.Timedelta(hours=meta.horizon),
            f"{meta.target}_forecast": predicted.astype("float64"),
        },
        index=index,
    )


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
