"""Windows: observed targets only, full history, whole batches without copying."""

import numpy as np


def test_target_rows_skip_unknown_targets_and_short_history():
    from tuner.data.windows import target_rows

    known = np.array([True, True, False, True, True, True])
    assert target_rows(known, 0, 6, seq_len=2, horizon=1).tolist() == [3, 4, 5]
    assert target_rows(known, 0, 6, seq_len=3, horizon=2).tolist() == [4, 5]
    assert target_rows(known, 0, 6, seq_len=1, horizon=1).tolist() == [1, 3, 4, 5]


def test_whole_batches_keep_the_newest_windows_without_copying():
    from tuner.data.windows import Windows, whole_batches

    rows = np.arange(10, 20)
    windows = Windows(x=np.arange(30.0).reshape(10, 3, 1), y=rows * 1.0, rows=rows)
    kept = whole_batches(windows, 4)
    assert kept.rows.tolist() == list(range(12, 20))  # 10 % 4 = 2 oldest left out
    assert kept.x[0, 0, 0] == 6.0 and kept.y.tolist() == kept.rows.tolist()
    assert np.shares_memory(kept.x, windows.x)
    assert len(whole_batches(windows, 5)) == 10
    assert len(whole_batches(windows, 16)) == 10  # less than one batch: all of it
