"""The report's figures: PNG bytes for any study or forecast, Agg, and no figure left open."""

import struct
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
import pytest

from tuner.review import plots
from tuner.review.fates import Curve
from tuner.review.forecasts import Forecasts

PNG = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, from the PNG's header chunk."""
    assert png.startswith(PNG) and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


@pytest.fixture(autouse=True)
def no_figure_left_open():
    assert plt.get_fignums() == []
    yield
    assert plt.get_fignums() == []  # each figure closed once saved


@pytest.fixture(scope="module")
def study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(
        lambda t: (
            20 + (t.suggest_int("units", 8, 64) - 30) ** 2 / 100 + t.suggest_float("lr", 0, 1)
        ),
        n_trials=12,
    )
    return study


@pytest.fixture(scope="module")
def forecast() -> Forecasts:
    times = pd.date_range("2014-01-01", periods=24 * 21, freq="h")
    times = times.delete(range(30, 40))  # hours without an observed target
    rng = np.random.default_rng(0)
    observed = 50 + 20 * np.sin(np.arange(len(times)) / 6)
    return Forecasts(
        times=times,
        observed=observed,
        model=observed + rng.normal(0, 3, len(times)),
        persistence=np.roll(observed, 1),
    )


def test_the_search_s_figures(study):
    assert _size(plots.history(study, 24.9, "validation RMSE"))[0] > 400
    assert _size(plots.history(study, None, "validation RMSE"))[0] > 400  # no persistence
    assert _size(plots.importances(study, "validation RMSE"))[0] > 400


def test_a_slice_panel_for_each_parameter(study):
    one = _size(plots.slices(study, ["units"], "validation RMSE"))
    two = _size(plots.slices(study, ["units", "lr"], "validation RMSE"))
    assert two[0] > one[0] + 100  # the figure widens with its panels


def test_learning_curves_of_every_fate_and_of_none():
    found = [
        Curve(0, "completed", (0, 1, 2), (30.0, 26.0, 24.0)),
        Curve(1, "noise", (0, 1), (31.0, 31.5)),
        Curve(2, "diverged", (0,), (29.0,)),  # one point: drawn as a marker
        Curve(3, "failed", (), ()),  # nothing to draw
    ]
    assert _size(plots.learning_curves(found, 25.0, "validation RMSE"))[0] > 400
    assert _size(plots.learning_curves([], None, "validation RMSE"))[0] > 400


def test_forecast_weeks_one_panel_each_and_hour_errors(forecast):
    starts = [pd.Timestamp("2014-01-01"), pd.Timestamp("2014-01-08"), pd.Timestamp("2014-01-15")]
    one, three = (plots.forecast_weeks(forecast, starts[:n], "pm2.5") for n in (1, 3))
    assert _size(three)[1] > 2.5 * _size(one)[1]  # the figure grows a row per week
    assert _size(plots.hour_errors(forecast, "pm2.5"))[0] > 400


def test_the_error_by_step_with_the_baselines_it_has():
    steps = list(range(1, 25))
    every = {
        "model": [1.0 + s / 10 for s in steps],
        "persistence": [float(s) for s in steps],
        "seasonal": [10.0] * 24,
        "boosting": [0.5 + s / 5 for s in steps],
    }
    assert _size(plots.step_errors(every, steps, "1 hour", "pm2.5"))[0] > 400
    two = {name: every[name] for name in ("model", "persistence")}
    assert _size(plots.step_errors(two, steps, "15 minutes", "load"))[0] > 400


@pytest.mark.parametrize(
    ("values", "baseline", "expected"),
    [
        ([20.0, 30.0], None, (20 - 0.475, 29.5 + 0.475)),  # lowest to the 95th percentile
        ([20.0, 30.0], 35.0, (20 - 0.75, 35 + 0.75)),  # persistence stays in view
        ([20.0, 30.0], 10.0, (10 - 0.975, 29.5 + 0.975)),
        ([22.0, 22.0], None, (22 - 1.1, 22 + 1.1)),  # one value: padded by its size
        ([0.0], None, (-1.0, 1.0)),
    ],
)
def test_the_curves_axis_leaves_out_the_highest_first_epochs(values, baseline, expected):
    assert plots._y_range(values, baseline) == pytest.approx(expected)


@pytest.mark.parametrize(("before", "backend"), [("", "agg"), ("matplotlib.use('svg'); ", "svg")])
def test_agg_unless_pyplot_was_loaded_before(before, backend):
    code = (
        f"import matplotlib; {before}import matplotlib.pyplot; import tuner.review.plots; "
        "print(matplotlib.get_backend().lower())"
    )
    if not before:
        code = code.replace("import matplotlib.pyplot; ", "")
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert child.stdout.strip() == backend
