"""Windows: an origin's observed targets at each step, full history, whole batches."""

import numpy as np

from tuner.data.windows import Windows, forecast_origins, make_windows, whole_batches


def test_origins_skip_unknown_targets_and_short_history():
    known = np.array([True, True, False, True, True, True])
    assert forecast_origins(known, 0, 6, seq_len=2, steps=(1,)).tolist() == [2, 3, 4]
    assert forecast_origins(known, 0, 6, seq_len=3, steps=(2,)).tolist() == [2, 3]
    assert forecast_origins(known, 0, 6, seq_len=1, steps=(1,)).tolist() == [0, 2, 3, 4]


def test_an_origin_is_kept_only_when_every_step_s_target_was_observed_in_the_part():
    known = np.ones(12, dtype=bool)
    known[7] = False
    origins = forecast_origins(known, 4, 12, seq_len=2, steps=(1, 2, 3))
    assert origins.tolist() == [3, 7, 8]  # 4, 5 and 6 reach row 7; 9 would reach row 12
    assert forecast_origins(known, 4, 12, seq_len=2, steps=(3,)).tolist() == [1, 2, 3, 5, 6, 7, 8]


def test_each_window_ends_at_its_origin_and_holds_every_step_s_target():
    x = np.arange(20.0).reshape(10, 2)
    y = np.arange(10.0) * 10
    windows = make_windows(x, y, np.array([3, 5]), seq_len=3, steps=(1, 2, 4))
    assert windows.x.shape == (2, 3, 2) and windows.x[0, -1].tolist() == [6.0, 7.0]
    assert windows.x[1, 0].tolist() == [6.0, 7.0]
    assert windows.y.tolist() == [[40, 50, 70], [60, 70, 90]]
    assert windows.y.dtype == np.float32


def test_whole_batches_keep_the_newest_windows_without_copying():
    origins = np.arange(10, 20)
    windows = Windows(
        x=np.arange(30.0).reshape(10, 3, 1), y=origins[:, None] * 1.0, origins=origins
    )
    kept = whole_batches(windows, 4)
    assert kept.origins.tolist() == list(range(12, 20))  # 10 % 4 = 2 oldest left out
    assert kept.x[0, 0, 0] == 6.0 and kept.y[:, 0].tolist() == kept.origins.tolist()
    assert np.shares_memory(kept.x, windows.x)
    assert len(whole_batches(windows, 5)) == 10
    assert len(whole_batches(windows, 16)) == 10  # less than one batch: all of it
