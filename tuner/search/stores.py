"""Where a study's models are kept, a folder here or an S3 bucket, and that place opened as
Optuna's artifact store.

A folder serves one machine, or several that mount it. A bucket (`s3://bucket/prefix`)
serves machines that share nothing but the study's database: a model trained on one is
exported, reported and downloaded on another. The bucket is reached with boto3's own lookup
of the endpoint and credentials (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_PROFILE`,
`~/.aws/config`, an instance role), so that a study records the URL alone and never a
secret.
"""

from __future__ import annotations

import logging
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from optuna.artifacts import Backoff, FileSystemArtifactStore

from tuner.errors import TunerError

if TYPE_CHECKING:
    from optuna.artifacts._protocol import ArtifactStore

S3_SCHEME = "s3://"
# An upload that fails is tried again after 0.2, 0.4, ... 6.4 s: a store that is back within
# about 13 s loses nothing; one that is not fails that trial's upload (`upload_bound_s`),
# and the search goes on.
UPLOAD_RETRIES = 7
UPLOAD_FIRST_DELAY_S = 0.2
UPLOAD_MAX_DELAY_S = 6.4
# Each try: to connect, and for each answer of an endpoint that accepted and stalls.
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 10
PROBE_KEY = ".tuner-probe-"


@dataclass(frozen=True)
class Bucket:
    """An S3 (or S3-compatible) bucket, and the key prefix a study's objects go under."""

    name: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"{S3_SCHEME}{self.name}/{self.prefix}".rstrip("/")

    def key(self, artifact_id: str) -> str:
        return f"{self.prefix}/{artifact_id}" if self.prefix else artifact_id


Store = Path | Bucket


def parse_store(text: str | Store) -> Store:
    """A folder, or `s3://bucket/prefix`; any other URL is refused in one line rather than
    taken for a folder named after its scheme."""
    if isinstance(text, (Path, Bucket)):
        return text
    if text.startswith(S3_SCHEME):
        name, _, prefix = text[len(S3_SCHEME) :].partition("/")
        # S3's own rule for bucket names: 3-63 of a-z, 0-9, '.', '-'.
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name):
            raise TunerError(f"{text}: not an S3 bucket name (s3://BUCKET/PREFIX)")
        return Bucket(name, prefix.strip("/"))
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme:
        raise TunerError(
            f"{text}: unknown artifact store '{scheme.group(1)}://' (give a folder or "
            f"{S3_SCHEME}BUCKET/PREFIX)"
        )
    return Path(text)


def is_here(store: Store) -> bool:
    """Whether the store can be read from this machine: a bucket is reached from anywhere,
    a folder only where it exists."""
    return isinstance(store, Bucket) or store.is_dir()


def same_store(a: Store, b: Store) -> bool:
    if isinstance(a, Path) and isinstance(b, Path):
        return a.resolve() == b.resolve()
    return a == b


def settled(store: Store) -> Store:
    """The store as a study records it: a folder by its absolute path."""
    return store.resolve() if isinstance(store, Path) else store


def open_store(store: Store, *, create: bool = True) -> ArtifactStore:
    """Optuna's artifact store at `store`.

    With `create`, the folder is made, and either is checked with a real write, so that a
    run refuses a store it cannot use before it trains anything; without, the folder must
    exist.
    """
    if isinstance(store, Bucket):
        return _open_bucket(store, probe=create)
    if not create:
        if not store.is_dir():
            raise TunerError(f"{store}: no artifact store here; give --artifacts")
        return FileSystemArtifactStore(str(store))
    try:
        store.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=store).close()  # as a real write: root passes os.access
    except OSError as e:
        raise TunerError(f"{store}: cannot write the artifact store: {e.strerror}") from e
    return FileSystemArtifactStore(str(store))


def upload_bound_s() -> float:
    """The longest a bucket that stopped answering holds an upload before the trial fails
    with `ModelNotSaved`: every try's connect and read timeouts, and the waits between
    tries (about 153 s); a bucket that refuses connections fails it in about 13 s."""
    waits = sum(
        min(UPLOAD_FIRST_DELAY_S * 2**i, UPLOAD_MAX_DELAY_S) for i in range(UPLOAD_RETRIES - 1)
    )
    return UPLOAD_RETRIES * (CONNECT_TIMEOUT_S + READ_TIMEOUT_S) + waits


def store_errors() -> tuple[type[Exception], ...]:
    """What a bucket raises when it cannot be reached or refuses a request."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return ()
    return (BotoCoreError, ClientError)


def describe_store_error(error: Exception) -> str:
    """One line: the service's own code and message where it gave them."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        detail = response["Error"]
        return f"{detail.get('Code', '')}: {detail.get('Message', '')}".strip(": ")
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _UnderPrefix:
    """Optuna's Boto3 store keys objects at the bucket's root; this keeps a study's objects
    under its prefix, so that one bucket can hold several studies, or other data."""

    def __init__(self, store: ArtifactStore, bucket: Bucket) -> None:
        self._store, self._bucket = store, bucket

    def open_reader(self, artifact_id: str) -> BinaryIO:
        return self._store.open_reader(self._bucket.key(artifact_id))

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        self._store.write(self._bucket.key(artifact_id), content_body)

    def remove(self, artifact_id: str) -> None:
        self._store.remove(self._bucket.key(artifact_id))


def _open_bucket(bucket: Bucket, *, probe: bool) -> ArtifactStore:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as e:
        raise TunerError(f"{bucket}: needs boto3 (pip install 'tuner[s3]')") from e
    from optuna.artifacts import Boto3ArtifactStore

    # boto3 1.36+ sends checksums that several S3-compatible servers reject; AWS needs none.
    # Backoff is the one layer of retries, so that an outage costs a known time.
    config = Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"total_max_attempts": 1},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )
    try:
        client = boto3.client("s3", config=config)
    except store_errors() as e:  # a malformed ~/.aws/config, say
        raise TunerError(f"{bucket}: {describe_store_error(e)}") from e
    store = _UnderPrefix(Boto3ArtifactStore(bucket.name, client), bucket)
    if probe:
        _probe(store, bucket)
    # Backoff logs every retry with its traceback; the trial's fail reason says it once.
    logging.getLogger("optuna.artifacts._backoff").setLevel(logging.CRITICAL)
    return Backoff(
        store,
        max_retries=UPLOAD_RETRIES,
        min_delay=UPLOAD_FIRST_DELAY_S,
        max_delay=UPLOAD_MAX_DELAY_S,
    )


def _probe(store: _UnderPrefix, bucket: Bucket) -> None:
    """Write and remove one small object: a missing bucket, wrong credentials or an
    endpoint that does not answer are refused now, not after the first trial trained."""
    import io

    key = f"{PROBE_KEY}{uuid.uuid4().hex}"
    try:
        store.write(key, io.BytesIO(b"tuner"))
        store.remove(key)
    except store_errors() as e:
        reason = describe_store_error(e)
        raise TunerError(f"{bucket}: cannot write the artifact store: {reason}") from e
