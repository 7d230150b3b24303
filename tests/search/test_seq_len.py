"""A built-in space's windows, written in hours, as steps of the series' step."""

import pandas as pd
import pytest

from tests.conftest import FAST_SPACE
from tuner.model.params import MAX_SEQ_LEN
from tuner.search.record import space_record
from tuner.search.seq_len import for_step, windows_line
from tuner.search.space import ParamSpec, load_space

BASELINE = load_space("lstm_baseline")
LONG = load_space("lstm_long")


def _seq_len(space) -> tuple:
    return space.params["seq_len"].values()


def test_an_hourly_series_keeps_the_space_itself():
    assert for_step(BASELINE, pd.Timedelta(hours=1)) is BASELINE
    assert windows_line(BASELINE, BASELINE, pd.Timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("step", "baseline", "long"),
    [
        ("15min", (24, 48, 96), (24, 48, 96, 192, 288)),
        ("30min", (12, 24, 48), (12, 24, 48, 96, 144)),
        ("2h", (3, 6, 12), (3, 6, 12, 24, 36)),
        ("5h", (1, 2, 5), (1, 2, 5, 10, 14)),  # rounded to whole steps
        ("1D", (7, 14, 28), (7, 14, 28, 56, 84)),  # whole weeks from one week
        ("2D", (4, 7, 14), (4, 7, 14, 28, 42)),
        ("7D", (1, 2, 4), (1, 2, 4, 8, 12)),
    ],
)
def test_below_a_day_the_same_durations_from_a_day_whole_weeks(step, baseline, long):
    step = pd.Timedelta(step)
    assert _seq_len(for_step(BASELINE, step)) == baseline
    assert _seq_len(for_step(LONG, step)) == long


def test_only_seq_len_changes_and_the_given_space_is_left_alone():
    adapted = for_step(BASELINE, pd.Timedelta("15min"))
    assert adapted.name == BASELINE.name and adapted.training == BASELINE.training
    assert {k: v for k, v in adapted.params.items() if k != "seq_len"} == {
        k: v for k, v in BASELINE.params.items() if k != "seq_len"
    }
    assert _seq_len(BASELINE) == (6, 12, 24)
    assert space_record(adapted)["seq_len"] == {"choices": [24, 48, 96]}


def test_a_user_s_space_is_taken_as_written_in_steps():
    space = load_space(FAST_SPACE)
    assert not space.builtin and BASELINE.builtin
    assert for_step(space, pd.Timedelta("15min")) is space


def test_windows_stay_within_the_limits_and_repeats_merge():
    ranged = BASELINE.params | {"seq_len": ParamSpec("seq_len", "int", low=6, high=72)}
    space = BASELINE.__class__(BASELINE.name, ranged, BASELINE.training, builtin=True)
    adapted = for_step(space, pd.Timedelta("1min")).params["seq_len"]
    assert (adapted.low, adapted.high) == (360, 4320)
    assert _seq_len(for_step(BASELINE, pd.Timedelta("1s"))) == (MAX_SEQ_LEN,)
    assert _seq_len(for_step(BASELINE, pd.Timedelta("8h"))) == (1, 2, 3)


def test_the_run_says_how_it_read_the_windows():
    quarter = pd.Timedelta("15min")
    assert windows_line(BASELINE, for_step(BASELINE, quarter), quarter) == (
        "space lstm_baseline: windows of 6, 12, 24 hours (written for hourly data) as the same "
        "durations: seq_len 24, 48, 96 steps of 15 minutes"
    )
    day = pd.Timedelta("1D")
    assert windows_line(BASELINE, for_step(BASELINE, day), day).endswith(
        "as whole weeks, the shortest one week: seq_len 7, 14, 28 steps of 1 day"
    )
