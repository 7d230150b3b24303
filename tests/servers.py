"""Real servers on loopback for the many-machines tests: a PostgreSQL cluster in a temporary
folder (Debian's postgresql package, as .ci/run installs it), moto's standalone S3 server
(a real HTTP process speaking the S3 API, from PyPI), and a gate in front of a server that a
test closes to make it unreachable and opens again."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")), None)
    assert found, f"{name} not found: install PostgreSQL's server (Debian: postgresql)"
    return found


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root: use the postgres account there."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class Postgres:
    """A PostgreSQL cluster of its own, listening on loopback only, trust authentication."""

    def __init__(self, **settings: object) -> None:
        # Not under pytest's tmp_path, whose parents the postgres account may not enter.
        self.folder = Path(tempfile.mkdtemp(prefix="tuner-pg-"))
        self.data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.port = free_port()
        self.settings = {"listen_addresses": "127.0.0.1", **settings}
        subprocess.run(
            _as_postgres([_pg_bin("initdb"), "-D", str(self.data), "-U", "tuner", "--auth=trust"]),
            check=True,
            capture_output=True,
        )
        self.start()

    @property
    def url(self) -> str:
        """The plain form, as the README shows it: SQLAlchemy picks the `postgres` extra's
        driver."""
        return f"postgresql://tuner@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), *args]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} " + " ".join(
            f"-c {key}={value}" for key, value in self.settings.items()
        )
        self._ctl("-o", options, "-w", "start", "-l", str(self.folder / "log"))

    def stop(self) -> None:
        """As a restart or a failover does: sessions are ended, new ones refused."""
        self._ctl("-m", "fast", "-w", "stop")

    def new_database(self) -> str:
        """A fresh, empty database in the cluster: its URL."""
        import sqlalchemy

        name = f"db_{uuid.uuid4().hex[:12]}"
        admin = sqlalchemy.create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
        finally:
            admin.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def close(self) -> None:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


BUCKET = "models"  # the bucket the `s3` fixture makes


class S3Server:
    """moto's standalone server: S3 over HTTP on loopback, objects in its memory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        """A boto3 client of this server, straight to it (no proxy between)."""
        import boto3

        env = aws_environment(self.endpoint)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        )

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def aws_environment(endpoint: str) -> dict[str, str]:
    """The standard AWS variables a user sets to reach an S3-compatible server: tuner reads
    nothing else. The credentials are moto's, which accepts any."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "tuner-test",
        "AWS_SECRET_ACCESS_KEY": "tuner-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


class Gate:
    """A TCP forwarder on loopback in front of `port`: `close()` ends every connection
    through it and refuses new ones, as a server that went away does; `open()` lets
    them through again, to the same server and its data."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.open()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._sockets.append(self._listener)  # shut down: a blocked accept() returns
                self._listener = None
            for s in self._sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed
                return
            server = self._connect(client)
            if server is None:
                continue
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _connect(self, client: socket.socket) -> socket.socket | None:
        """The connection to the server for the accepted `client`; None turns it away."""
        return socket.create_connection(("127.0.0.1", self.target))

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
