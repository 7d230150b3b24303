"""Seeds for the streams of one run: the run's seed, then worker, trial and so on."""

from __future__ import annotations

import numpy as np


def derive_seed(*keys: int) -> int:
    """A 32-bit seed for `keys` (each 0 or more); other keys give an unrelated stream.

    Keys are hashed, not summed: a sum like `seed + 1000 * worker + trials_already_run`
    gives `--seed 1` with one trial in the study the stream of `--seed 2` on an empty one.
    """
    return int(np.random.SeedSequence(keys).generate_state(1)[0])
