"""A bundle's files vouched for before anything reads them, by `SHA256SUMS` and by kind.

Regular files only, none outside the folder, counts and sizes bounded before a byte is
read, every checksum right and no file unlisted; and the `.keras` archive bounded once
unzipped, from its directory alone. So a hostile bundle costs little to refuse and is
never followed elsewhere. `SHA256SUMS` is in the form `sha256sum` writes and checks.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from pathlib import Path

from tuner.errors import TunerError, shown

MANIFEST_FILE = "SHA256SUMS"
MAX_MANIFEST_BYTES = 1 << 20
MAX_BUNDLE_ENTRIES = 1024  # files and folders; a SavedModel holds a handful
MAX_MODEL_BYTES = 1 << 28  # the .keras archive, and all its entries once unzipped
MAX_MODEL_ENTRIES = 64  # Keras writes three: config, metadata, weights
MAX_BUNDLE_BYTES = 4 * MAX_MODEL_BYTES  # the model in each of its formats, and the rest
_MANIFEST_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")
_CHUNK = 1 << 20


def write_manifest(folder: Path) -> None:
    """Record the sha256 of every file in `folder` in its `SHA256SUMS`, as sha256sum writes."""
    names = sorted(bundle_files(folder).keys() - {MANIFEST_FILE})
    lines = (f"{_sha256(folder / name)}  {name}\n" for name in names)
    (folder / MANIFEST_FILE).write_text("".join(lines), encoding="utf-8")


def verify_files(folder: Path) -> dict[str, int]:
    """The bundle's files and sizes, once each matches its line of `SHA256SUMS`.

    Sizes and counts are bounded before a byte is read, and no file is followed out of the
    folder, so that hashing a hostile bundle costs little and reads nothing elsewhere.
    """
    sizes = bundle_files(folder)
    if MANIFEST_FILE not in sizes:
        raise TunerError(
            f"{folder}: no {MANIFEST_FILE}, so its files cannot be verified: a bundle of an "
            "earlier tuner, or not whole; export it again"
        )
    if sizes[MANIFEST_FILE] > MAX_MANIFEST_BYTES:
        raise TunerError(f"{folder / MANIFEST_FILE}: {sizes[MANIFEST_FILE]} bytes, too large")
    listed = parse_manifest(read_regular(folder / MANIFEST_FILE), source=folder / MANIFEST_FILE)
    files = sizes.keys() - {MANIFEST_FILE}
    missing, unlisted = sorted(listed.keys() - files), sorted(files - listed.keys())
    if missing:
        raise TunerError(f"{folder}: {missing[0]} is listed in {MANIFEST_FILE} but missing")
    if unlisted:
        raise TunerError(f"{folder / unlisted[0]}: not listed in {MANIFEST_FILE}; refused")
    for name in sorted(listed):
        actual = _sha256(folder / name)
        if actual != listed[name]:
            raise TunerError(
                f"{folder / name}: sha256 {actual[:16]}…, not {listed[name][:16]}… as "
                f"{MANIFEST_FILE} says: changed or damaged since export; refused"
            )
    return {name: sizes[name] for name in files}


def parse_manifest(data: bytes, *, source: str | Path) -> dict[str, str]:
    """`SHA256SUMS` as {relative path: sha256}; a line in any other form is refused."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TunerError(f"{source}: not UTF-8 text ({e.reason})") from e
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _MANIFEST_LINE.fullmatch(line)
        name = match and match.group(2)
        if not name or not _inside(name):
            raise TunerError(f"{source}: line {number}: not '<sha256>  <path in the bundle>'")
        if name in listed:
            raise TunerError(f"{source}: line {number}: {shown(name)} listed twice")
        listed[name] = match.group(1)
    return listed


def bundle_files(folder: Path) -> dict[str, int]:
    """Every file under `folder` as {relative path: bytes}, refused unless it is a regular
    file whose name `SHA256SUMS` can hold, and unless the counts and sizes are bounded."""
    sizes: dict[str, int] = {}
    entries, total = 0, 0
    pending = [""]
    while pending:
        prefix = pending.pop()
        with os.scandir(folder / prefix if prefix else folder) as listing:
            for entry in listing:
                entries += 1
                if entries > MAX_BUNDLE_ENTRIES:
                    raise TunerError(f"{folder}: more than {MAX_BUNDLE_ENTRIES} entries")
                name = f"{prefix}{entry.name}"
                if not _inside(name) or "\\" in name:
                    raise TunerError(f"{folder}: a file name {shown(name)} a bundle cannot hold")
                if entry.is_symlink():
                    raise TunerError(f"{folder / name}: a symbolic link; refused")
                if entry.is_dir(follow_symlinks=False):
                    pending.append(f"{name}/")
                    continue
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    raise TunerError(f"{folder / name}: not a regular file; refused")
                total += info.st_size
                if total > MAX_BUNDLE_BYTES:
                    raise TunerError(f"{folder}: more than {MAX_BUNDLE_BYTES} bytes")
                sizes[name] = info.st_size
    return sizes


def _inside(name: str) -> bool:
    """A relative path with no `.` or `..` parts, printable, that UTF-8 can write."""
    parts = name.split("/")
    if not all(parts) or any(part in (".", "..") for part in parts):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return name.isprintable()


def read_regular(path: Path) -> bytes:
    """`path`'s bytes, refused unless it is a regular file (`_open_regular`)."""
    with _open_regular(path) as f:
        return f.read()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with _open_regular(path) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _open_regular(path: Path):
    """`path` opened for reading, never through a link nor blocking on a pipe put in its place."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        raise TunerError(f"{path}: cannot read: {e.strerror}") from e
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise TunerError(f"{path}: not a regular file; refused")
    return os.fdopen(handle, "rb")


def check_model_archive(path: Path) -> None:
    """Refuse a `.keras` file too large once unzipped, from its directory alone.

    Keras would inflate every entry in memory: a small archive can hold gigabytes. The
    sizes an archive declares are what Python's zipfile holds each entry to when it reads.
    An entry whose name would reach out of a folder it is extracted to is refused too.
    """
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise TunerError(f"{path}: {path.stat().st_size} bytes, larger than a model can be")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise TunerError(f"{path}: not a Keras model archive ({e})") from e
    if len(entries) > MAX_MODEL_ENTRIES:
        raise TunerError(f"{path}: {len(entries)} entries, not a Keras model archive")
    strays = [e.filename for e in entries if not _inside(e.filename.removesuffix("/"))]
    if strays:
        raise TunerError(f"{path}: an entry named {shown(strays[0])}, not a Keras model archive")
    unzipped = sum(entry.file_size for entry in entries)
    if unzipped > MAX_MODEL_BYTES:
        raise TunerError(f"{path}: {unzipped} bytes once unzipped, larger than a model can be")
