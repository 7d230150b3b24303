"""A worker caught inside its trial, and the time a dead worker's heartbeat has been silent.

A heartbeat test must neither fail a live worker whose beat a busy machine delayed nor wait
out a grace period in real time. So the tests run with a heartbeat far longer than any such
delay, and age the one heartbeat they mean to be stale: a trial whose worker is gone has its
last beat moved back by the grace period and a second, as that much time would have done.
Which trial a worker holds is read while the workers are stopped (SIGSTOP), when no trial
can change under the reading.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
from collections.abc import Callable

import sqlalchemy

from tests.waiting import until

_RUNNING = """
SELECT t.trial_id, t.number, (SELECT COUNT(*) FROM trial_intermediate_values v
                              WHERE v.trial_id = t.trial_id)
FROM trials t JOIN trial_heartbeats h ON h.trial_id = t.trial_id
WHERE t.state = 'RUNNING'
"""


def beating(url: str) -> dict[int, tuple[int, int]]:
    """The running trials that have a heartbeat: trial id -> (number, epochs reported)."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return {i: (n, epochs) for i, n, epochs in connection.exec_driver_sql(_RUNNING)}
    finally:
        engine.dispose()


def caught(
    url: str, pids: list[int], process: subprocess.Popen, trials: int
) -> dict[int, tuple[int, int]]:
    """The `trials` running trials that the processes `pids` hold, read while they are
    stopped (SIGSTOP), once each trial has a heartbeat and has reported an epoch.

    Returned with `pids` still stopped: the caller continues (SIGCONT) or kills them.
    """
    while True:
        until(lambda: _trained(url) >= trials, process, f"{trials} trials training")
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        held = {i: trial for i, trial in beating(url).items() if trial[1] > 0}
        if len(held) == trials:
            return held
        for pid in pids:  # one was between two trials: look again once it is in the next
            os.kill(pid, signal.SIGCONT)


def _trained(url: str) -> int:
    return sum(epochs > 0 for _, epochs in beating(url).values())


def moved_on(url: str, held: dict[int, tuple[int, int]]) -> Callable[[], set[int]]:
    """A condition: the trials of `held` that reported an epoch since, or ended."""

    def changed() -> set[int]:
        now = beating(url)
        return {i for i, (n, epochs) in held.items() if now.get(i, (n, -1))[1] != epochs}

    return changed


def age_heartbeat(url: str, trial_id: int, seconds: float) -> None:
    """Move trial `trial_id`'s last heartbeat `seconds` back, as that much silence would."""
    beat = sqlalchemy.bindparam("beat", type_=sqlalchemy.DateTime)
    read = sqlalchemy.text("SELECT heartbeat FROM trial_heartbeats WHERE trial_id = :id")
    write = sqlalchemy.text("UPDATE trial_heartbeats SET heartbeat = :beat WHERE trial_id = :id")
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            last = connection.execute(
                read.columns(heartbeat=sqlalchemy.DateTime), {"id": trial_id}
            ).scalar_one()
            aged = last - datetime.timedelta(seconds=seconds)
            connection.execute(write.bindparams(beat), {"beat": aged, "id": trial_id})
    finally:
        engine.dispose()
