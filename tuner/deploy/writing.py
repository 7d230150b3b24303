"""A bundle's files written in a hidden folder beside its destination, then published.

A failed export leaves the previous bundle as it was, and a reader never finds a
half-written one (`publish`). Besides `model.keras`, the bundle holds the same model as a
SavedModel and as ONNX (`convert`), the ONNX one checked against the Keras one on the
test windows before anything is published, its metadata and its model card.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import keras
import numpy as np

from tuner.deploy.bundle import (
    CARD_FILE,
    METADATA_FILE,
    MODEL_FILE,
    ONNX_FILE,
    SAVED_MODEL_DIR,
    SAVED_MODEL_VERSION,
)
from tuner.deploy.convert import ONNX_TOLERANCE, onnx_disagreement, write_formats
from tuner.deploy.metadata import BundleMetadata
from tuner.deploy.publish import publish, staging_folder
from tuner.deploy.scores import Scores
from tuner.errors import TunerError


def check_replaceable(out: Path) -> None:
    """Refuse a destination that is a file, or a folder of something other than a bundle."""
    if out.exists() and not out.is_dir():
        raise TunerError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / METADATA_FILE).is_file():
        raise TunerError(f"{out}: a non-empty folder that is not an export; will not replace it")


def check_writable(out: Path) -> None:
    """Refuse a destination whose folder cannot take a bundle, before anything trains."""
    try:
        shutil.rmtree(staging_folder(out))
    except OSError as e:
        raise TunerError(f"{out}: cannot write the bundle here: {e.strerror}") from e


def write_bundle(
    out: Path, model: keras.Model, meta: BundleMetadata, card: str, scores: Scores, scale: float
) -> None:
    """Publish `model`, in every format, with `meta` and `card` at `out`; `scores` holds the
    test forecasts the ONNX copy must reproduce, to within `ONNX_TOLERANCE` of `scale` (the
    target's spread) as well as relatively."""
    try:
        staging = staging_folder(out)
    except OSError as e:
        raise TunerError(f"{out}: cannot write the bundle here: {e.strerror}") from e
    try:
        _write_models(model, staging, scores.test_x, scores.test_forecast, scale)
        (staging / METADATA_FILE).write_text(meta.to_json())
        (staging / CARD_FILE).write_text(card)
        publish(staging, out)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise TunerError(f"{out}: cannot write the bundle: {e.strerror}") from e
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_models(
    model: keras.Model, folder: Path, x: np.ndarray, forecasts: np.ndarray, scale: float
) -> None:
    """`model.keras`, then the SavedModel and ONNX from it; ONNX must forecast `x` as Keras did."""
    model.save(folder / MODEL_FILE)
    saved_model = folder / SAVED_MODEL_DIR / SAVED_MODEL_VERSION
    write_formats(folder / MODEL_FILE, saved_model, folder / ONNX_FILE)
    tolerance = {"rtol": ONNX_TOLERANCE, "atol": ONNX_TOLERANCE * scale}
    differs = onnx_disagreement(folder / ONNX_FILE, x, forecasts, **tolerance)
    if differs:
        raise RuntimeError(f"{ONNX_FILE} does not forecast as {MODEL_FILE} does: {differs}")
