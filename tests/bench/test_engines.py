"""`tuner bench engines`: the table's arithmetic, and the three engines really run."""

import json
import math
import signal
import sys
from pathlib import Path
from unittest import mock

import pytest

from tests.conftest import FAST_SPACE, tuner
from tuner.bench import engines
from tuner.bench.engines import (
    EngineRun,
    Event,
    _read_events,
    _run_until,
    catch_up,
    checkpoints,
    format_table,
    from_json,
    to_json,
)
from tuner.errors import TunerError

WAITER = "import signal; signal.pause()"  # until a signal ends it
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
    assert checkpoints(1500) == [150, 300, 600, 1500]
    assert checkpoints(900) == [150, 300, 600, 900]
    assert checkpoints(200) == [150, 200]
    assert checkpoints(60) == [60]


def test_table():
    other = EngineRun("kerastuner", budget=900, events=[Event(500, 23.5)], error="exit 1: boom")
    table = format_table([RUN, other], baseline=24.863)
    head = table.splitlines()[0]
    assert head.startswith("| engine | setup | best val RMSE at 2.5 min | best val RMSE at 5 min |")
    assert head.endswith("| best val RMSE at 15 min | trials finished |")
    assert (
        "| tuner | jax, a worker per core, --pruner noise-aware "
        "| 25.000 | 24.000 | 23.000 | 22.500 | 5 |" in table
    )
    assert "| kerastuner | jax, one process, Hyperband | — | — | 23.500 | 23.500 | 1 |" in table
    assert "| persistence | no model | 24.863 | 24.863 | 24.863 | 24.863 | |" in table
    assert "kerastuner stopped early: exit 1: boom" in table
    assert "- tuner reached kerastuner's final best (23.500) after 5.0 min" in table


def test_catch_up_says_when_the_leader_never_got_there():
    other = EngineRun("optuna", budget=900, events=[Event(800, 22.0)])
    assert catch_up([RUN, other]) == ["- tuner did not reach optuna's final best (22.000)"]
    assert catch_up([other]) == []


def test_a_saved_report_shows_the_same_table():
    runs = [RUN, EngineRun("optuna", budget=900, events=[Event(800, 22.0)], error="x")]
    assert from_json(to_json(runs, 24.863)) == (runs, 24.863)
    for broken in (
        '{"runs": [{"engine": "tuner"}]}',
        '{"runs": [], "persistence_val_rmse": 24.8}',
        '{"runs": [{"engine": "t", "budget": "900", "events": [], "error": null}], '
        '"persistence_val_rmse": 24.8}',
        "not json",
    ):
        with pytest.raises(TunerError, match="not a report"):
            from_json(broken)


def test_a_process_past_its_budget_is_stopped_and_not_left_running(tmp_path):
    pid_file = tmp_path / "pid"  # written by the shell, which then becomes the waiting Python
    command = ["sh", "-c", f'echo $$ > "{pid_file}"; exec "{sys.executable}" -c "{WAITER}"']
    error = _run_until(command, 1.0, stop=signal.SIGTERM)
    assert error is None  # stopped by its stop signal
    assert not Path(f"/proc/{int(pid_file.read_text())}").exists()  # ended and reaped


def test_a_process_deaf_to_its_stop_signal_is_killed():
    deaf = f"import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); {WAITER}"
    with mock.patch.object(engines, "SHUTDOWN_GRACE", 1.0):
        error = _run_until([sys.executable, "-c", deaf], 1.0, stop=signal.SIGTERM)
    assert error == "did not stop within 1 s of SIGTERM: killed"


def test_a_process_that_ends_before_its_budget_says_why():
    failing = "import sys; print('error: no data', file=sys.stderr); sys.exit(2)"
    assert _run_until([sys.executable, "-c", failing], 60, stop=signal.SIGTERM) == (
        "exit 2: error: no data"
    )
    ended = _run_until([sys.executable, "-c", "pass"], 60, stop=signal.SIGTERM)
    assert ended.startswith("ended by itself after")


def test_events_after_the_budget_are_left_out(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"time": 110.0, "value": 25.0}\n{"time": 170.0, "value": 23.0}\n')
    assert _read_events(path, started=100.0, budget=60) == [Event(10.0, 25.0)]
    assert _read_events(tmp_path / "none.jsonl", started=100.0, budget=60) == []


@pytest.mark.e2e
def test_three_engines_on_the_real_data(tmp_path):
    """Each engine in its own process on the Beijing data, `budget` s each, the small space."""
    budget = 45  # a first trial, JAX compiling included, even on a loaded machine
    args = ["--budget", str(budget), "--space", str(FAST_SPACE), "--json"]
    result = tuner("bench", "engines", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert 24 < report["persistence_val_rmse"] < 26
    runs = {run["engine"]: run for run in report["runs"]}
    assert list(runs) == ["tuner", "optuna", "kerastuner"]
    for name, run in runs.items():
        assert run["error"] is None, f"{name}: {run['error']}"  # ran its budget, then stopped
        assert run["events"], f"{name} finished no trial in {budget} s"
        values = [e["value"] for e in run["events"] if e["value"] is not None]
        assert values and all(10 < v < 200 and math.isfinite(v) for v in values)  # µg/m³
        assert run["best_at"][str(budget)] == min(values)
