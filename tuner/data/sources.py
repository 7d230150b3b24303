"""Where the data comes from: built-in datasets and user CSVs, resolved to a `DataSpec`.

A built-in dataset is looked up as `--data PATH`, then in `$TUNER_DATA_DIR`, then in the
user's cache folder (`~/.cache/tuner/data`), where it is otherwise downloaded from its
source, checksum-verified and kept.
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from tuner.data.grid import parse_freq
from tuner.errors import TunerError


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    filename: str
    url: str
    sha256: str
    target: str
    val_start: str
    test_start: str
    unit: str  # of `target`


BEIJING = BuiltinDataset(
    name="beijing",
    filename="PRSA_data_2010.1.1-2014.12.31.csv",
    url="https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip",
    sha256="4127f868775e31b3956522adc0ec75af8937dde6a3896e8beed3a376c6d27f1c",
    target="pm2.5",
    val_start="2013-01-01",
    test_start="2014-01-01",
    unit="µg/m³",
)
BUILTINS: dict[str, BuiltinDataset] = {BEIJING.name: BEIJING}
DEFAULT_DATA = BEIJING.name


@dataclass(frozen=True)
class DataSpec:
    """Everything needed to rebuild the same frame and split later (stored on the study)."""

    path: str
    name: str
    sha256: str
    target: str
    time_col: str | None = None
    val_start: str | None = None
    test_start: str | None = None
    horizon: int = 1
    every_step: bool = False
    freq: str | None = None

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise TunerError(f"horizon must be at least 1, got {self.horizon}")
        if self.freq is not None:
            parse_freq(self.freq)

    @property
    def steps(self) -> tuple[int, ...]:
        """The steps ahead the model forecasts: every one up to `horizon`, or that one."""
        return tuple(range(1, self.horizon + 1)) if self.every_step else (self.horizon,)


def target_unit(spec: DataSpec) -> str | None:
    """The target's unit when tuner knows it: a built-in dataset's own target; else None."""
    builtin = BUILTINS.get(spec.name)
    if builtin is None or (spec.sha256, spec.target) != (builtin.sha256, builtin.target):
        return None
    return builtin.unit


def default_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where downloaded datasets are kept: the user's cache folder, not the current one."""
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tuner" / "data"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as e:
        raise TunerError(f"{path}: cannot read: {e.strerror or e}") from e
    return digest.hexdigest()


def resolve(
    data: str,
    *,
    target: str | None = None,
    time_col: str | None = None,
    val_start: str | None = None,
    test_start: str | None = None,
    horizon: int = 1,
    every_step: bool = False,
    freq: str | None = None,
    data_dir: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> DataSpec:
    """Turn `--data` and its companions into a `DataSpec`, downloading a built-in if needed.

    Args:
        data: a built-in dataset's name (`beijing`) or a CSV path.
        target: the column to forecast; required for a CSV that is not built in.
        time_col: the timestamp column; by default the `year,month,day,hour` columns.
        val_start, test_start: first timestamps of validation and test; by default 70% and
            85% of the hours.
        horizon: steps ahead to forecast (the series' own step, inferred or `freq`).
        every_step: forecast every step from 1 to `horizon`, not that step alone.
        freq: the step, as a pandas alias (`15min`, `h`, `D`); inferred when None.
        data_dir: where a built-in dataset is kept (`default_data_dir()` when None).
    """
    data_dir = data_dir or default_data_dir(environ)
    builtin = BUILTINS.get(data)
    if builtin is not None:
        path = _find_builtin(builtin, data_dir=data_dir, environ=environ)
        return _builtin_spec(
            builtin, path, target, time_col, val_start, test_start, horizon, every_step, freq
        )

    path = Path(data)
    if not path.is_file():
        names = ", ".join(sorted(BUILTINS))
        raise TunerError(f"{data}: no such file (built-in datasets: {names})")
    for candidate in BUILTINS.values():
        if path.name == candidate.filename and target in (None, candidate.target):
            _verify(path, candidate)
            return _builtin_spec(
                candidate, path, target, time_col, val_start, test_start, horizon, every_step, freq
            )
    if target is None:
        raise TunerError(f"{path}: --target COLUMN is required for a CSV that is not built in")
    return DataSpec(
        path=str(path),
        name=path.stem,
        sha256=sha256_of(path),
        target=target,
        time_col=time_col,
        val_start=val_start,
        test_start=test_start,
        horizon=horizon,
        every_step=every_step,
        freq=freq,
    )


def _builtin_spec(
    builtin: BuiltinDataset,
    path: Path,
    target: str | None,
    time_col: str | None,
    val_start: str | None,
    test_start: str | None,
    horizon: int,
    every_step: bool,
    freq: str | None,
) -> DataSpec:
    return DataSpec(
        path=str(path),
        name=builtin.name,
        sha256=builtin.sha256,
        target=target or builtin.target,
        time_col=time_col,
        val_start=val_start or builtin.val_start,
        test_start=test_start or builtin.test_start,
        horizon=horizon,
        every_step=every_step,
        freq=freq,
    )


def _find_builtin(builtin: BuiltinDataset, *, data_dir: Path, environ: Mapping[str, str]) -> Path:
    candidates = [Path(environ["TUNER_DATA_DIR"])] if environ.get("TUNER_DATA_DIR") else []
    candidates.append(data_dir)
    for folder in candidates:
        path = folder / builtin.filename
        if path.is_file():
            _verify(path, builtin)
            return path
    return download(builtin, data_dir)


def _verify(path: Path, builtin: BuiltinDataset) -> None:
    actual = sha256_of(path)
    if actual != builtin.sha256:
        raise TunerError(
            f"{path}: wrong checksum for the {builtin.name} dataset "
            f"(sha256 {actual[:12]}…, expected {builtin.sha256[:12]}…)"
        )


def download(builtin: BuiltinDataset, data_dir: Path) -> Path:
    """Fetch the dataset's zip, verify the CSV inside, and cache it atomically in `data_dir`."""
    try:
        with urllib.request.urlopen(builtin.url, timeout=30) as response:
            payload = response.read()
    except (urllib.error.URLError, OSError) as e:
        raise TunerError(
            f"the {builtin.name} dataset is not here and cannot be downloaded ({e}): "
            f"pass --data PATH to {builtin.filename}, set TUNER_DATA_DIR to its folder, "
            f"or put it in {data_dir}/"
        ) from e
    csv = _extract(payload, builtin)
    actual = hashlib.sha256(csv).hexdigest()
    if actual != builtin.sha256:
        raise TunerError(
            f"{builtin.url}: wrong checksum for {builtin.filename} "
            f"(sha256 {actual[:12]}…, expected {builtin.sha256[:12]}…); nothing was cached"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / builtin.filename
    partial = path.with_suffix(".part")
    partial.write_bytes(csv)
    partial.replace(path)
    return path


def _extract(payload: bytes, builtin: BuiltinDataset) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            for member in archive.namelist():
                if Path(member).name == builtin.filename:
                    return archive.read(member)
    except zipfile.BadZipFile as e:
        raise TunerError(f"{builtin.url}: not a zip archive ({e})") from e
    raise TunerError(f"{builtin.url}: the archive holds no {builtin.filename}")


def relocate(
    spec: DataSpec, *, data_dir: Path | None = None, environ: Mapping[str, str] = os.environ
) -> DataSpec:
    """Find a study's data again (it may have moved) and check it is the same bytes."""
    data_dir = data_dir or default_data_dir(environ)
    path = Path(spec.path)
    if path.is_file() and sha256_of(path) == spec.sha256:
        return spec
    builtin = BUILTINS.get(spec.name)
    if builtin is not None and builtin.sha256 == spec.sha256:
        return replace(spec, path=str(_find_builtin(builtin, data_dir=data_dir, environ=environ)))
    raise TunerError(
        f"{spec.path}: the study's data file is missing or changed "
        f"(expected sha256 {spec.sha256[:12]}…)"
    )
