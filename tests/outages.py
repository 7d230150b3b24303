"""A server that goes away, and which processes came to it while it was away.

An outage a run never met proves nothing: a test holds the server down until the processes
it names have each been turned away, instead of for a length of time.
"""

from __future__ import annotations

import socket
from pathlib import Path

from tests.servers import Gate


class Doorman(Gate):
    """A `Gate` that, when the server behind it does not answer, turns the caller away (the
    connection closed at once, as a server going down does) and notes which process it was.

    Linux only: the caller is found through /proc, among the processes a test names.
    """

    def __init__(self, port: int) -> None:
        self.turned_away: set[int] = set()
        self.among: list[int] = []
        super().__init__(port)

    def _connect(self, client: socket.socket) -> socket.socket | None:
        try:
            return super()._connect(client)
        except OSError:  # the server is away
            self.turned_away |= _owners(client, self.among)
            client.close()
            return None


def _owners(accepted: socket.socket, among: list[int]) -> set[int]:
    """Which of the processes `among` holds the other end of the loopback `accepted`."""
    port = accepted.getpeername()[1]
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
        if local == port and remote == accepted.getsockname()[1]:
            inodes.add(f"socket:[{fields[9]}]")
    found = set()
    for pid in among:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if str(fd.readlink()) in inodes:
                    found.add(pid)
            except OSError:
                continue
    return found
