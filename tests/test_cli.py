"""Bad input: exit 2, one line on stderr, no traceback, and nothing stored is touched."""

import argparse
import hashlib
import json
import subprocess
from pathlib import Path

import optuna
import pandas as pd
import pytest

from tests.conftest import TUNER, cli_env, data_dir, tuner
from tests.series import write_step_inputs
from tuner.cli import main
from tuner.cli.dispatch import COMMANDS, refuse_conflicts
from tuner.data.sources import BEIJING
from tuner.errors import TunerError


def _snapshot(workspace: Path) -> tuple:
    """Every trial and attribute of every study, and the bytes of the exported bundle."""
    storage = optuna.storages.RDBStorage(f"sqlite:///{workspace / 'results' / 'tuner.db'}")
    studies = []
    for summary in storage.get_all_studies():
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials = [
            (t.number, t.state, t.params, t.user_attrs, t.intermediate_values, t.value)
            for t in study.trials
        ]
        studies.append((study.study_name, json.dumps(study.user_attrs, sort_keys=True), trials))
    storage.engine.dispose()
    bundle = workspace / "results" / "best"
    files = sorted(
        (str(p.relative_to(bundle)), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in bundle.rglob("*")
        if p.is_file()
    )
    return studies, files


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, beijing_csv) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    raw = pd.read_csv(beijing_csv)
    raw.iloc[100:130].to_csv(folder / "short.csv", index=False)  # no window of seq_len 24
    text = raw.head(3000).astype({"pm2.5": "object"})
    text.loc[5, "pm2.5"] = "high"
    text.to_csv(folder / "text_target.csv", index=False)
    raw.head(300).drop(columns=["TEMP"]).to_csv(folder / "no_temp.csv", index=False)
    (folder / "binary.csv").write_bytes(b"\xff\xfe\x00\x01\x80" * 100)
    (folder / "space.toml").write_text("[params.units]\ntype = 'int'\nlow = 9\nhigh = 3\n")
    checksum = folder / "corrupt"
    checksum.mkdir()
    (checksum / BEIJING.filename).write_bytes(beijing_csv.read_bytes()[:-100])
    (folder / "not_an_export").mkdir()
    storage = f"sqlite:///{folder / 'empty.db'}"
    study = optuna.create_study(study_name="nothing-done", storage=storage)
    study.tell(study.ask(), state=optuna.trial.TrialState.PRUNED)
    for name in ("sales-lstm_baseline", "beijing-lstm_baseline"):
        optuna.create_study(study_name=name, storage=f"sqlite:///{folder / 'two.db'}")
    write_step_inputs(folder)  # series of other steps, and ones to refuse
    return folder


DAILY = ["--target", "pm2.5", "--time-col", "date"]


CASES = {
    "missing data file": (["run", "--data", "{i}/nope.csv", "--target", "x"], "no such file"),
    "unreadable data file": (["run", "--data", "{i}/binary.csv", "--target", "x"], "binary.csv"),
    "missing target column": (["run", "--target", "pm25"], "no column 'pm25'"),
    "non-numeric target": (
        ["run", "--data", "{i}/text_target.csv", "--target", "pm2.5"],
        "column 'pm2.5' has 1 non-numeric",
    ),
    "too few rows": (["run", "--data", "{i}/short.csv", "--target", "pm2.5"], "too few rows"),
    "bad search space": (["run", "--space", "{i}/space.toml"], "space.toml: params.units"),
    "unknown storage scheme": (
        ["run", "--storage", "redis://localhost/0"],
        "unknown storage scheme",
    ),
    "another target on the same study": (
        ["run", "--target", "DEWP", "--study", "beijing-lstm_baseline"],
        "was made with target='pm2.5'",
    ),
    "zero trials": (["run", "--trials", "0"], "trials must be at least 1, got 0"),
    "best with --top 0": (["best", "--top", "0"], "--top must be at least 1"),
    "negative seed": (["run", "--seed", "-1"], "seed must be 0 or more"),
    "export with no completed trial": (
        ["export", "--storage", "sqlite:///{i}/empty.db", "--study", "nothing-done"],
        "no completed trial",
    ),
    "export of an unknown study": (["export", "--study", "nope"], "no study 'nope'"),
    "export of no member": (["export", "--members", "0"], "--members must be between 1 and 20"),
    "export of too many members": (["export", "--members", "21"], "--members must be between"),
    "export of one trial's model and several members": (
        ["export", "--single", "--members", "3"],
        "--single and --members cannot go together",
    ),
    "export with no study named from a storage of two": (
        ["export", "--storage", "sqlite:///{i}/two.db"],
        "which study? give --study: it holds beijing-lstm_baseline, sales-lstm_baseline",
    ),
    "export with no study named finds the only one": (
        ["export", "--storage", "sqlite:///{i}/empty.db"],
        "study 'nothing-done' has no completed trial",
    ),
    "best without a database": (
        ["best", "--storage", "sqlite:///{i}/none.db"],
        "no study database",
    ),
    "predict from a folder that is not an export": (
        ["predict", "--model", "{i}/not_an_export", "--data", "{i}/short.csv"],
        "not a tuner export",
    ),
    "report of an unknown study": (["report", "--study", "nope"], "no study 'nope'"),
    "report without a database": (
        ["report", "--storage", "sqlite:///{i}/none.db"],
        "no study database",
    ),
    # --verbose: in this process, not silencing the libraries leaves sys.stderr to capsys
    "report with a folder that is not an export": (
        ["report", "--model", "{i}/not_an_export", "--verbose"],
        "not a tuner export",
    ),
    "report of one study with another's bundle": (
        [
            "report",
            "--storage",
            "sqlite:///{i}/empty.db",
            "--study",
            "nothing-done",
            "--model",
            "results/best",
            "--verbose",
        ],
        "exported from study 'beijing-lstm_baseline', not 'nothing-done'",
    ),
    "irregular timestamps": (
        ["run", "--data", "{i}/irregular.csv", "--target", "load", "--time-col", "ts"],
        "irregular.csv: the step between rows cannot be told: the commonest gaps are",
    ),
    "a mix of steps": (
        ["run", "--data", "{i}/mixed.csv", "--target", "load", "--time-col", "ts"],
        "timestamps are off the grid of the usual step, 1 hour, from 2020-01-01 00:00:00",
    ),
    "--freq h on a 15-minute series": (
        ["run", "--data", "{i}/changping-15min.csv", "--target", "PM2.5", "--time-col", "time"]
        + ["--freq", "h"],
        "--freq h contradicts the timestamps: the closest rows are 15 minutes apart",
    ),
    "--freq of no fixed length": (["run", "--freq", "MS"], "--freq: 'MS' is not a fixed step"),
    "a horizon longer than validation": (
        ["run", "--data", "{i}/beijing-daily.csv", *DAILY, "--val-start", "2013-01-01"]
        + ["--test-start", "2014-01-01", "--horizon", "400"],
        "--horizon 400 (400 days) is longer than the validation split (365 rows of 1 day)",
    ),
    "a horizon of 0": (["run", "--horizon", "0"], "horizon must be at least 1, got 0"),
    "every step up to a horizon longer than validation": (
        ["run", "--data", "{i}/short_val.csv", *DAILY, "--val-start", "2014-06-01"]
        + ["--test-start", "2014-06-11", "--horizon", "14", "--every-step"],
        "--horizon 14 (14 days) is longer than the validation split (10 rows of 1 day)",
    ),
    "predict data without a required column": (
        ["predict", "--model", "results/best", "--data", "{i}/no_temp.csv"],
        "no column 'TEMP'",
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", CASES)
def test_bad_input(name, trained, inputs, capsys, monkeypatch):
    args, message = CASES[name]
    monkeypatch.chdir(trained)
    monkeypatch.setenv("TUNER_DATA_DIR", str(data_dir()))
    before = _snapshot(trained)
    code = main([a.replace("{i}", str(inputs)) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert _snapshot(trained) == before


@pytest.mark.e2e
def test_wrong_checksum_in_tuner_data_dir(trained, inputs, capsys, monkeypatch):
    monkeypatch.chdir(trained)
    monkeypatch.setenv("TUNER_DATA_DIR", str(inputs / "corrupt"))
    before = _snapshot(trained)
    assert main(["run", "--trials", "1"]) == 2
    assert "wrong checksum" in capsys.readouterr().err
    assert _snapshot(trained) == before


@pytest.mark.e2e
@pytest.mark.parametrize(
    "args",
    [
        ["run", "--space", "{i}/space.toml"],
        ["report", "--model", "{i}/not_an_export"],  # with the libraries' logs silenced
    ],
)
def test_a_real_process_prints_one_line_and_no_traceback(trained, inputs, args):
    result = tuner(*(a.replace("{i}", str(inputs)) for a in args), cwd=trained)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_tuner_alone_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: tuner") and all(c in out for c in ("run", "export", "predict"))


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("tuner ")


def test_an_unknown_flag_shows_the_subcommand_s_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--trials", "3"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tuner export") and "unrecognized arguments: --trials 3" in err


@pytest.mark.e2e
def test_output_piped_into_head_ends_quietly(trained, beijing_csv):
    """A reader that leaves early (`| head -1`) ends the command without a traceback."""
    process = subprocess.Popen(
        [*TUNER, "predict", "--model", "results/best", "--data", str(beijing_csv)],
        cwd=trained,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().startswith("time,")
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=300) == 141
    assert "Traceback" not in stderr and "Error" not in stderr, stderr


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_each_command_s_help_fits_one_screen(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exit_:
        main(["--help"] if command is None else [command, "--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out.splitlines()
    assert len(shown) <= 40 and max(map(len, shown)) <= 100, "\n".join(shown)


def test_flags_that_cannot_go_together_are_refused_before_anything_is_read(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the default storage would be results/tuner.db here
    assert main(["export", "--single", "--members", "3"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: --single and --members cannot go together: "
        "--single exports the best trial's own model, one member\n"
    )
    assert not list(tmp_path.iterdir())


def test_a_conflict_needs_both_flags():
    conflicts = {("--single", "--members"): "why"}
    refuse_conflicts(argparse.Namespace(single=True, members=None), conflicts)
    refuse_conflicts(argparse.Namespace(single=False, members=3), conflicts)
    with pytest.raises(TunerError, match="--single and --members cannot go together: why"):
        refuse_conflicts(argparse.Namespace(single=True, members=1), conflicts)


@pytest.mark.parametrize("command", ["best", "export", "report"])
def test_a_study_is_named_by_study_alone(command, tmp_path, capsys):
    """No command guesses a study's name from --data or --space: --study, or the only one."""
    storage = f"sqlite:///{tmp_path / 'two.db'}"
    for name in ("sales-lstm_baseline", "beijing-lstm_baseline"):
        optuna.create_study(study_name=name, storage=storage)
    assert main([command, "--storage", storage]) == 2
    assert capsys.readouterr().err == (
        "error: which study? give --study: it holds beijing-lstm_baseline, sales-lstm_baseline\n"
    )
    with pytest.raises(SystemExit):
        main([command, "--storage", storage, "--data", "beijing"])
    assert "unrecognized arguments: --data beijing" in capsys.readouterr().err
