"""Resident memory over successive trials, with and without tuner's `fresh_session`.

Usage: python benchmarks/session_memory.py  (JAX backend; prints MB after every 3 models)

Each "trial" builds, fits (one epoch on random windows) and drops one single-LSTM model,
as tuner's objective does; the two columns differ only in how the session is reset.
"""

import gc
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tuner.model.network import build_model  # noqa: E402
from tuner.model.params import ModelParams, TrainingSettings  # noqa: E402
from tuner.model.training import fresh_session  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def trials(reset, n: int = 16) -> list[float]:
    x = np.random.default_rng(0).random((4096, 12, 15), dtype="float32")
    y = x[:, -1, 0]
    seen = []
    for i in range(n):
        reset()
        model = build_model(ModelParams(8 + i, 12, 1e-3, 256), 15, TrainingSettings(1, 1))
        model.fit(x, y, batch_size=256, epochs=1, validation_data=(x[:512], y[:512]), verbose=0)
        del model
        gc.collect()
        seen.append(rss_mb())
    return seen


if __name__ == "__main__":
    for name, reset in (
        ("clear_session", keras.backend.clear_session),
        ("fresh_session", fresh_session),
    ):
        seen = trials(reset)
        growth = (seen[-1] - seen[2]) / (len(seen) - 3)
        print(
            f"{name}: {seen[2]:.0f} MB after 3 trials, {seen[-1]:.0f} MB after {len(seen)}, "
            f"{growth:.1f} MB per trial"
        )
