"""`model.keras` -> the same model as a TensorFlow SavedModel and as ONNX, and their check.

Both files are written under the TensorFlow backend, whatever backend trained the model:
Keras converts to ONNX through tf2onnx there (under JAX it would need jax2onnx and its
dependencies), and a SavedModel written from JAX is one XLA call that tf2onnx cannot read
and only a recent TensorFlow Serving runs. A process picks its backend once, so a child
process under TensorFlow loads `model.keras` and writes both.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tuner.errors import TunerError
from tuner.model.backend import use_backend

MODULE = "tuner.deploy.convert"
# What writing and checking the two formats imports; all are tuner's own dependencies.
REQUIRED = ("tensorflow", "tf2onnx", "onnx", "onnxruntime")
# ONNX Runtime's forecasts must be within this of the Keras model's, relative to the
# forecast, plus the same fraction of the target's standard deviation (float32 rounding,
# which the model's last layer scales by it).
ONNX_TOLERANCE = 1e-4


def check_installed() -> None:
    """Refuse in one line, before any work, when a package the formats need is missing."""
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        one = len(missing) == 1
        raise TunerError(
            f"{', '.join(missing)} {'is' if one else 'are'} not installed, and export needs "
            f"{'it' if one else 'them'} to write the SavedModel and ONNX files: "
            f"pip install {' '.join(missing)}"
        )


def write_formats(model_file: Path, saved_model: Path, onnx_file: Path) -> None:
    """Write `saved_model` (a SavedModel folder) and `onnx_file` from `model_file`."""
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TUNER_BACKEND": "tensorflow"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    child = subprocess.run(
        [sys.executable, "-m", MODULE, str(model_file), str(saved_model), str(onnx_file)],
        env=env,
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        # A traceback ends with its error's own line.
        lines = child.stderr.strip().splitlines()
        raise TunerError(
            f"writing {saved_model.name} and {onnx_file.name} under TensorFlow failed "
            f"(exit {child.returncode}): {lines[-1] if lines else 'no message'}"
        )


def onnx_disagreement(
    onnx_file: Path, x: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float
) -> str | None:
    """What differs between ONNX Runtime's forecasts for `x` and `expected`, or None.

    `x` and `expected` are real windows and the Keras model's forecasts for them, (n,
    len(steps)), so that a conversion that changed the model is caught before the bundle is
    published.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1:
        return f"{len(inputs)} inputs ({', '.join(i.name for i in inputs)}), not 1"
    got = np.asarray(session.run(None, {inputs[0].name: x.astype(np.float32)})[0])
    got = got.reshape(len(x), -1)
    expected = np.asarray(expected).reshape(len(x), -1)
    if got.shape != expected.shape:
        return f"{got.shape[1]} values per window, not {expected.shape[1]}"
    off = np.abs(got - expected) > atol + rtol * np.abs(expected)
    if not off.any():
        return None
    window, column = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
    where = f"window {window}" + (f", output {column}" if got.shape[1] > 1 else "")
    return (
        f"{int(off.sum())} of {expected.size} forecasts differ, at most "
        f"{abs(got[window, column] - expected[window, column]):.3g} ({where})"
    )


def main(argv: list[str] | None = None) -> None:
    """The child: `python -m tuner.deploy.convert MODEL_FILE SAVED_MODEL ONNX_FILE`."""
    model_file, saved_model, onnx_file = argv or sys.argv[1:]
    use_backend("tensorflow")
    import keras

    model = keras.saving.load_model(model_file, safe_mode=True)
    model(np.zeros((1, *model.input_shape[1:]), dtype=np.float32))  # Keras exports called models
    model.export(saved_model, format="tf_saved_model", verbose=False)
    model.export(onnx_file, format="onnx", verbose=False)


if __name__ == "__main__":
    main()
