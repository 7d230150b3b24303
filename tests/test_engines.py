"""`tuner bench engines`: the table's arithmetic, and the three engines really run."""

import json
import math

import pytest

from tests.conftest import FAST_SPACE, tuner
from tuner.engines import (
    EngineRun,
    Event,
    catch_up,
    checkpoints,
    format_table,
    from_json,
    to_json,
)
from tuner.errors import TunerError

RUN = EngineRun(
    "tuner",
    budget=900,
    events=[
        Event(100, 25.0),
        Event(250, None),
        Event(299, 24.0),
        Event(301, 23.0),
        Event(700, 22.5),
    ],
)


def test_best_so_far_and_trials_finished_at_each_time():
    assert RUN.best_at(99) is None
    assert RUN.best_at(300) == 24.0  # the pruned trial (None) counts as finished, not as best
    assert RUN.best_at(600) == 23.0
    assert RUN.finished_by(300) == 3 and RUN.finished_by(900) == 5
    assert RUN.first_reaching(23.5) == 301 and RUN.first_reaching(20) is None


def test_checkpoints_are_the_standard_times_within_the_budget():
    assert checkpoints(1500) == [300, 600, 1500]
    assert checkpoints(900) == [300, 600, 900]
    assert checkpoints(60) == [60]


def test_table():
    other = EngineRun("kerastuner", budget=900, events=[Event(500, 23.5)], error="exit 1: boom")
    table = format_table([RUN, other], baseline=24.863)
    head = table.splitlines()[0]
    assert head.startswith("| engine | best val RMSE at 5 min | best val RMSE at 10 min |")
    assert head.endswith("| best val RMSE at 15 min | trials finished |")
    assert "| tuner | 24.000 | 23.000 | 22.500 | 5 |" in table
    assert "| kerastuner | — | 23.500 | 23.500 | 1 |" in table
    assert "| persistence (no model) | 24.863 | 24.863 | 24.863 | |" in table
    assert "kerastuner stopped early: exit 1: boom" in table
    assert "- tuner reached kerastuner's final best (23.500) after 5.0 min" in table


def test_catch_up_says_when_the_leader_never_got_there():
    other = EngineRun("optuna", budget=900, events=[Event(800, 22.0)])
    assert catch_up([RUN, other]) == ["- tuner did not reach optuna's final best (22.000)"]
    assert catch_up([other]) == []


def test_a_saved_report_shows_the_same_table():
    runs = [RUN, EngineRun("optuna", budget=900, events=[Event(800, 22.0)], error="x")]
    assert from_json(to_json(runs, 24.863)) == (runs, 24.863)
    with pytest.raises(TunerError, match="not a report"):
        from_json('{"runs": [{"engine": "tuner"}]}')


@pytest.mark.e2e
def test_three_engines_on_the_real_data(tmp_path):
    """Each engine in its own process on the Beijing data, 45 s each, the small space."""
    result = tuner(
        "bench", "engines", "--budget", "45", "--space", str(FAST_SPACE), "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert 24 < report["persistence_val_rmse"] < 26
    runs = {run["engine"]: run for run in report["runs"]}
    assert list(runs) == ["tuner", "optuna", "kerastuner"]
    for name, run in runs.items():
        assert run["error"] is None, f"{name}: {run['error']}"
        assert run["events"], f"{name} finished no trial in 45 s"
        assert all(0 < e["seconds"] <= 45 + 1 for e in run["events"])  # within the budget
        values = [e["value"] for e in run["events"] if e["value"] is not None]
        assert values and all(10 < v < 200 and math.isfinite(v) for v in values)  # µg/m³
        assert run["best_at"]["45"] == min(values)
