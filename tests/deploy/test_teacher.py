"""The teacher's targets and when it may teach: plain arrays, no LightGBM, no Keras."""

import math

import numpy as np
import pytest

from tuner.deploy.teacher import taught, teacher_weight


def test_a_fitted_booster_teaches_at_the_weight_asked_for_however_it_validated():
    assert teacher_weight(0.75, boosting_val=22.5) == 0.75
    assert teacher_weight(0.5, boosting_val=30.0) == 0.5


@pytest.mark.parametrize("boosting_val", [None, math.nan, math.inf])
def test_a_booster_without_a_validation_score_teaches_nothing(boosting_val):
    assert teacher_weight(0.75, boosting_val) == 0.0


def test_the_targets_mix_the_forecast_and_the_observed_value_at_the_weight():
    observed = np.array([1.0, 2.0, 3.0], dtype="float32")
    forecast = np.array([3.0, 2.0, -1.0])
    mixed = taught(observed, forecast, 0.75)
    np.testing.assert_allclose(mixed, [2.5, 2.0, 0.0])
    assert mixed.dtype == observed.dtype
    np.testing.assert_array_equal(taught(observed, forecast, 0.0), observed)
    np.testing.assert_allclose(taught(observed, forecast, 1.0), forecast)


def test_where_the_teacher_has_no_forecast_the_observed_value_stays():
    observed = np.array([1.0, 2.0, 3.0])
    mixed = taught(observed, np.array([np.nan, 4.0, np.inf]), 0.5)
    np.testing.assert_allclose(mixed, [1.0, 3.0, 3.0])


@pytest.mark.parametrize("weight", [-0.1, 1.5, math.nan])
def test_a_weight_outside_0_to_1_is_refused(weight):
    with pytest.raises(ValueError, match="between 0 and 1"):
        taught(np.zeros(2), np.zeros(2), weight)


def test_forecasts_that_do_not_match_the_targets_are_refused():
    with pytest.raises(ValueError, match=r"\(3,\) forecasts for \(2,\) targets"):
        taught(np.zeros(2), np.zeros(3), 0.5)
