"""A TCP proxy on loopback that tests put between tuner and a real server, to make the
faults a network and a failover make, when a test asks for them:

- `lose_commit_replies(n, within)`: the next n COMMITs (PostgreSQL's wire protocol) made
  within `within` seconds reach the server and are carried out, and the server's reply is
  lost: the connection breaks before it;
- `drop_mid_transaction(n, within)`: as many connections inside a transaction break
  before a statement reaches the server (which rolls the transaction back);
- `delay(s)`: every chunk, either way, is held `s` seconds;
- `refuse()` / `accept()`: every connection broken and new ones refused, as a server that
  went away; then let through again, to the same server and its data;
- `stall()`: connections accepted and nothing answered, as an endpoint that hangs.

Threads, one pair per connection; `fired` lists the faults carried out, for a test's report.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Messages:
    """PostgreSQL's messages out of a byte stream: (type, whole message bytes)."""

    def __init__(self, untyped: int = 0) -> None:
        self.buffer = b""
        self.untyped = untyped  # messages still to come without a type byte (the startup)
        self.single_bytes = 0  # one-byte answers to come (to an SSL or GSS request)

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        self.buffer += chunk
        out = []
        while True:
            if self.single_bytes and self.buffer:
                out.append((b"", self.buffer[:1]))
                self.buffer, self.single_bytes = self.buffer[1:], self.single_bytes - 1
                continue
            head = 0 if self.untyped else 1
            if len(self.buffer) < head + 4:
                return out
            (length,) = struct.unpack("!I", self.buffer[head : head + 4])
            if len(self.buffer) < head + length:
                return out
            message, self.buffer = self.buffer[: head + length], self.buffer[head + length :]
            if self.untyped:
                (code,) = struct.unpack("!I", message[4:8])
                if code not in (SSL_REQUEST, GSSENC_REQUEST):
                    self.untyped = 0
                out.append((b"startup" if self.untyped == 0 else b"request", message))
            else:
                out.append((message[:1], message))


def _sql(kind: bytes, message: bytes) -> str:
    """The statement of a simple query ('Q') or of a Parse ('P'), upper case."""
    if kind == b"Q":
        return message[5:].rstrip(b"\0").decode(errors="replace").strip().upper()
    if kind == b"P":
        fields = message[5:].split(b"\0")
        return fields[1].decode(errors="replace").strip().upper() if len(fields) > 1 else ""
    return ""


class FaultProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target`, with the faults asked for."""

    def __init__(self, target: int, *, postgres: bool = True) -> None:
        self.target, self.port, self.postgres = target, free_port(), postgres
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._pending = {"commit": (0, 0.0), "drop": (0, 0.0)}  # (count, until when)
        self._delay = 0.0
        self._stalled = False
        self.fired: list[str] = []
        self.accept()

    # The faults.
    def lose_commit_replies(self, n: int = 1, within: float = 3600.0) -> None:
        with self._lock:
            self._pending["commit"] = (n, time.monotonic() + within)

    def drop_mid_transaction(self, n: int = 1, within: float = 3600.0) -> None:
        with self._lock:
            self._pending["drop"] = (n, time.monotonic() + within)

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def stall(self, stalled: bool = True) -> None:
        self._stalled = stalled

    def refuse(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._close(self._listener)
                self._listener = None
            for s in list(self._sockets):
                self._close(s)
            self._sockets.clear()
            self.fired.append("refuse")

    def accept(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            for _ in range(100):  # the port may be held a moment by the listener just closed
                try:
                    listener.bind(("127.0.0.1", self.port))
                    break
                except OSError:
                    time.sleep(0.05)
            listener.listen(128)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        self.refuse()

    # The forwarding.
    @staticmethod
    def _close(s: socket.socket) -> None:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._stalled:
                with self._lock:
                    self._sockets.add(client)
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                self._close(client)
                continue
            with self._lock:
                self._sockets |= {client, server}
            link = _Link(self, client, server)
            threading.Thread(target=link.upstream, daemon=True).start()
            threading.Thread(target=link.downstream, daemon=True).start()

    def _swallow(self, client: socket.socket) -> None:
        try:
            while client.recv(65536):
                pass
        except OSError:
            pass

    def _take(self, fault: str) -> bool:
        with self._lock:
            count, until = self._pending[fault]
            if count < 1 or time.monotonic() > until:
                return False
            self._pending[fault] = (count - 1, until)
            self.fired.append(fault)
            return True


class _Link:
    """One connection through the proxy: client -> server and back."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy, self.client, self.server = proxy, client, server
        self.up, self.down = _Messages(untyped=1), _Messages()
        self.in_transaction = False
        self.losing_reply = threading.Event()

    def _end(self) -> None:
        for s in (self.client, self.server):
            FaultProxy._close(s)

    def upstream(self) -> None:
        try:
            while chunk := self.client.recv(65536):
                if self.proxy._delay:
                    time.sleep(self.proxy._delay)
                if not self.proxy.postgres:
                    self.server.sendall(chunk)
                    continue
                for kind, message in self.up.feed(chunk):
                    if kind == b"request":
                        self.down.single_bytes += 1
                    if not self._pass(kind, message):
                        return self._end()
                    self.server.sendall(message)
        except OSError:
            pass
        self._end()

    def _pass(self, kind: bytes, message: bytes) -> bool:
        """Whether `message` goes on; marks the reply to lose when it is a COMMIT's."""
        sql = _sql(kind, message)
        if not sql:
            return True
        if sql.startswith("BEGIN"):
            self.in_transaction = True
        elif sql.startswith(("COMMIT", "ROLLBACK")):
            was, self.in_transaction = self.in_transaction, False
            if was and sql.startswith("COMMIT") and self.proxy._take("commit"):
                self.losing_reply.set()
        elif self.in_transaction and self.proxy._take("drop"):
            return False
        return True

    def downstream(self) -> None:
        try:
            while chunk := self.server.recv(65536):
                if self.proxy._delay:
                    time.sleep(self.proxy._delay)
                if not self.proxy.postgres:
                    self.client.sendall(chunk)
                    continue
                for kind, message in self.down.feed(chunk):
                    if self.losing_reply.is_set():
                        if kind == b"Z":  # the server is done with the COMMIT: it landed
                            return self._end()
                        continue
                    self.client.sendall(message)
        except OSError:
            pass
        self._end()
