"""The real CLI, real Keras training, real SQLite, on the real Beijing data (small budgets)."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from tests.conftest import FAST_SPACE, TUNER, cli_env, tuner
from tests.heartbeats import age_heartbeat, beating, caught, moved_on
from tests.waiting import answering, ended, reaped, until
from tuner.search import attrs

pytestmark = pytest.mark.e2e
STUDY = "beijing-lstm_baseline"


def _study(workspace: Path, name: str = STUDY) -> optuna.Study:
    storage = f"sqlite:///{workspace / 'results' / 'tuner.db'}"
    return optuna.load_study(study_name=name, storage=storage)


def _states(study: optuna.Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def test_run_stores_trials_baseline_and_best_model(trained):
    study = _study(trained)
    assert _states(study) == {"COMPLETE": 3}
    assert study.user_attrs[attrs.PERSISTENCE_VAL_RMSE] == pytest.approx(24.863, abs=1e-3)
    assert 20 < study.user_attrs[attrs.BOOSTING_VAL_RMSE] < 24.863  # fitted once, by the run
    best = study.best_trial
    assert best.user_attrs["epochs"] == 2 and len(best.intermediate_values) == 2
    assert (trained / "results" / "artifacts").is_dir() and "artifact_id" in best.user_attrs


@pytest.mark.skipif(os.environ["KERAS_BACKEND"] != "jax", reason="JAX's compilation cache")
def test_the_run_s_workers_fill_the_jax_compilation_cache(trained):
    # the run's own cache folder (conftest): what its worker processes compiled is on disk
    assert len(list((trained / "jax-cache").iterdir())) > 10


def test_best_reports_against_the_baseline(trained):
    result = tuner("best", "--json", cwd=trained)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    study = _study(trained)
    assert report["trials"] == {"complete": 3}
    assert report["best"]["val_rmse"] == study.best_value
    gain = report["persistence_val_rmse"] - study.best_value
    assert report["best"]["vs_baseline"] == pytest.approx(gain)
    text = tuner("best", "--top", "2", cwd=trained).stdout
    assert f"val RMSE {study.best_value:.3f} µg/m³" in text and "persistence baseline" in text
    header, *rows = text.split("\n\n")[1].splitlines()
    rows = [row for row in rows if row.split()[0].isdigit()]  # legend lines explain marks
    best = ["1", str(study.best_trial.number), f"{study.best_value:.3f}"]
    first = rows[0].split()
    assert len(rows) == 2 and [first[0], first[1].rstrip("*c"), first[2]] == best
    assert first[-1] == study.best_trial.user_attrs["artifact_id"]


def test_export_bundle(trained):
    bundle = trained / "results" / "best"
    assert {p.name for p in bundle.iterdir()} == {
        "model.keras",
        "model.onnx",
        "saved_model",
        "metadata.json",
        "README.md",
        "SHA256SUMS",
    }
    meta = json.loads((bundle / "metadata.json").read_text())
    study = _study(trained)
    assert meta["trial"] == study.best_trial.number
    # by default, the mean of the best distinct configurations, each refitted on training
    # and validation for the epochs its trial kept: it has no validation score of its own
    complete = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    assert [m["trial"] for m in meta["members"]] == [t.number for t in complete][:5]
    assert [m["epochs"] for m in meta["members"]] == [t.user_attrs["kept_epoch"] for t in complete]
    assert meta["refit"] is True and meta["val_rmse"] is None
    assert meta["seq_len"] == max(t.params["seq_len"] for t in complete)
    assert meta["persistence_test_rmse"] == pytest.approx(22.136, abs=1e-3)
    # refitted at export as the run fitted it: the same model, so the same validation score
    study = _study(trained)
    assert meta["boosting_val_rmse"] == pytest.approx(study.user_attrs[attrs.BOOSTING_VAL_RMSE])
    assert 18 < meta["boosting_test_rmse"] < 22.136
    assert 10 < meta["test_rmse"] < 200
    assert meta["dataset"]["sha256"].startswith("4127f868")
    assert meta["features"][0] == "pm2.5" and meta["preprocessing"]["categories"]["cbwd"]
    assert meta["backend"] in ("jax", "tensorflow") and meta["versions"]["keras"]
    assert [p.name for p in (bundle / "saved_model").iterdir()] == ["1"]  # TF Serving's layout
    assert (bundle / "saved_model" / "1" / "saved_model.pb").is_file()
    listed = (bundle / "SHA256SUMS").read_text()
    assert "  model.onnx\n" in listed and "  saved_model/1/saved_model.pb\n" in listed
    import keras

    with warnings.catch_warnings():  # nor an optimizer of a member left in the file
        warnings.simplefilter("error")
        keras.saving.load_model(bundle / "model.keras", safe_mode=True)


def test_model_card_says_units_members_and_how_to_load_each_format(trained):
    card = " ".join((trained / "results" / "best" / "README.md").read_text().split())
    best = _study(trained).best_trial
    assert "`pm2.5` 1 hour ahead, in µg/m³" in card and "(s)" not in card
    members = json.loads((trained / "results" / "best" / "metadata.json").read_text())["members"]
    if len(members) > 1:  # as many as the 3 trials completed
        assert f"(trials {best.number}, " in card and "each one LSTM and one Dense(1)" in card
    else:
        assert f"the search's best configuration (trial {best.number})" in card
    assert 'keras.saving.load_model("model.keras")' in card
    assert 'tf.saved_model.load("saved_model/1")' in card and "--model_base_path" in card
    assert 'onnxruntime.InferenceSession("model.onnx")' in card
    assert "`SHA256SUMS` holds the sha256 of every other file" in card


def test_the_best_trial_s_own_model_is_one_flag_away(trained, tmp_path):
    exported = tuner("export", "--single", "--out", str(tmp_path / "single"), cwd=trained)
    assert exported.returncode == 0, exported.stderr
    best = _study(trained).best_trial
    assert exported.stdout.startswith(
        f"exported trial {best.number}'s own model, forecasting 1 hour ahead to "
    )
    meta = json.loads((tmp_path / "single" / "metadata.json").read_text())
    assert meta["val_rmse"] == pytest.approx(best.value, rel=1e-4)  # the trial's own model
    assert meta["members"] == [] and meta["refit"] is False
    assert meta["seq_len"] == best.params["seq_len"]
    card = " ".join((tmp_path / "single" / "README.md").read_text().split())
    assert f"for 2 epochs; the weights are those of epoch {best.user_attrs['kept_epoch']}," in card


SERVE = """
import json, sys
import numpy as np, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
print(json.dumps(model.serve(x).numpy().reshape(-1).tolist()))
"""

# ONNX Runtime alone: the process fails if TensorFlow, Keras or JAX came in with it.
ONNX_RUN = """
import json, sys
import numpy as np, onnxruntime
session = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
forecast = session.run(None, {"features": np.load(sys.argv[2])})[0]
assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "a framework came in"
assert 'jax' not in sys.modules, "JAX came in"
print(json.dumps(forecast.reshape(-1).tolist()))
"""


def _real_windows(spec, seq_len: int, every: int = 17) -> np.ndarray:
    """Test windows of the Beijing data, raw, spread over the year."""
    from tuner.data.prepared import prepare

    return prepare(spec, with_test=True).raw_windows("test", seq_len).x[::every]


def _in_onnx_runtime(bundle: Path, x: np.ndarray, tmp_path: Path) -> np.ndarray:
    np.save(tmp_path / "windows.npy", x)
    ran = subprocess.run(
        [sys.executable, "-c", ONNX_RUN, str(bundle / "model.onnx"), str(tmp_path / "windows.npy")],
        capture_output=True,
        text=True,
        timeout=300,
        env=cli_env(),
    )
    assert ran.returncode == 0, ran.stderr
    return np.array(json.loads(ran.stdout))


def test_onnx_without_tensorflow_or_keras_matches_model_keras(trained, beijing_spec, tmp_path):
    import keras

    bundle = trained / "results" / "best"
    meta = json.loads((bundle / "metadata.json").read_text())
    x = _real_windows(beijing_spec, meta["seq_len"])
    assert len(x) > 400
    expected = keras.saving.load_model(bundle / "model.keras").predict(x, verbose=0).reshape(-1)
    got = _in_onnx_runtime(bundle, x, tmp_path)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


def test_saved_model_in_plain_tensorflow_matches_model_keras(trained, tmp_path):
    import keras

    bundle = trained / "results" / "best"
    meta = json.loads((bundle / "metadata.json").read_text())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, meta["seq_len"], len(meta["features"]))).astype("float32")
    x[:, :, 0] = rng.uniform(0, 400, size=x.shape[:2])  # pm2.5 in its own units
    np.save(tmp_path / "x.npy", x)
    served = subprocess.run(
        [sys.executable, "-c", SERVE, str(bundle / "saved_model/1"), str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**cli_env(), "KERAS_BACKEND": "tensorflow"},
    )
    assert served.returncode == 0, served.stderr
    expected = keras.saving.load_model(bundle / "model.keras").predict(x, verbose=0).reshape(-1)
    np.testing.assert_allclose(json.loads(served.stdout), expected, rtol=0, atol=1e-4)


def test_tensorflow_backend_end_to_end(tmp_path, beijing_spec):
    """The same path trained by TensorFlow: metadata says so, SavedModel, ONNX and .keras
    agree."""
    import keras

    args = ["--backend", "tensorflow"]
    space = ["--space", str(FAST_SPACE), "--trials", "2", "--max-epochs", "1", "--quiet"]
    run = tuner("run", *args, *space, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    single = tuner("export", *args, "--single", "--out", "single", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    meta = json.loads((tmp_path / "single" / "metadata.json").read_text())
    # TensorFlow swaps the averaged weights in by its own path: the exported model is still
    # the one whose val RMSE the trial reported.
    study = _study(tmp_path, "beijing-fast_space")
    assert meta["val_rmse"] == pytest.approx(study.best_value, rel=1e-4) and not meta["members"]
    exported = tuner("export", *args, cwd=tmp_path)  # the mean of refitted members
    assert exported.returncode == 0, exported.stderr
    bundle = tmp_path / "results" / "best"
    meta = json.loads((bundle / "metadata.json").read_text())
    assert meta["backend"] == "tensorflow" and len(meta["members"]) == 2
    x = _real_windows(beijing_spec, meta["seq_len"], every=97)
    np.save(tmp_path / "x.npy", x)
    served = subprocess.run(
        [sys.executable, "-c", SERVE, str(bundle / "saved_model/1"), str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert served.returncode == 0, served.stderr
    expected = keras.saving.load_model(bundle / "model.keras").predict(x, verbose=0).reshape(-1)
    np.testing.assert_allclose(json.loads(served.stdout), expected, rtol=1e-4, atol=1e-3)
    got = _in_onnx_runtime(bundle, x, tmp_path)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


def test_predict_writes_one_forecast_per_hour_with_history(trained, beijing_csv, tmp_path):
    """The file's first day has no pm2.5 at all: those windows are flagged as filled."""
    raw = pd.read_csv(beijing_csv).head(200)
    raw.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "forecast.csv"
    result = tuner(
        "predict",
        "--model",
        "results/best",
        "--data",
        str(tmp_path / "new.csv"),
        "--out",
        str(out),
        cwd=trained,
    )
    assert result.returncode == 0, result.stderr
    meta = json.loads((trained / "results" / "best" / "metadata.json").read_text())
    seq_len = meta["seq_len"]
    forecast = pd.read_csv(out, index_col="time", parse_dates=["time", "target_time"])
    assert list(forecast.columns) == [
        "target_time",
        "step",
        "pm2.5_forecast (µg/m³)",
        "pm2.5_observed",
        "pm2.5_persistence",
        "pm2.5_seasonal",
        "filled_hours",
    ]
    assert len(forecast) == 200 - seq_len + 1
    assert (forecast["target_time"] - forecast.index == pd.Timedelta(hours=1)).all()
    assert forecast["pm2.5_forecast (µg/m³)"].between(-50, 1000).all()
    pm25 = raw["pm2.5"].to_numpy()
    assert np.array_equal(forecast["pm2.5_persistence"], pm25[seq_len - 1 :], equal_nan=True)
    assert np.array_equal(forecast["pm2.5_observed"][:-1], pm25[seq_len:], equal_nan=True)
    missing = np.isnan(pm25).astype(int)
    expected = [missing[end - seq_len + 1 : end + 1].sum() for end in range(seq_len - 1, 200)]
    assert forecast["filled_hours"].tolist() == expected and expected[0] == min(seq_len, 24)
    digits = out.read_text().splitlines()[1].split(",")[3]
    assert len(digits.split(".")[1]) <= 2  # a hundredth of a µg/m³, not 17 digits


def test_resume_counts_finished_trials_of_the_study(tmp_path):
    args = ["--space", str(FAST_SPACE), "--max-epochs", "1", "--quiet"]
    assert tuner("run", "--trials", "2", *args, cwd=tmp_path).returncode == 0
    again = tuner("run", "--trials", "3", *args, cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == "", again.stderr  # no library's log lines
    study = _study(tmp_path, "beijing-fast_space")
    assert len(study.trials) == 3 and _states(study) == {"COMPLETE": 3}
    params = [tuple(t.params.values()) for t in study.trials]
    assert len(set(params)) == 3  # the resumed sampler did not replay trial 0
    done = tuner("run", "--trials", "3", *args, cwd=tmp_path)
    assert done.returncode == 0 and len(_study(tmp_path, "beijing-fast_space").trials) == 3


def test_a_run_measures_its_noise_floor_by_training_its_best_again(tmp_path):
    """After its trials, the run trains its best distinct configurations once more, with
    other seeds and never pruned; `tuner best` and the note say what the seed moved."""
    args = ["--space", str(FAST_SPACE), "--max-epochs", "1", "--quiet", "--trials", "10"]
    run = tuner("run", *args, "--replicates", "2", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "\nnoise floor: the seed alone moved the best 2 configurations by up to " in run.stdout
    study = _study(tmp_path, "beijing-fast_space")
    replicates = [t for t in study.trials if attrs.REPLICATE_OF in t.user_attrs]
    originals = sorted(
        (t for t in study.trials if t.state == TrialState.COMPLETE and t not in replicates),
        key=lambda t: t.value,
    )[:2]
    assert len(study.trials) == 12 and [t.number for t in replicates] == [10, 11]
    assert {t.user_attrs[attrs.REPLICATE_OF] for t in replicates} == {t.number for t in originals}
    for replicate in replicates:
        original = study.trials[replicate.user_attrs[attrs.REPLICATE_OF]]
        assert replicate.state == TrialState.COMPLETE and replicate.params == original.params
        assert replicate.value != original.value  # another seed
    moved = max(
        abs(r.value - study.trials[r.user_attrs[attrs.REPLICATE_OF]].value) for r in replicates
    )
    shown = tuner("best", cwd=tmp_path).stdout  # the folder's only study
    assert (
        f"noise floor: the seed alone moved the best 2 configurations by up to {moved:.3f}" in shown
    )
    from optuna_dashboard import get_note

    assert (
        f"- **Noise floor**: the seed alone moved the best 2 configurations by up to {moved:.3f}"
        in get_note(study)
    )
    again = tuner("run", *args, "--replicates", "2", cwd=tmp_path)
    assert again.returncode == 0 and len(_study(tmp_path, "beijing-fast_space").trials) == 12
    # A replicate an interrupted run left waiting is trained by the next run.
    third = next(t for t in study.trials if t.number not in {o.number for o in originals})
    study.enqueue_trial(third.params, user_attrs={attrs.REPLICATE_OF: third.number})
    resumed = tuner("run", *args, "--replicates", "2", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    last = _study(tmp_path, "beijing-fast_space").trials[-1]
    assert last.number == 12 and last.state == TrialState.COMPLETE
    assert last.params == third.params


def _start(workspace: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*TUNER, "run", "--space", str(FAST_SPACE), "--trials", "50", *args],
        cwd=workspace,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_running_trial(workspace: Path, process: subprocess.Popen, running: int = 1) -> None:
    """Until `running` trials have reported an epoch, and there have been two trials at least."""
    until(lambda: _running(workspace, running), process, f"{running} trials running")


def _running(workspace: Path, running: int) -> bool:
    """Whether `running` trials have reported an epoch, and there have been two at least.

    Reads the database read-only: opening it through Optuna could race the worker's own
    creation of the tables.
    """
    db = workspace / "results" / "tuner.db"
    query = (
        "SELECT t.state, (SELECT COUNT(*) FROM trial_intermediate_values v "
        "WHERE v.trial_id = t.trial_id) FROM trials t"
    )
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            rows = connection.execute(query).fetchall()
    except sqlite3.OperationalError:
        return False  # no database or no tables yet
    return len(rows) >= 2 and sum(state == "RUNNING" and n > 0 for state, n in rows) >= running


def _finished(workspace: Path) -> int:
    states = _states(_study(workspace, "beijing-fast_space"))
    return states.get("COMPLETE", 0) + states.get("PRUNED", 0)


def _longer_trials(workspace: Path, epochs: int) -> str:
    """The fast space with `epochs` epochs a trial (and as much patience), same study name.

    With the fast space's 3 epochs, a trial seen running can finish before a signal sent
    at once lands, leaving nothing to interrupt or to kill.
    """
    space = FAST_SPACE.read_text()
    space = space.replace("max_epochs = 3", f"max_epochs = {epochs}")
    space = space.replace("patience = 2", f"patience = {epochs}")
    assert f"max_epochs = {epochs}" in space and f"patience = {epochs}" in space
    path = workspace / FAST_SPACE.name
    path.write_text(space)
    return str(path)


def test_ctrl_c_fails_the_running_trials_and_exits_130(tmp_path):
    process = _start(tmp_path, "--space", _longer_trials(tmp_path, 500), "--jobs", "2")
    _wait_for_running_trial(tmp_path, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stdout and "Traceback" not in stderr
    study = _study(tmp_path, "beijing-fast_space")
    assert "RUNNING" not in _states(study)
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert failed and {t.user_attrs["fail_reason"] for t in failed} == {"interrupted"}


def _workers(process: subprocess.Popen) -> list[int]:
    """The worker processes of a run (spawned by multiprocessing, not its resource tracker)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return [int(pid) for pid in children if b"spawn_main" in _cmdline(int(pid))]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _numbers(workspace: Path) -> list[int]:
    return [t.number for t in _study(workspace, "beijing-fast_space").trials]


HEARTBEAT = 60  # far beyond any delay a busy machine gives a live worker's beat (heartbeats.py)


def test_a_killed_worker_s_trial_is_failed_by_heartbeat_and_the_others_go_on(tmp_path):
    space = _longer_trials(tmp_path, 6)  # the kill waits for both workers inside a trial
    process = _start(tmp_path, "--space", space, "--jobs", "2", "--heartbeat", str(HEARTBEAT))
    url = f"sqlite:///{tmp_path / 'results' / 'tuner.db'}"
    with reaped(process):
        _wait_for_running_trial(tmp_path, process, running=2)  # the database is made
        doomed, survivor = _workers(process)
        held = caught(url, [doomed, survivor], process, trials=2)  # both stopped, each in a trial
        os.kill(doomed, signal.SIGKILL)
        os.kill(survivor, signal.SIGCONT)
        (going,) = until(moved_on(url, held), process, "the survivor's trial went on")
        (killed,) = set(held) - {going}  # a dead worker's trial reports nothing more
        age_heartbeat(url, killed, 2 * HEARTBEAT + 1)
        # The survivor looks for stale trials before it asks for each trial: the second it
        # asks for from now on was asked for after such a look.
        after = _numbers(tmp_path)[-1] + 2
        until(lambda: _numbers(tmp_path)[-1] >= after, process, "two trials more")
        assert killed not in beating(url), "the survivor left the killed worker's trial running"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    study = _study(tmp_path, "beijing-fast_space")
    assert "RUNNING" not in _states(study)
    stale = [
        t for t in study.trials if t.state.name == "FAIL" and "fail_reason" not in t.user_attrs
    ]
    assert [t._trial_id for t in stale] == [killed]  # the killed worker's trial, and it alone
    report = json.loads(tuner("best", "--json", cwd=tmp_path).stdout)
    assert report["fail_reasons"]["no heartbeat"] == 1


def test_killing_the_parent_interrupts_its_workers(tmp_path):
    process = subprocess.Popen(  # the default space: trials long enough to be caught running
        [*TUNER, "run", "--trials", "50", "--max-epochs", "5", "--jobs", "2"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_running_trial(tmp_path, process)
    workers = _workers(process)
    process.kill()
    process.communicate()
    ended(workers, "orphaned workers kept running")
    study = _study(tmp_path)
    assert "RUNNING" not in _states(study)
    reasons = {t.user_attrs.get("fail_reason") for t in study.trials if t.state.name == "FAIL"}
    assert reasons == {"interrupted"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_shows_the_study_and_its_model_artifact(trained):
    port = _free_port()
    server = subprocess.Popen(
        [*TUNER, "dashboard", "--port", str(port)],
        cwd=trained,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/studies"
        studies = json.loads(answering(base, server))
        summary = studies["study_summaries"][0]
        assert summary["study_name"] == STUDY
        detail = json.loads(
            urllib.request.urlopen(f"{base}/{summary['study_id']}", timeout=30).read()
        )
        best = _study(trained).best_trial.number
        artifacts = detail["trials"][best]["artifacts"]
        assert artifacts and artifacts[0]["filename"] == f"trial-{best}.keras"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_curve_bank_is_resumable(tmp_path):
    args = ["bench", "curves", "--space", str(FAST_SPACE), "--epochs", "2", "--out", "bank.jsonl"]
    first = tuner(*args, "--configs", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    line = (tmp_path / "bank.jsonl").read_text()
    with open(tmp_path / "bank.jsonl", "a") as f:
        f.write('{"params": {"units"')  # an interrupted write
    second = tuner(*args, "--configs", "2", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    lines = (tmp_path / "bank.jsonl").read_text().splitlines()
    assert len(lines) == 2 and lines[0] + "\n" == line
    curves = [json.loads(x) for x in lines]
    assert all(len(c["val_rmse"]) == len(c["seconds"]) == 2 for c in curves)
    assert curves[0]["baseline_val_rmse"] == pytest.approx(24.863, abs=1e-3)
    other = tuner(*args[:-1], "bank.jsonl", "--configs", "2", "--seed", "5", cwd=tmp_path)
    assert other.returncode == 2 and "other settings" in other.stderr


def test_a_study_stored_elsewhere_keeps_its_models_beside_it(tmp_path):
    """Run from one folder, read and export from another: nothing lands where commands ran."""
    here, there, studies = tmp_path / "here", tmp_path / "there", tmp_path / "studies"
    here.mkdir()
    there.mkdir()
    storage = ["--storage", f"sqlite:///{studies / 'a.db'}"]
    args = ["--space", str(FAST_SPACE), "--trials", "2", "--max-epochs", "1", "--jobs", "1"]
    run = tuner("run", *storage, *args, cwd=here)
    assert run.returncode == 0, run.stderr
    assert (studies / "artifacts").is_dir() and not any(here.iterdir())
    assert tuner("best", *storage, cwd=there).returncode == 0
    exported = tuner("export", *storage, "--out", str(tmp_path / "bundle"), cwd=there)
    assert exported.returncode == 0, exported.stderr
    assert not any(there.iterdir())
