"""Waiting in a test for what it needs: a condition, a process's end, a server's answer.

Never a fixed sleep, and no test asserts on how long anything took. A state that announces
itself through nothing the test can wait on (rows in a database, a port that answers) is
looked at again and again, and between two looks the test waits on the process that should
bring it about: if that process ends first, the wait fails at once, with its output. Each
wait has a bound only so that a broken run fails instead of hanging forever.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LOOK_EVERY = 0.5  # seconds of waiting on the process between two looks at the condition
LOOKS = 1800  # bound: about 15 minutes of looking, beyond any run here on a busy machine


def until(condition: Callable[[], T], process: subprocess.Popen, what: str) -> T:
    """`condition()`'s first true value, looked for while `process` is running.

    `what` names the awaited state in the failure message.
    """
    for _ in range(LOOKS):
        found = condition()
        if found:
            return found
        try:
            process.wait(timeout=LOOK_EVERY)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(
            f"{what}: the process ended first (exit {process.returncode}){_output(process)}"
        )
    raise AssertionError(f"{what}: not after {LOOKS} looks, {LOOK_EVERY} s apart")


def answering(url: str, server: subprocess.Popen) -> bytes:
    """The body of `url` once the `server` starting up answers it."""

    def answer() -> bytes | None:
        try:
            return urllib.request.urlopen(url, timeout=5).read()
        except urllib.error.HTTPError:
            raise  # it answered, with an error
        except OSError:  # not listening yet
            return None

    return until(answer, server, f"{url} never answered")


def ended(pids: Iterable[int], what: str, *, timeout: float = 120) -> None:
    """Wait until each of `pids` has exited, a child of this process or not (a pidfd).

    A process that exited counts even while no parent has reaped it yet.
    """
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # already gone
        try:
            readable, _, _ = select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        assert readable, f"{what}: process {pid} is still running"


@contextlib.contextmanager
def reaped(*processes: subprocess.Popen) -> Iterator[None]:
    """Kill what of `processes` and their children the block leaves running (a test that
    failed half-way), stopped ones included, so that no search goes on after the test."""
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is not None:
                continue
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            with contextlib.suppress(OSError):
                for pid in children.read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
            process.kill()
            process.communicate()


def _output(process: subprocess.Popen) -> str:
    parts = [p if isinstance(p, str) else p.decode(errors="replace") for p in process.communicate()]
    text = "\n".join(p for p in parts if p)
    return f":\n{text[-3000:]}" if text else ""
