"""Any regular step, H steps ahead: the series of benchmarks/series.py as they are made, then
run -> best -> export -> predict through the real CLI on a 15-minute, a daily and the hourly
Beijing series (its last two years, --horizon 24 --every-step), each at the smallest budget."""

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks import series
from tests.conftest import FAST_SPACE, data_dir, tuner
from tuner.data.prepared import prepare
from tuner.data.sources import resolve


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    return series.write(tmp_path_factory.mktemp("series"), data_dir())


def _flags(name: str) -> tuple[str, ...]:
    return next(s.flags for s in series.SERIES if s.name == name)


def _source(name: str) -> pd.DataFrame:
    raw = pd.read_csv(data_dir() / name)
    raw.index = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    return raw


def test_the_daily_series_is_the_beijing_file_s_days(made):
    daily = pd.read_csv(made["beijing-daily"])
    assert len(daily) == 1826 and daily["date"].is_unique
    assert (daily["date"].iloc[0], daily["date"].iloc[-1]) == ("2010-01-01", "2014-12-31")
    hours = _source(series.BEIJING_FILE).loc["2013-07-04"]
    day = daily.set_index("date").loc["2013-07-04"]
    assert day["pm2.5"] == pytest.approx(hours["pm2.5"].mean(), abs=1e-3)
    assert day["TEMP"] == pytest.approx(hours["TEMP"].mean(), abs=1e-3)
    assert day["cbwd"] == sorted(hours["cbwd"].mode())[0]
    assert math.isnan(daily["pm2.5"].iloc[0])  # 2010-01-01: every hour's reading is missing


def test_the_quarter_hour_series_lies_on_the_line_between_its_hours(made):
    quarter = pd.read_csv(made["changping-15min"], parse_dates=["time"]).set_index("time")
    assert len(quarter) == 92 * 96 - 3 and "station" not in quarter
    hours = _source(series.CHANGPING_FILE).loc[quarter.index[0] : quarter.index[-1]]
    on_the_hour = quarter.loc[hours.index]
    np.testing.assert_allclose(on_the_hour["PM2.5"], hours["PM2.5"], atol=1e-3)
    assert (on_the_hour["wd"].fillna("") == hours["wd"].fillna("")).all()
    before, after = hours["TEMP"].iloc[10], hours["TEMP"].iloc[11]
    middle = quarter["TEMP"].iloc[10 * 4 + 2]
    assert middle == pytest.approx((before + after) / 2, abs=1e-3)
    # a missing hour stays missing, and so do the quarter hours on either side of it
    gap = hours.index[hours["PM2.5"].isna()][0]
    around = quarter.loc[gap - pd.Timedelta("45min") : gap + pd.Timedelta("45min"), "PM2.5"]
    assert around.isna().all()


@pytest.mark.parametrize(
    "name, step, season", [("beijing-daily", "1D", 7), ("changping-15min", "15min", 96)]
)
def test_each_series_is_read_at_its_own_step_and_cycle(made, name, step, season):
    flags = dict(zip(_flags(name)[::2], _flags(name)[1::2], strict=True))
    spec = resolve(
        str(made[name]),
        target=flags["--target"],
        time_col=flags["--time-col"],
        val_start=flags.get("--val-start"),
        test_start=flags.get("--test-start"),
        horizon=4,
        every_step=True,
    )
    data = prepare(spec)
    assert (data.step, data.season, data.steps) == (pd.Timedelta(step), season, (1, 2, 3, 4))
    assert len(data.scored_origins("val")) > 100


def test_the_script_writes_every_series_and_says_how_to_run_each(made, tmp_path, capsys):
    series.main([str(tmp_path), "--data-dir", str(data_dir())])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(series.SERIES)
    for line, made_series in zip(out, series.SERIES, strict=True):
        path = tmp_path / f"{made_series.name}.csv"
        assert line.startswith(f"{path} (") and line.endswith(" ".join(made_series.flags))
        assert path.read_bytes() == made[made_series.name].read_bytes()  # deterministic


# End to end: the real CLI, real training, at the smallest budget.

BUDGET = ("--trials", "1", "--max-epochs", "1", "--space", str(FAST_SPACE), "--replicates", "0")
BUDGET += ("--jobs", "1", "--seed", "0", "--quiet")


@dataclass(frozen=True)
class Case:
    """One series through every command: what `tuner run` is given, what predict reads."""

    name: str
    freq: str
    steps: tuple[int, ...]
    season: int


CASES = {
    "changping-15min": Case("changping-15min", "15min", (4,), 96),
    "beijing-daily": Case("beijing-daily", "D", tuple(range(1, 8)), 7),
    "beijing": Case("beijing", "h", tuple(range(1, 25)), 24),
}
BEIJING_HOURS = 2 * 8760  # run on 2013 and 2014
PREDICT_HOURS = 720  # predict reads the Beijing file's last 30 days, not 43,824 hours


@dataclass(frozen=True)
class Done:
    workspace: Path
    data: Path  # what predict read
    commands: dict[str, object]  # command -> CompletedProcess


def _run_args(case: Case, made: dict[str, Path], workspace: Path) -> list[str]:
    horizon = ["--horizon", str(max(case.steps))]
    horizon += ["--every-step"] if len(case.steps) > 1 else []
    if case.name == "beijing":  # its last two years: a booster per step fits in seconds
        path = _beijing_lines(workspace / "beijing-2013-2014.csv", BEIJING_HOURS)
        splits = ["--val-start", "2014-01-01", "--test-start", "2014-07-01"]
        return ["--data", str(path), "--target", "pm2.5", *splits, *horizon]
    return ["--data", str(made[case.name]), *_flags(case.name), *horizon]


def _predict_data(case: Case, made: dict[str, Path], workspace: Path) -> Path:
    if case.name != "beijing":
        return made[case.name]
    return _beijing_lines(workspace / "beijing-last-days.csv", PREDICT_HOURS)


def _beijing_lines(path: Path, hours: int) -> Path:
    """The Beijing file's last `hours` rows, with its header."""
    lines = (data_dir() / series.BEIJING_FILE).read_text().splitlines()
    path.write_text("\n".join([lines[0], *lines[-hours:]]) + "\n")
    return path


def _through_every_command(case: Case, made: dict[str, Path], workspace: Path) -> Done:
    data = _predict_data(case, made, workspace)
    commands = {}
    for command, *args in (
        ("run", *_run_args(case, made, workspace), *BUDGET),
        ("best", "--json"),
        ("export", "--quiet"),
        ("predict", "--model", "results/best", "--data", str(data), "--out", "forecast.csv"),
    ):
        commands[command] = done = tuner(command, *args, cwd=workspace, timeout=600)
        if done.returncode != 0:
            break
    return Done(workspace, data, commands)


@pytest.fixture(scope="module")
def pipelines(made, tmp_path_factory) -> dict[str, Done]:
    """Every case at once, each in its own folder: their processes overlap on two cores."""
    with ThreadPoolExecutor(len(CASES)) as pool:
        futures = {
            name: pool.submit(_through_every_command, case, made, tmp_path_factory.mktemp(name))
            for name, case in CASES.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(params=list(CASES))
def case(request, pipelines) -> tuple[Case, Done]:
    return CASES[request.param], pipelines[request.param]


def _meta(done: Done) -> dict:
    return json.loads((done.workspace / "results" / "best" / "metadata.json").read_text())


@pytest.mark.e2e
def test_every_command_ends_well(case):
    _, done = case
    assert list(done.commands) == ["run", "best", "export", "predict"]
    for command, result in done.commands.items():
        assert result.returncode == 0, f"tuner {command}: {result.stderr}"
        assert "Traceback" not in result.stderr, f"tuner {command}: {result.stderr}"


@pytest.mark.e2e
def test_best_shows_the_error_at_each_step(case):
    spec, done = case
    best = json.loads(done.commands["best"].stdout)["best"]
    if len(spec.steps) == 1:
        assert best.get("val_rmse_by_step") is None
        return
    by_step = np.array(best["val_rmse_by_step"])
    assert by_step.shape == (len(spec.steps),) and np.isfinite(by_step).all()
    # every step is scored on the same origins: the trial's value is their root mean square
    assert best["val_rmse"] == pytest.approx(math.sqrt(np.mean(by_step**2)), rel=1e-4)


@pytest.mark.e2e
def test_the_bundle_records_its_step_and_steps(case):
    spec, done = case
    meta = _meta(done)
    assert (meta["freq"], meta["steps"]) == (spec.freq, list(spec.steps))
    assert meta["horizon"] == max(spec.steps)
    if len(spec.steps) > 1:
        assert len(meta["test_rmse_by_step"]) == len(spec.steps)
        persistence = meta["baselines_test"]["persistence"]
        assert len(persistence["by_step"]) == len(spec.steps)
        assert persistence["rmse"] == pytest.approx(meta["persistence_test_rmse"])


def _column(forecast: pd.DataFrame, suffix: str) -> pd.Series:
    """The column `TARGET_suffix`, whatever unit its name gives."""
    (name,) = [c for c in forecast.columns if c.split(" (")[0].endswith(f"_{suffix}")]
    return forecast[name]


@pytest.mark.e2e
def test_predict_writes_a_row_per_origin_and_step(case):
    spec, done = case
    meta = _meta(done)
    forecast = pd.read_csv(done.workspace / "forecast.csv", parse_dates=["time", "target_time"])
    rows = len(pd.read_csv(done.data))  # every series here is complete: one row per step
    origins = rows - meta["seq_len"] + 1
    assert len(forecast) == origins * len(spec.steps)
    steps = forecast.groupby("time")["step"].apply(tuple)
    assert (steps == pd.Series([tuple(spec.steps)] * len(steps), index=steps.index)).all()
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(spec.freq))
    ahead = (forecast["target_time"] - forecast["time"]) / step
    assert (ahead == forecast["step"]).all()


@pytest.mark.e2e
def test_forecasts_are_finite_and_in_the_target_s_units(case):
    spec, done = case
    meta = _meta(done)
    forecast = pd.read_csv(done.workspace / "forecast.csv", parse_dates=["time", "target_time"])
    predicted, observed = _column(forecast, "forecast"), _column(forecast, "observed")
    persistence = _column(forecast, "persistence")
    assert np.isfinite(predicted).all()
    scored = observed.notna() & persistence.notna()
    assert scored.sum() > 100
    error = np.sqrt(np.mean((predicted - observed)[scored] ** 2))
    naive = np.sqrt(np.mean((persistence - observed)[scored] ** 2))
    assert error < 3 * naive  # a scaled forecast, near 0, would be off by the series' level
    # the naive columns are the file's own values, where it has them: at the origin, and
    # one cycle before the target (every step here is within a cycle of its origin)
    values = _target_by_time(done.data, meta)
    cycle = pd.Timedelta(pd.tseries.frequencies.to_offset(spec.freq)) * spec.season
    for naive, times in (
        (persistence, forecast["time"]),
        (_column(forecast, "seasonal"), forecast["target_time"] - cycle),
    ):
        expected = values.reindex(times).to_numpy()
        known = ~np.isnan(expected)
        assert known.mean() > 0.5
        np.testing.assert_allclose(naive.to_numpy()[known], expected[known], atol=1e-3)


def _target_by_time(path: Path, meta: dict) -> pd.Series:
    raw = pd.read_csv(path)
    time_col = meta.get("time_col")
    if time_col:
        times = pd.to_datetime(raw[time_col])
    else:
        times = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    return pd.Series(raw[meta["target"]].to_numpy("float64"), index=pd.DatetimeIndex(times))


@pytest.mark.e2e
def test_a_curve_bank_draws_the_windows_run_draws_on_the_series_step(made, tmp_path):
    from tuner.bench.cli import main
    from tuner.data.grid import DAY
    from tuner.search.seq_len import for_step
    from tuner.search.space import load_space

    bank = tmp_path / "bank.jsonl"
    args = ["--data", str(made["beijing-daily"]), *_flags("beijing-daily")]
    assert main(["curves", *args, "--configs", "3", "--epochs", "2", "--out", str(bank)]) == 0
    drawn = {json.loads(line)["params"]["seq_len"] for line in bank.read_text().splitlines()}
    weeks = set(for_step(load_space("lstm_baseline"), DAY).params["seq_len"].values())
    assert drawn and drawn <= weeks and weeks <= {7, 14, 28}
