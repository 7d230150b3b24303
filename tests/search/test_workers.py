import pytest

from tuner.search.workers import core_groups, thread_settings


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
