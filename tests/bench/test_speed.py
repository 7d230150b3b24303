import json

import pytest

from tuner.bench.speed import EpochTimes, Throughput, format_tables


def test_ratios_and_table():
    epochs = [EpochTimes("jax", 1000, tuner_s=0.20, bare_s=0.19)]
    runs = [Throughput(1, 10, 600.0), Throughput(2, 17, 600.0)]
    assert epochs[0].ratio == pytest.approx(0.95)
    assert runs[0].per_hour == 60.0 and runs[1].per_hour == 102.0
    table = format_tables(epochs, runs)
    assert "| jax | 0.200 | 0.190 | 0.950 |" in table
    assert "| 2 | 17 | 600 | 102 | 1.70x |" in table


@pytest.mark.e2e
def test_speed_times_an_epoch_against_a_bare_fit(tmp_path):
    """`tuner bench speed` itself, on one backend and no `tuner run` (`--budget 0`)."""
    from tests.conftest import tuner

    done = tuner("bench", "speed", "--backends", "jax", "--budget", "0", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (epoch,) = json.loads(done.stdout)["epochs"]
    assert epoch["backend"] == "jax" and epoch["tuner_s"] > 0 and epoch["bare_s"] > 0
    assert json.loads(done.stdout)["throughput"] == []
