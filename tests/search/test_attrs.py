"""The study's schema: each key and pruning reason is spelled once, in `attrs`, and read back
as it was written."""

import ast
import math
from dataclasses import asdict
from pathlib import Path

import pytest

from tuner.data.sources import DataSpec
from tuner.model.params import ModelParams
from tuner.search import attrs

PACKAGE = Path(attrs.__file__).parents[1]
HOME = Path(attrs.__file__)
KEYS = {
    value
    for name, value in vars(attrs).items()
    if name.isupper() and isinstance(value, str) and not name.startswith("_")
}
# Spelled nowhere else at all: the reasons, and the baseline's name of old. ("interrupted"
# is the word the CLI prints too; its reason is spelled `attrs.INTERRUPTED`.)
REASONS = {reason.value for reason in attrs.PrunedReason} | {
    "behind-best",
    "worse-than-median",
    attrs.NO_HEARTBEAT,
    attrs.NO_FAIL_REASON,
    "baseline_val_rmse",
}
SOURCES = [p for p in sorted(PACKAGE.rglob("*.py")) if p != HOME]
SCRIPTS = sorted((PACKAGE.parent / "benchmarks").rglob("*.py"))
ATTRIBUTE_CALLS = {"set_user_attr", "get"}


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def spelled(source: str) -> list[str]:
    """Where a module spells a key as it reads or writes an attribute, or spells a reason.

    A key is a plain word ("data", "epochs") that may rightly mean something else, so it
    counts where it names an attribute: `….user_attrs[KEY]`, `….user_attrs.get(KEY)`,
    `set_user_attr(KEY, …)`. A reason counts anywhere but in prose (docstrings).
    """
    tree = ast.parse(source)
    prose = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in REASONS and id(node) not in prose:
            found.append(f"line {node.lineno}: {node.value!r}")
        key = None
        if isinstance(node, ast.Subscript) and "user_attrs" in ast.unparse(node.value):
            key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ATTRIBUTE_CALLS
            and (node.func.attr == "set_user_attr" or "user_attrs" in ast.unparse(node.func))
            and node.args
        ):
            key = node.args[0]
        if isinstance(key, ast.Constant) and key.value in KEYS:
            found.append(f"line {key.lineno}: {key.value!r}")
    return found


def test_the_search_finds_the_modules_it_checks():
    assert len(SOURCES) > 40 and any(p.name == "objective.py" for p in SOURCES)


@pytest.mark.parametrize(
    "path", SOURCES + SCRIPTS, ids=lambda p: str(p.relative_to(PACKAGE.parent))
)
def test_no_key_or_reason_is_spelled_outside_attrs(path):
    found = spelled(path.read_text())
    assert not found, f"use the names in tuner.search.attrs: {found}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('x = trial.user_attrs["epochs"]', ["line 1: 'epochs'"]),
        ('x = study.user_attrs.get("data", {})', ["line 1: 'data'"]),
        ('trial.set_user_attr("pruned_reason", r)', ["line 1: 'pruned_reason'"]),
        ('if reason == "noise": pass', ["line 1: 'noise'"]),
        ('"""Pruned as noise."""\nx = {"epochs": 3}', []),
        ("x = trial.user_attrs[attrs.EPOCHS]", []),
    ],
)
def test_the_check_sees_a_key_or_reason_spelled_elsewhere(source, expected):
    assert spelled(source) == expected


def test_keys_are_distinct():
    names = [n for n in vars(attrs) if n.isupper() and not n.startswith("_")]
    values = [getattr(attrs, n) for n in names if isinstance(getattr(attrs, n), str)]
    assert len(values) == len(set(values))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({attrs.PERSISTENCE_VAL_RMSE: 24.8}, 24.8),
        ({"baseline_val_rmse": 24.8}, 24.8),  # a study made before the present name
        ({attrs.PERSISTENCE_VAL_RMSE: 24.8, "baseline_val_rmse": 30.0}, 24.8),
        ({attrs.PERSISTENCE_VAL_RMSE: math.nan}, None),
        ({attrs.PERSISTENCE_VAL_RMSE: "24.8"}, None),
        ({attrs.PERSISTENCE_VAL_RMSE: True}, None),
        ({}, None),
    ],
)
def test_the_persistence_baseline_is_read_under_either_name(stored, expected):
    assert attrs.persistence_val_rmse(stored) == expected


def test_a_study_s_data_spec_reads_back_as_written():
    spec = DataSpec(path="/d/x.csv", name="x", sha256="0" * 64, target="y", horizon=3)
    assert attrs.data_spec({attrs.DATA: asdict(spec)}) == spec


@pytest.mark.parametrize(
    "recorded",
    [
        None,
        "x.csv",
        {"path": "x.csv"},
        {"path": "p", "name": "n", "sha256": "s", "target": "t", "horizon": 0},
        {"unknown": 1},
    ],
)
def test_a_data_record_tuner_cannot_read_is_none(recorded):
    assert attrs.data_spec({} if recorded is None else {attrs.DATA: recorded}) is None


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("noise", "noise"),
        ("behind", "behind"),
        ("diverged", "diverged"),
        ("behind-best", "behind"),  # an earlier pruner's, as the reason that replaced it
        ("worse-than-median", "behind"),
        ("MedianPruner", "MedianPruner"),  # another pruner's name
        ("behind-the-times", "behind-the-times"),  # read whole, not by its first word
        ("", attrs.UNKNOWN_PRUNED_REASON),
        (None, attrs.UNKNOWN_PRUNED_REASON),
    ],
)
def test_a_pruned_reason_is_read_one_way(recorded, expected):
    stored = {} if recorded is None else {attrs.PRUNED_REASON: recorded}
    assert attrs.pruned_reason(stored) == expected


def test_another_pruner_s_reason_is_its_name():
    import optuna

    name = attrs.pruner_name(optuna.pruners.MedianPruner())
    assert attrs.pruned_reason({attrs.PRUNED_REASON: name}) == "MedianPruner"


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (attrs.INTERRUPTED, "interrupted"),
        (attrs.error_reason("MemoryError", ""), "MemoryError"),
        (attrs.error_reason("ValueError", "bad: shape (3,)\nsecond line"), "ValueError"),
        ("OOM: no memory", "OOM"),  # as an earlier tuner recorded it
        (None, attrs.NO_HEARTBEAT),  # failed by the heartbeat: its worker said nothing
    ],
)
def test_a_fail_reason_is_counted_by_its_kind(recorded, expected):
    stored = {} if recorded is None else {attrs.FAIL_REASON: recorded}
    assert attrs.fail_reason(stored) == expected


def test_an_error_s_reason_is_its_kind_and_first_line_and_its_detail_says_it_whole():
    reason = attrs.error_reason("ValueError", "  bad: shape (3,)\nsecond line")
    assert reason == "ValueError: bad: shape (3,)"
    assert attrs.fail_detail({attrs.FAIL_REASON: reason}) == reason
    assert attrs.fail_detail({}) == attrs.NO_FAIL_REASON
    assert len(attrs.error_reason("E", "x" * 1000)) == 500


def test_a_trial_s_model_params_read_back_as_recorded():
    params = ModelParams(units=32, seq_len=24, learning_rate=0.003, batch_size=64)
    assert attrs.model_params({attrs.MODEL_PARAMS: asdict(params)}) == params


@pytest.mark.parametrize(
    "recorded",
    [None, "units=32", {"units": 32}, {"units": [32], "seq_len": 1, "learning_rate": 0.1,
                                       "batch_size": 1}],
)  # fmt: skip
def test_model_params_tuner_cannot_read_are_none(recorded):
    assert attrs.model_params({} if recorded is None else {attrs.MODEL_PARAMS: recorded}) is None
