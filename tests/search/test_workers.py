import os

import pytest

from tuner.data.sources import DataSpec
from tuner.search.space import load_space
from tuner.search.study import RunConfig
from tuner.search.workers import core_groups, thread_settings, usable_cores

SPEC = DataSpec(path="data.csv", name="data", sha256="0" * 64, target="y")


@pytest.mark.parametrize(
    "cores, jobs, groups",
    [
        ([0, 1], 1, [{0, 1}]),
        ([0, 1], 2, [{0}, {1}]),
        ([0, 1, 2, 3], 2, [{0, 2}, {1, 3}]),
        ([3, 5], 3, [{3}, {5}, {3}]),  # more workers than cores: they share
    ],
)
def test_core_groups(cores, jobs, groups):
    assert core_groups(cores, jobs) == groups


def test_thread_settings_hold_every_library_to_the_share():
    one = thread_settings(1)
    assert one["OMP_NUM_THREADS"] == one["TF_NUM_INTRAOP_THREADS"] == "1"
    assert "--xla_cpu_multi_thread_eigen=false" in one["XLA_FLAGS"]
    assert "intra_op_parallelism_threads=2" in thread_settings(2)["XLA_FLAGS"]


def test_without_an_affinity_call_every_core_is_usable(monkeypatch):
    """macOS has no sched_getaffinity: `--help` and `run` must not need it."""
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert usable_cores() == [0, 1, 2]
    assert RunConfig(data=SPEC, space=load_space("lstm_baseline")).jobs == 3
