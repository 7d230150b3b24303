"""What a user feeds tuner, generated: CSV files, search-space TOML, bundle metadata.

Shared by the quick property tests (`tests/*/test_*_fuzz.py`) and
`benchmarks/experiments/fuzz.py`, which runs them for minutes. Each strategy mixes junk with
inputs close to valid ones, so that the generated cases reach past the first check; each
`parse_*` takes one input and returns the parser's result, and must raise nothing but a
one-line `TunerError`.
"""

from __future__ import annotations

import atexit
import datetime
import json
import math
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import optuna
from hypothesis import strategies as st

from tuner.data.prepared import PreparedData, prepare
from tuner.data.sources import DataSpec
from tuner.deploy.metadata import BundleMetadata, parse_metadata
from tuner.errors import TunerError
from tuner.search.space import BUILTIN_SPACES, SearchSpace, load_space

_FOLDER = Path(tempfile.mkdtemp(prefix="tuner-fuzz-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
optuna.logging.set_verbosity(optuna.logging.WARNING)  # a study per generated space


def one_line(error: TunerError) -> None:
    """What the CLI prints must be one line with no control characters, short enough to read."""
    message = str(error)
    assert message and message.isprintable(), repr(message)
    assert len(message) < 2000, f"{len(message)} characters: {message[:200]}…"


# CSV -------------------------------------------------------------------------------------

CSV_COLUMNS = ("year", "month", "day", "hour", "time", "pm2.5", "TEMP", "cbwd", "No", "")
_CELLS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        ["", "NA", "nan", "inf", "-inf", "NE", "cv", " 3 ", "1e400", "0x10", '"1,5"', '"', "∞"]
        + ['"two\nlines"', '"\x1b[31mred"', "\x00", "#", "\r"]
    ),
    st.sampled_from(
        ["2013-01-01 00:00", "2013-13-45", "1677-09-21", "2262-04-12 01:00", "0001-01-01"]
    ),
    st.text(max_size=8),
)


@st.composite
def _junk_table(draw) -> str:
    columns = draw(st.lists(st.sampled_from(CSV_COLUMNS) | st.text(max_size=6), max_size=8))
    rows = draw(st.lists(st.lists(_CELLS, min_size=0, max_size=len(columns) + 1), max_size=12))
    return "\n".join([",".join(columns), *(",".join(row) for row in rows)])


@st.composite
def _hourly_series(draw) -> tuple[str, str | None]:
    """A nearly valid hourly file, calendar columns or one time column, then damaged a little;
    with the `--time-col` it needs."""
    hours = draw(st.integers(3, 150))
    start = draw(st.datetimes(datetime.datetime(1990, 1, 1), datetime.datetime(2030, 1, 1)))
    start = start.replace(minute=0, second=0, microsecond=0)
    step = draw(st.sampled_from([datetime.timedelta(hours=1)] * 4 + [datetime.timedelta(0)]))
    calendar = draw(st.booleans())
    rng = random.Random(draw(st.integers(0, 2**32)))  # the bulk of the cells: fast to make

    def value() -> str:
        return rng.choice(["", "NA"]) if rng.random() < 0.1 else f"{rng.uniform(-1e3, 1e3):.3f}"

    rows = [["year", "month", "day", "hour"] if calendar else ["time"]]
    rows[0] += ["pm2.5", "TEMP", "cbwd"]
    for i in range(hours):
        t = start + i * step
        stamp = [t.year, t.month, t.day, t.hour] if calendar else [t.isoformat(" ")]
        category = rng.choice(["NE", "NW", "SE", "cv", ""])
        rows.append([str(v) for v in stamp] + [value(), value(), category])
    for _ in range(draw(st.integers(0, 3))):  # damage: a cell, or a whole line, of junk
        row = rows[draw(st.integers(0, len(rows) - 1))]
        if row and draw(st.booleans()):
            row[draw(st.integers(0, len(row) - 1))] = draw(_CELLS)
        else:
            row[:] = draw(st.lists(_CELLS, max_size=8))
    return "\n".join(",".join(row) for row in rows), None if calendar else "time"


@st.composite
def csv_cases(draw) -> tuple[str, dict[str, Any]]:
    """(a file's text, what `tuner run` is told about it: target, --time-col, split, horizon)."""
    kind = draw(st.sampled_from(["series"] * 3 + ["table", "bytes"]))
    time_col = None
    if kind == "series":
        text, time_col = draw(_hourly_series())
    elif kind == "table":
        text = draw(_junk_table())
    else:
        text = draw(st.binary(max_size=200)).decode("latin-1")
    options = {
        "target": draw(st.sampled_from(["pm2.5"] * 4 + ["TEMP", "cbwd", "year", "time", "x"])),
        "time_col": draw(st.sampled_from([time_col] * 4 + [None, "time", "pm2.5"])),
        "horizon": draw(st.sampled_from([1, 1, 2, 24]) | st.integers(1, 200)),
        "split": draw(
            st.sampled_from(
                [(None, None)] * 4
                + [("2000-01-01", "2040-01-01"), ("2013-01-01", "2012-01-01"), ("x", None)]
            )
        ),
    }
    return text, options


def parse_csv(case: tuple[str, dict[str, Any]]) -> PreparedData:
    """A file as `tuner run --data` reads it, through to the windows of the smallest seq_len."""
    text, options = case
    path = _FOLDER / "data.csv"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    val_start, test_start = options["split"]
    spec = DataSpec(
        path=str(path),
        name="fuzz",
        sha256="",
        target=options["target"],
        time_col=options["time_col"],
        val_start=val_start,
        test_start=test_start,
        horizon=options["horizon"],
    )
    data = prepare(spec, with_test=True)
    data.check_enough_rows(1)
    data.persistence_rmse("val")
    return data


# TOML search space -----------------------------------------------------------------------

_EDGES = st.sampled_from(
    [math.inf, -math.inf, math.nan, 0, -1, 0.0, -0.0, 1e300, 2**63 - 1, 5e-324, 0.5, 1.5, 1]
)
_SCALARS = st.one_of(
    _EDGES,
    _EDGES,
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(1e-6, 1.0),
    st.booleans(),
    st.text(max_size=6),
    st.sampled_from(["int", "float", "categorical"]),
    st.datetimes(),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=6)
_PARAM_KEYS = st.sampled_from(["type", "low", "high", "log", "choices", "step", ""])


def _toml(value: Any) -> str:
    """One TOML value, written as a user might; non-finite floats as TOML spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


@st.composite
def _space_document(draw) -> str:
    lines = []
    names = st.sampled_from(["units", "seq_len", "learning_rate", "batch_size", "dropout"])
    for name in draw(st.lists(names, max_size=5)):
        if draw(st.booleans()):
            lines.append(f"params.{name} = {_toml(draw(_VALUES))}")
            continue
        lines.append(f"[params.{name}]")
        for key in draw(st.lists(_PARAM_KEYS, max_size=5, unique=True)):
            lines.append(f'"{key}" = {_toml(draw(_VALUES))}')
    lines.append("[training]")
    keys = st.sampled_from(["max_epochs", "patience", "lr_patience", "lr_factor", "ema_momentum"])
    for key in draw(st.lists(keys, max_size=5, unique=True)):
        lines.append(f"{key} = {_toml(draw(_VALUES))}")
    return "\n".join(lines)


@st.composite
def _edited_builtin(draw) -> str:
    """A shipped space with a few of its lines replaced, dropped or doubled."""
    lines = (BUILTIN_SPACES / "lstm_baseline.toml").read_text().splitlines()
    lines = [line for line in lines if line and not line.startswith("#")]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        key = lines[at].split("=")[0].strip()
        edit = draw(st.sampled_from(["value"] * 4 + ["drop", "double", "junk"]))
        if edit == "value" and "=" in lines[at]:
            lines[at] = f"{key} = {_toml(draw(_VALUES))}"
        elif edit == "drop":
            del lines[at]
        elif edit == "double":
            lines.insert(at, lines[at])
        elif edit == "junk":
            lines[at] = draw(st.text(max_size=12))
        if not lines:
            break
    return "\n".join(lines)


space_files = st.one_of(_edited_builtin(), _edited_builtin(), _space_document(), st.text())


def parse_space(text: str) -> SearchSpace:
    """A file as `tuner run --space FILE` reads it; a space it accepts must sample."""
    path = _FOLDER / "space.toml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    space = load_space(path)
    space.max_seq_len  # noqa: B018 -- what `tuner run` asks of every space
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(3):
        params = space.suggest(study.ask())
        assert params.units >= 1 and params.seq_len >= 1 and params.batch_size >= 1, params
        assert math.isfinite(params.learning_rate) and params.learning_rate > 0, params
    return space


# Bundle metadata -------------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


def _paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def _edited_metadata(draw, valid: dict) -> str:
    """A valid `metadata.json` with a few of its values replaced, removed or added."""
    document = json.loads(json.dumps(valid))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)[1:]))
        *parents, last = path
        holder = document
        for key in parents:
            holder = holder[key]
        edit = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if edit == "replace":
            holder[last] = draw(_JSON)
        elif edit == "remove":
            del holder[last]
        elif isinstance(holder, dict):
            holder[draw(st.text(max_size=6))] = draw(_JSON)
    return json.dumps(document)


def metadata_files(valid: BundleMetadata) -> st.SearchStrategy[bytes]:
    document = json.loads(valid.to_json())
    return st.one_of(
        _edited_metadata(document).map(str.encode),
        _edited_metadata(document).map(str.encode),
        _JSON.map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=100),
    )


def parse_bundle_metadata(data: bytes) -> BundleMetadata:
    """`metadata.json` as `tuner predict` reads it; what it accepts must survive a round trip."""
    meta = parse_metadata(data, source="metadata.json")
    assert parse_metadata(meta.to_json().encode(), source="again") == meta
    meta.preprocessing.feature_offset_scale()
    return meta
