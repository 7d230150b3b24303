"""The exported bundle: its files and its metadata, written by export and read by predict.

A bundle is a folder:
- `model.keras`: raw feature windows in, the target in its own units out;
- `model.onnx`: the same model for ONNX Runtime;
- `saved_model/1/`: the same model as a TensorFlow SavedModel (signature `serve`), in
  the versioned layout TensorFlow Serving reads (`saved_model/` is its base path);
- `metadata.json`: a `BundleMetadata`, everything predict must apply to a CSV;
- `README.md`: a model card for people;
- `SHA256SUMS`: the sha256 of every other file, written when the bundle is published
  (`sha256sum -c SHA256SUMS` in the folder checks it too).

Reading a bundle imports neither Optuna nor Keras. A bundle may come from anywhere, so the
reader vouches for it before anything is parsed, unzipped or loaded: regular files only,
none outside the folder, sizes bounded, every checksum right and no file unlisted; then
every field of the metadata is checked. Anything else is refused in one line.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tuner.data.preprocessing import Preprocessing
from tuner.errors import TunerError, shown
from tuner.model.params import MAX_BATCH_SIZE, MAX_SEQ_LEN, MAX_UNITS, ModelParams

MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"
SAVED_MODEL_DIR = "saved_model"  # TensorFlow Serving's base path: one folder per version
SAVED_MODEL_VERSION = "1"
METADATA_FILE = "metadata.json"
DEFAULT_FOLDER = "results/best"  # where `tuner export` writes unless told
CARD_FILE = "README.md"
MANIFEST_FILE = "SHA256SUMS"

FORMAT_VERSION = 2  # the layout and metadata this reader expects; SHA256SUMS is required
MAX_METADATA_BYTES = 1 << 20  # a real one is a few kilobytes
MAX_MANIFEST_BYTES = 1 << 20
MAX_BUNDLE_ENTRIES = 1024  # files and folders; a SavedModel holds a handful
MAX_HORIZON = MAX_SEQ_LEN
MAX_MODEL_BYTES = 1 << 28  # the .keras archive, and all its entries once unzipped
MAX_MODEL_ENTRIES = 64  # Keras writes three: config, metadata, weights
MAX_BUNDLE_BYTES = 4 * MAX_MODEL_BYTES  # the model in each of its formats, and the rest
_MANIFEST_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")
_CHUNK = 1 << 20
READ_ATTEMPTS = 5  # each retry follows an export that replaced the bundle mid-read
_RENAME_EXCHANGE = 2  # renameat2(2) flag, Linux 3.15 and later
_AT_FDCWD = -100

T = TypeVar("T")


@dataclass(frozen=True)
class BundleMetadata:
    """What a bundle's model expects and how well it did; `metadata.json` as a value."""

    target: str
    horizon: int
    seq_len: int
    time_col: str | None
    features: tuple[str, ...]
    preprocessing: Preprocessing
    hyperparameters: ModelParams
    dataset: dict[str, str]  # name, file, sha256
    split: dict[str, str]  # val_start, test_start
    epochs: int | None
    val_rmse: float
    search_val_rmse: float
    test_rmse: float
    persistence_val_rmse: float | None
    persistence_test_rmse: float
    test_windows: int
    study: str
    trial: int
    backend: str
    versions: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        document = asdict(self)
        document["preprocessing"] = self.preprocessing.to_dict()
        document["features"] = list(self.features)
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_dict(cls, d: Any) -> BundleMetadata:
        """Checked field by field; raises ValueError or TypeError saying which is wrong."""
        if not isinstance(d, dict):
            raise TypeError("not a JSON object")
        version = d.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"bundle format {shown(version)}; this tuner reads format {FORMAT_VERSION}: "
                "export the study again with this version of tuner"
            )
        prep = _preprocessing(d.get("preprocessing"))
        features = tuple(_list_of(str, d.get("features"), "features"))
        if features != prep.features:
            raise ValueError("features do not match the preprocessing's features")
        target = _of(str, d.get("target"), "target")
        if target != prep.target:
            raise ValueError(
                f"target {shown(target)} is not the preprocessing's {shown(prep.target)}"
            )
        params = _of(dict, d.get("hyperparameters"), "hyperparameters")
        seq_len = _bounded_int(d.get("seq_len"), "seq_len", MAX_SEQ_LEN)
        return cls(
            target=target,
            horizon=_bounded_int(d.get("horizon"), "horizon", MAX_HORIZON),
            seq_len=seq_len,
            time_col=_optional(str, d.get("time_col"), "time_col"),
            features=features,
            preprocessing=prep,
            hyperparameters=ModelParams(
                units=_bounded_int(params.get("units"), "hyperparameters.units", MAX_UNITS),
                seq_len=seq_len,
                learning_rate=_number(params.get("learning_rate"), "hyperparameters.learning_rate"),
                batch_size=_bounded_int(params.get("batch_size"), "batch_size", MAX_BATCH_SIZE),
            ),
            dataset={k: str(v) for k, v in _of(dict, d.get("dataset"), "dataset").items()},
            split={k: str(v) for k, v in _of(dict, d.get("split"), "split").items()},
            epochs=_optional(int, d.get("epochs"), "epochs"),
            val_rmse=_number(d.get("val_rmse"), "val_rmse"),
            search_val_rmse=_number(d.get("search_val_rmse"), "search_val_rmse"),
            test_rmse=_number(d.get("test_rmse"), "test_rmse"),
            persistence_val_rmse=_optional(float, d.get("persistence_val_rmse"), "persistence"),
            persistence_test_rmse=_number(d.get("persistence_test_rmse"), "persistence_test"),
            test_windows=_of(int, d.get("test_windows"), "test_windows"),
            study=_of(str, d.get("study"), "study"),
            trial=_of(int, d.get("trial"), "trial"),
            backend=_of(str, d.get("backend"), "backend"),
            versions={k: str(v) for k, v in _of(dict, d.get("versions", {}), "versions").items()},
        )


def read_bundle(folder: str | Path) -> BundleMetadata:
    """The metadata of the bundle in `folder`, after checking that it is one.

    Args:
        folder: a folder written by `tuner export`.

    Raises:
        TunerError: not a bundle; a link, special file or file too large in it; a file
            missing, unlisted or changed since export (`SHA256SUMS`); metadata malformed or
            of another format version.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise TunerError(f"{folder}: no such folder")
    if not (os.path.lexists(folder / MODEL_FILE) and os.path.lexists(folder / METADATA_FILE)):
        raise TunerError(f"{folder}: not a tuner export (no {MODEL_FILE} and {METADATA_FILE})")
    sizes = verify_files(folder)
    for name in (MODEL_FILE, METADATA_FILE):
        if name not in sizes:
            raise TunerError(f"{folder / name}: not a file")
    path = folder / METADATA_FILE
    if sizes[METADATA_FILE] > MAX_METADATA_BYTES:
        raise TunerError(f"{path}: {sizes[METADATA_FILE]} bytes, too large for export metadata")
    return parse_metadata(_read_regular(path), source=str(path))


def parse_metadata(data: bytes, *, source: str) -> BundleMetadata:
    """`metadata.json`'s bytes as a `BundleMetadata`, or a one-line `TunerError`."""
    try:
        return BundleMetadata.from_dict(json.loads(data))
    except RecursionError:
        raise TunerError(f"{source}: not valid export metadata: nested too deeply") from None
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
        raise TunerError(f"{source}: not valid export metadata: {reason}") from e


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
    listed = parse_manifest(_read_regular(folder / MANIFEST_FILE), source=folder / MANIFEST_FILE)
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


def _read_regular(path: Path) -> bytes:
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


def model_path(folder: str | Path) -> Path:
    return Path(folder) / MODEL_FILE


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


def _preprocessing(d: Any) -> Preprocessing:
    d = _of(dict, d, "preprocessing")
    numeric = _list_of(str, d.get("numeric"), "preprocessing.numeric")
    if len(set(numeric)) != len(numeric) or not numeric:
        raise ValueError("preprocessing.numeric: empty, or a column listed twice")
    categories = _of(dict, d.get("categories"), "preprocessing.categories")
    mean = _of(dict, d.get("mean"), "preprocessing.mean")
    std = _of(dict, d.get("std"), "preprocessing.std")
    for name in numeric:
        _number(mean.get(name), f"preprocessing.mean[{shown(name)}]")
        if not _number(std.get(name), f"preprocessing.std[{shown(name)}]") > 0:
            raise ValueError(f"preprocessing.std[{shown(name)}]: must be positive")
    columns = [*numeric, *categories]
    if len(set(columns)) != len(columns):
        raise ValueError("preprocessing: a column is both numeric and categorical")
    return Preprocessing(
        target=_of(str, d.get("target"), "preprocessing.target"),
        numeric=tuple(numeric),
        categories={
            str(k): tuple(_list_of(str, v, f"preprocessing.categories[{shown(k)}]"))
            for k, v in categories.items()
        },
        mean={n: float(mean[n]) for n in numeric},
        std={n: float(std[n]) for n in numeric},
    )


def _of(kind: type, value: Any, name: str) -> Any:
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise TypeError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _optional(kind: type, value: Any, name: str) -> Any:
    if value is None:
        return None
    if kind is float:
        return _number(value, name)
    return _of(kind, value, name)


def _list_of(kind: type, value: Any, name: str) -> list[Any]:
    return [_of(kind, item, name) for item in _of(list, value, name)]


def _number(value: Any, name: str) -> float:
    """A JSON number as a finite float; an integer too large for one is refused like NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a finite number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {number}")
    return number


def _bounded_int(value: Any, name: str, most: int) -> int:
    value = _of(int, value, name)
    if not 1 <= value <= most:
        raise ValueError(f"{name}: must be between 1 and {most}, got {shown(value)}")
    return value


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
