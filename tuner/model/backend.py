"""The Keras backend is a setting, chosen before Keras is first imported."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

from tuner.errors import TunerError

BACKENDS = ("tensorflow", "jax")
DEFAULT_BACKEND = "jax"
# Least recently used entries go beyond this, far above what a 100-trial study writes
# (the measurement log at 992a9fa, `git show 992a9fa:benchmarks/README.md`, "Overhead per
# trial").
CACHE_MAX_BYTES = 2**30


def use_backend(name: str | None = None) -> str:
    """Select `name` (or `$TUNER_BACKEND`, or the default) for this process and its children.

    Child processes inherit `KERAS_BACKEND` through the environment, so the choice holds
    in every worker; so do the JAX compilation cache's settings
    (`compilation_cache_settings`), which a variable the user set already overrides.
    """
    name = name or os.environ.get("TUNER_BACKEND") or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise TunerError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise TunerError(
                f"Keras was already imported with the {keras.backend.backend()} backend; "
                f"set TUNER_BACKEND={name} before importing it"
            )
    os.environ["KERAS_BACKEND"] = name
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if name == "jax":
        for key, value in compilation_cache_settings(os.environ).items():
            os.environ.setdefault(key, value)
    return name


# Libraries whose own messages are noise on a user's terminal unless asked for (--verbose).
NOISY_LIBRARIES = ("tensorflow", "keras", "jax", "jaxlib", "absl", "tf2onnx", "h5py")


def silence_native_logs() -> None:
    """Keep the libraries' log lines off the terminal; tuner's own messages still reach it.

    TensorFlow, XLA and absl write from C++ straight to file descriptor 2, some of it
    before any setting of theirs is read (absl's "before InitializeLog" lines, CUDA probes
    on a machine without a GPU), so only the descriptor itself can be quieted: it goes to
    the null device, and Python's `sys.stderr` moves to a copy of the original, where
    tuner's errors, tracebacks and the progress bar go on. A `sys.stderr` that something
    else put in place (a notebook's, a test's capture) is left as it is. Their Python
    loggers and warnings are held to errors. Call it before Keras is imported; calling it
    again does nothing more.
    """
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module=rf"{name}(\.|$)")
    if os.path.samestat(os.fstat(2), os.stat(os.devnull)):
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    if sys.stderr is not sys.__stderr__:
        os.close(terminal)
        return
    encoding, errors = sys.stderr.encoding or "utf-8", sys.stderr.errors or "backslashreplace"
    sys.stderr = open(terminal, "w", buffering=1, encoding=encoding, errors=errors)


def compilation_cache_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """JAX's persistent compilation cache, in the user's cache folder, for every computation.

    Each trial compiles its training and validation steps and its weight initialisers
    for its own shapes, which costs as much as several epochs of a small model. A trial
    whose shapes were compiled before, by this worker, another one or an earlier run, reads
    them from disk instead. JAX caches only computations that took a second or more to
    compile by default, and the initialisers take less, so the threshold is 0 here. Its own
    variables turn it off (`JAX_ENABLE_COMPILATION_CACHE=false`) or move it.
    """
    root = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return {
        "JAX_COMPILATION_CACHE_DIR": str(root / "tuner" / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_COMPILATION_CACHE_MAX_SIZE": str(CACHE_MAX_BYTES),
    }
