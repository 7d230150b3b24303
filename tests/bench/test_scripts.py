"""Every script of benchmarks/ runs, on the smallest budget that exercises it, so none rots.

The scripts that train no Keras model run here in the quick suite, in this process (as
`python SCRIPT ARGS` runs them, through `runpy`), on the real banks and a slice of the real
Beijing file. Those that train, or that read a study `tuner run` trained, are marked e2e
and share one tiny study.
"""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAST_SPACE, cli_env, tuner

ROOT = Path(__file__).parents[2]
BENCHMARKS = ROOT / "benchmarks"
BANKS = sorted((BENCHMARKS / "banks").glob("*.jsonl"))
TRACKED = {"record.py", "make_readme.py", "baseline.py", "epoch_bound.py", "pruner_time_bound.py"}
TRACKED |= {"many_machines.py", "search_and_export.py"}
TRACKED |= {"series.py"}  # run by tests/test_steps.py, beside what it makes
TRACKED |= {"unseen_series.py"}
EXPERIMENTS = {"levers.py", "export_choice.py", "epoch_flops.py", "fuzz.py"}


def run_script(path: Path, *args: str, monkeypatch) -> int:
    """`python path args` in this process: its exit status (0 when it returns)."""
    monkeypatch.setattr(sys, "argv", [str(path), *map(str, args)])
    monkeypatch.setattr(sys, "path", [str(path.parent), *sys.path])
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    return 0


def script(path: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**cli_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(path), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory, beijing_csv) -> Path:
    """The first 4,000 hours of the Beijing file: enough for every split, seconds to fit."""
    lines = beijing_csv.read_text().splitlines()[:4001]
    path = tmp_path_factory.mktemp("data") / "beijing-small.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_script_is_run_by_a_test():
    found = {p.name for p in BENCHMARKS.glob("*.py")} | {
        p.name for p in (BENCHMARKS / "experiments").glob("*.py")
    }
    assert found == TRACKED | EXPERIMENTS


def test_epoch_bound_on_the_banks(monkeypatch, capsys):
    assert run_script(BENCHMARKS / "epoch_bound.py", *BANKS, "--json", monkeypatch=monkeypatch) == 0
    found = json.loads(capsys.readouterr().out)
    assert sorted(found["banks"]) == [b.name for b in BANKS]
    for shares in found["banks"].values():
        hindsight, online = shares["the 5 best kept"], shares["online, none lost"]
        assert 0 < hindsight < online <= 1  # foresight in hindsight spends less than online
        # keeping the curves close to the best as well keeps more, and so spends more
        assert online <= shares["online, none lost, within 1% kept"] <= 1


def test_baseline_writes_its_result_file(monkeypatch, tmp_path, small_csv, capsys):
    args = ["--data", small_csv, "--target", "pm2.5", "--seeds", "0", "--out", tmp_path]
    assert run_script(BENCHMARKS / "baseline.py", *args, monkeypatch=monkeypatch) == 0
    (written,) = tmp_path.glob("*.json")
    assert written.name == "beijing-small-boosting.json"
    document = json.loads(written.read_text())
    assert document["provenance"]["command"].endswith(f"--out {tmp_path}")
    (row,) = document["result"]["seeds"]
    assert row["test_rmse"] < document["result"]["persistence_test_rmse"]
    assert "| beijing-small | 0 |" in capsys.readouterr().out


def test_baseline_reports_each_step_when_asked(monkeypatch, tmp_path, small_csv, capsys):
    args = ["--data", small_csv, "--target", "pm2.5", "--seeds", "0", "--out", tmp_path]
    args += ["--horizon", "3", "--every-step", "--threads", "2"]
    assert run_script(BENCHMARKS / "baseline.py", *args, monkeypatch=monkeypatch) == 0
    result = json.loads((tmp_path / "beijing-small-boosting-steps.json").read_text())["result"]
    (row,) = result["seeds"]
    assert result["steps"] == [1, 2, 3] and len(row["rounds"]) == 3
    persistence = result["naive_by_step"]["test"]["persistence"]
    assert len(row["test_rmse_by_step"]) == 3 and row["test_rmse_by_step"][2] < persistence[2]
    out = capsys.readouterr().out
    assert "beijing-small, test RMSE by step:" in out and "| seed 0 | persistence |" in out


def test_make_readme_check_passes_on_the_committed_readmes(monkeypatch):
    assert run_script(BENCHMARKS / "make_readme.py", "--check", monkeypatch=monkeypatch) == 0


def test_fuzz_runs_a_round_of_each_parser(monkeypatch, capsys):
    args = ["--minutes", "0.001", "--round", "3"]
    assert run_script(BENCHMARKS / "experiments" / "fuzz.py", *args, monkeypatch=monkeypatch) == 0
    out = capsys.readouterr().out
    assert all(f"{name}: " in out for name in ("csv", "space", "metadata"))
    assert "0 failures of 0 kinds" in out


# Scripts that read a study `tuner run` trained, or train models themselves.


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory, small_csv) -> str:
    """`tuner run --pruner none` on the small file: 3 trials of the tests' fast space."""
    folder = tmp_path_factory.mktemp("study")
    env = {**cli_env(), "JAX_COMPILATION_CACHE_DIR": str(folder / "jax-cache")}
    run = tuner(
        "run", "--data", str(small_csv), "--target", "pm2.5", "--space", str(FAST_SPACE),
        "--trials", "3", "--max-epochs", "3", "--pruner", "none", "--replicates", "0",
        "--jobs", "1", "--seed", "0", cwd=folder, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return f"sqlite:///{folder / 'results' / 'tuner.db'}"


@pytest.mark.e2e
def test_pruner_time_bound_on_a_study_without_pruning(tiny_study):
    done = script(BENCHMARKS / "pruner_time_bound.py", tiny_study, "--top", "1", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["trials"] == 3
    assert 0 < found["all stopped"] <= found["oracle"] <= 1


@pytest.mark.e2e
def test_epoch_flops_on_the_study(tiny_study):
    done = script(BENCHMARKS / "experiments" / "epoch_flops.py", tiny_study, "--top", "1")
    assert done.returncode == 0, done.stderr
    assert "GFLOP/s" in done.stdout


@pytest.mark.e2e
def test_export_choice_on_the_study(tiny_study, tmp_path):
    out = tmp_path / "choice.jsonl"
    args = [tiny_study, "--members", "1", "--seeds", "1", "--out", out]
    done = script(BENCHMARKS / "experiments" / "export_choice.py", "--storage", *args)
    assert done.returncode == 0, done.stderr
    assert "| the best trial's saved model (export today) | 1 |" in done.stdout
    keys = {json.loads(line)["key"].split(":")[0] for line in out.read_text().splitlines()}
    assert keys == {"saved", "train", "refit"}


@pytest.mark.e2e
def test_levers_pairs_two_levers(small_csv, tmp_path):
    out = tmp_path / "levers.jsonl"
    args = ["--data", small_csv, "--target", "pm2.5", "--levers", "level,change+huber"]
    done = script(
        BENCHMARKS / "experiments" / "levers.py", *args, "--seeds", "0", "--configs", "1",
        "--out", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 2  # one configuration, one seed, two levers


@pytest.mark.e2e
def test_unseen_series_runs_exports_and_records_a_station_s_smooth_target(tmp_path):
    out = tmp_path / "unseen.jsonl"
    args = ["--stations", "Aotizhongxin", "--targets", "TEMP", "--timeout", "10"]
    args += ["--max-epochs", "1", "--replicates", "0", "--out", out, "--results", tmp_path]
    done = script(BENCHMARKS / "unseen_series.py", *args, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["station"], row["target"], row["product"]) == ("Aotizhongxin", "TEMP", "this")
    assert row["test_rmse"] > 0 and row["persistence_test_rmse"] > 0
    recorded = json.loads(
        (tmp_path / "forecast" / "aotizhongxin-temp-unseen-seed0.json").read_text()
    )
    assert recorded["result"]["export"] == row and recorded["result"]["against"] is None
    assert "unseen_series.py" in recorded["provenance"]["command"]


@pytest.mark.e2e
def test_search_and_export_writes_the_speed_and_forecast_of_a_run(small_csv, tmp_path):
    run = ["--data", small_csv, "--target", "pm2.5", "--space", FAST_SPACE, "--jobs", "1"]
    run += ["--max-epochs", "2", "--replicates", "0"]
    args = ["--seed", "0", "--trials", "2", "--name", "small", "--out", tmp_path, *run]
    done = script(BENCHMARKS / "search_and_export.py", *args)
    assert done.returncode == 0, done.stderr
    speed = json.loads((tmp_path / "speed" / "small-default-seed0.json").read_text())
    forecast = json.loads((tmp_path / "forecast" / "small-default-seed0.json").read_text())
    assert speed["provenance"]["reconstructed"] is False
    assert speed["result"]["complete"] + speed["result"]["pruned"] == 2
    assert speed["result"]["wall_seconds"] > 0 and speed["result"]["noise_floor"] is None
    assert forecast["result"]["export_test_rmse"] > 0 and forecast["result"]["single_test_rmse"] > 0


@pytest.mark.e2e
def test_many_machines_on_postgres(tmp_path):
    from tests.servers import Postgres

    server = Postgres()
    try:
        out = tmp_path / "machines.json"
        args = ["--storage", server.new_database(), "--machines", "2", "--trials", "4"]
        done = script(BENCHMARKS / "many_machines.py", *args, "--out", out)
        assert done.returncode == 0, done.stderr
        result = json.loads(out.read_text())["result"]
        assert result["finished"] >= 4 and result["numbers_unique_and_contiguous"]
        assert result["first_2"]["statements_per_trial"] > 0
        assert result["exit_codes"] == [0, 0]
    finally:
        server.close()
