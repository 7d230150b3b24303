"""The Keras backend is a setting, chosen before Keras is first imported."""

from __future__ import annotations

import os
import sys

from tuner.errors import TunerError

BACKENDS = ("tensorflow", "jax")
DEFAULT_BACKEND = "jax"


def use_backend(name: str | None = None) -> str:
    """Select `name` (or `$TUNER_BACKEND`, or the default) for this process and its children.

    Child processes inherit `KERAS_BACKEND` through the environment, so the choice holds
    in every worker.
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
    return name
