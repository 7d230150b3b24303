"""Export bundle + new CSV -> one forecast per timestamp with enough history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.data import load_csv
from tuner.errors import TunerError
from tuner.export import METADATA
from tuner.frame import to_hourly
from tuner.preprocessing import Preprocessing, encode
from tuner.windows import make_windows


def read_metadata(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / METADATA
    if not (Path(model_dir) / "model.keras").is_file() or not path.is_file():
        raise TunerError(f"{model_dir}: not a tuner export (no model.keras and {METADATA})")
    try:
        meta = json.loads(path.read_text())
        Preprocessing.from_dict(meta["preprocessing"])
        int(meta["seq_len"]), int(meta["horizon"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise TunerError(f"{path}: not valid export metadata ({e})") from e
    return meta


def predict_csv(model_dir: Path, data: Path) -> pd.DataFrame:
    """Forecasts in target units, indexed by the last hour of each input window."""
    import keras

    meta = read_metadata(model_dir)
    prep = Preprocessing.from_dict(meta["preprocessing"])
    seq_len, horizon = int(meta["seq_len"]), int(meta["horizon"])
    frame = to_hourly(
        load_csv(data, target=None, time_col=meta.get("time_col"), required=prep.columns),
        source=str(data),
    )
    if len(frame) < seq_len:
        raise TunerError(f"{data}: {len(frame)} hours, fewer than the model's seq_len {seq_len}")
    features = encode(frame, prep, source=str(data))
    ends = np.arange(seq_len - 1, len(frame))
    windows = make_windows(features, features[:, 0], ends, seq_len=seq_len, horizon=0)
    model = keras.saving.load_model(Path(model_dir) / "model.keras", safe_mode=True)
    predicted = model.predict(windows.x, batch_size=1024, verbose=0).reshape(-1)
    index = frame.index[ends]
    return pd.DataFrame(
        {
            "target_time": index + pd.Timedelta(hours=horizon),
            f"{meta['target']}_forecast": predicted.astype("float64"),
        },
        index=index,
    )
