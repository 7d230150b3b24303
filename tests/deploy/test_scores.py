"""`score`: a real model on real windows, over every origin and step and step by step,
beside the naive baselines on exactly the origins they score."""

import math

import numpy as np
import pytest

from tests.deploy import tiny
from tuner.data import naive
from tuner.deploy.scores import model_forecasts, score, step_scores
from tuner.model.baseline import Baseline

# Twelve hours of training rows: too few for the booster's history, so no booster.
SPLIT = {"val_start": "2021-01-01 12:00", "test_start": "2021-01-03"}


@pytest.fixture(scope="module")
def every_step(tmp_path_factory):
    """Four days of quarter hours; every step up to 2 hours ahead."""
    frame = tiny.series(4 * 24 * 4, "15min")
    frame.loc[[200, 250, 300], "load"] = np.nan  # unobserved targets: no origin scores them
    data = tiny.prepared(
        tmp_path_factory.mktemp("scores"), frame, horizon=8, every_step=True, **SPLIT
    )
    return data, tiny.model(data, seq_len=12)


def test_step_scores_are_overall_and_by_column():
    observed = np.zeros((4, 2))
    forecast = np.array([[1.0, 2.0], [1.0, 2.0], [-1.0, 2.0], [-1.0, -2.0]])
    scores = step_scores(forecast, observed)
    assert scores.by_step == (1.0, 2.0) and scores.rmse == pytest.approx(math.sqrt(2.5))


def test_the_model_is_scored_on_the_origins_the_baselines_score(every_step):
    data, model = every_step
    for part in ("val", "test"):
        x, forecast = model_forecasts(model, data, part, 12)
        origins = data.scored_origins(part)
        assert forecast.shape == (len(origins), 8) and len(x) == len(origins)
        assert not np.isin(origins[:, None] + np.arange(1, 9), [200, 250, 300]).any()


def test_every_score_has_a_value_per_step(every_step):
    data, model = every_step
    scores = score(model, data)
    origins = data.scored_origins("test")
    observed = data.observed(origins)
    assert scores.test_forecast.shape == (len(origins), 8) == scores.test_x.shape[:1] + (8,)
    assert scores.test.rmse == pytest.approx(naive.rmse(scores.test_forecast, observed))
    assert len(scores.test.by_step) == len(scores.val.by_step) == 8
    persistence = scores.baselines_test["persistence"]
    assert persistence.rmse == pytest.approx(data.persistence_rmse("test"))
    assert persistence.by_step[0] < persistence.by_step[-1]  # further ahead, further off
    seasonal = data.naive_forecasts(origins)["seasonal"]
    assert scores.baselines_test["seasonal"].by_step == naive.rmse_by_step(seasonal, observed)
    assert "boosting" not in scores.baselines_test and scores.boosting_test_rmse is None


def test_a_model_of_another_number_of_steps_is_refused(every_step, tmp_path):
    data, _ = every_step
    one = tiny.prepared(tmp_path, tiny.series(4 * 24 * 4, "15min"), horizon=8, **SPLIT)
    with pytest.raises(RuntimeError, match="forecasts 1 values per window; the data has 8"):
        model_forecasts(tiny.model(one, seq_len=12), data, "val", 12)


@pytest.mark.skipif(
    not hasattr(Baseline, "rmse_by_step"), reason="the booster scores one step only"
)
def test_the_booster_is_scored_step_by_step(tmp_path):
    frame = tiny.series(24 * 40, "h")
    data = tiny.prepared(
        tmp_path, frame, horizon=6, every_step=True, val_start="2021-01-25", test_start="2021-02-02"
    )
    scores = score(tiny.model(data, seq_len=6), data)
    boosting = scores.baselines_test["boosting"]
    assert len(boosting.by_step) == 6 and boosting.rmse == scores.boosting_test_rmse
    assert scores.boosting_val_rmse is not None
