"""The exported bundle: its files and its metadata, written by export and read by predict.

A bundle is a folder:
- `model.keras`: raw feature windows in, the target in its own units out;
- `model.onnx`: the same model for ONNX Runtime;
- `saved_model/1/`: the same model as a TensorFlow SavedModel (signature `serve`), in
  the versioned layout TensorFlow Serving reads (`saved_model/` is its base path);
- `metadata.json`: a `BundleMetadata`, everything predict must apply to a CSV;
- `README.md`: a model card for people;
- `SHA256SUMS`: the sha256 of every other file, written when the bundle is published
  (`sha256sum -c SHA256SUMS` in the folder checks it too).

This module names the files and reads a bundle as predict does; `manifest` vouches for
the files, `metadata` for `metadata.json`, and `publish` puts a bundle in place.

Reading a bundle imports neither Optuna nor Keras. A bundle may come from anywhere, so the
reader vouches for it before anything is parsed, unzipped or loaded: regular files only,
none outside the folder, sizes bounded, every checksum right and no file unlisted; then
every field of the metadata is checked. Anything else is refused in one line.
"""

from __future__ import annotations

import os
from pathlib import Path

from tuner.deploy.manifest import read_regular, verify_files
from tuner.deploy.metadata import MAX_METADATA_BYTES, BundleMetadata, parse_metadata
from tuner.errors import TunerError

MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"
SAVED_MODEL_DIR = "saved_model"  # TensorFlow Serving's base path: one folder per version
SAVED_MODEL_VERSION = "1"
METADATA_FILE = "metadata.json"
DEFAULT_FOLDER = "results/best"  # where `tuner export` writes unless told
CARD_FILE = "README.md"


def read_bundle(folder: str | Path) -> BundleMetadata:
    """The metadata of the bundle in `folder`, after checking that it is one.

    Args:
        folder: a folder written by `tuner export`.

    Raises:
        TunerError: not a bundle; a link, special file or file too large in it; a file
            missing, unlisted or changed since export (`SHA256SUMS`); metadata malformed or
            of another format version.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise TunerError(f"{folder}: no such folder")
    if not (os.path.lexists(folder / MODEL_FILE) and os.path.lexists(folder / METADATA_FILE)):
        raise TunerError(f"{folder}: not a tuner export (no {MODEL_FILE} and {METADATA_FILE})")
    sizes = verify_files(folder)
    for name in (MODEL_FILE, METADATA_FILE):
        if name not in sizes:
            raise TunerError(f"{folder / name}: not a file")
    path = folder / METADATA_FILE
    if sizes[METADATA_FILE] > MAX_METADATA_BYTES:
        raise TunerError(f"{path}: {sizes[METADATA_FILE]} bytes, too large for export metadata")
    return parse_metadata(read_regular(path), source=str(path))


def model_path(folder: str | Path) -> Path:
    return Path(folder) / MODEL_FILE
