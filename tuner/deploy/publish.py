"""Putting a bundle in place at once, and reading one version of it however often it is.

An export writes the bundle in a hidden folder beside its destination and swaps the two
folders in one step, so that a reader sees the old bundle or the new one and never a
missing or half-written folder; a reader pins the folder it opened, so that every file it
reads comes from the same bundle.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from tuner.deploy.manifest import write_manifest
from tuner.errors import TunerError

READ_ATTEMPTS = 5  # each retry follows an export that replaced the bundle mid-read
_RENAME_EXCHANGE = 2  # renameat2(2) flag, Linux 3.15 and later
_AT_FDCWD = -100

T = TypeVar("T")


def staging_folder(out: Path) -> Path:
    """An empty hidden folder beside `out`, to write a bundle in before `publish`.

    Created with the mode any other output gets (the umask's), where `mkdtemp` alone would
    leave it readable by its owner only.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o777 & ~current_umask())
    return staging


def publish(staging: Path, out: Path) -> None:
    """Put the bundle written in `staging` at `out`, replacing any bundle there at once.

    Exporters to one folder take turns (a lock on the parent folder, so no lock file is
    left behind); the swap is one atomic exchange of the two folders, so that a reader
    sees the old bundle or the new one and never a missing or half-written folder. The
    checksums of every file are recorded first (`SHA256SUMS`), whatever files export wrote.
    """
    write_manifest(staging)
    with _locked(out.parent):
        if out.is_dir():
            _exchange(staging, out)
            shutil.rmtree(staging)  # now the previous bundle
        else:
            staging.rename(out)


def read_pinned(folder: str | Path, read: Callable[[Path], T]) -> T:
    """`read(path)` over one version of the bundle in `folder`, however often it is replaced.

    The folder is opened once and read through that handle, so that every file comes from
    the same bundle; when an export removed that bundle during the read, the read starts
    again on the new one.
    """
    for attempt in range(READ_ATTEMPTS):
        try:
            handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            raise TunerError(f"{folder}: no such folder") from None
        except NotADirectoryError:
            raise TunerError(f"{folder}: not a folder") from None
        pinned = Path(f"/proc/self/fd/{handle}")  # Linux; elsewhere the folder's own path
        pinned = pinned if pinned.is_dir() else Path(folder)
        try:
            return read(pinned)
        except (OSError, TunerError) as e:
            if _still_at(folder, handle) or attempt == READ_ATTEMPTS - 1:
                # The bundle is still there: the error is its own, said with the user's path.
                if isinstance(e, TunerError):
                    raise TunerError(str(e).replace(str(pinned), str(folder))) from e
                raise
        finally:
            os.close(handle)
    raise AssertionError("unreachable")


def _still_at(folder: str | Path, handle: int) -> bool:
    """Whether the folder open as `handle` is still the one at `folder`.

    An export swaps the old bundle out before it deletes it file by file, so a bundle being
    deleted still has links while a read through it fails: the test is its identity.
    """
    try:
        current = os.stat(folder)
    except OSError:
        return False
    pinned = os.fstat(handle)
    return (current.st_dev, current.st_ino) == (pinned.st_dev, pinned.st_ino)


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step (renameat2 RENAME_EXCHANGE); two renames without it."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # not Linux: there is a moment without a bundle
        retired = a.with_name(a.name + ".old")
        b.rename(retired)
        a.rename(b)
        retired.rename(a)
        return
    if renameat2(_AT_FDCWD, bytes(a), _AT_FDCWD, bytes(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def current_umask() -> int:
    """The process's umask, which the mode of every output respects."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
