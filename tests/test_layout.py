"""The layout (docs/design.md, "Layout"): imports point down the data flow only, and every
module and function stays small enough to hold one job.

Every import in every module counts, those inside functions too (a lazy import is still a
dependency), except those under `if TYPE_CHECKING:`, which never run.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "tuner"

# Each layer may import from the layers before it, never from those after.
LAYERS = ["errors", "data", "model", "search", "deploy", "review", "options", "cli", "bench"]
# The one exception: `tuner bench …` is handed over by the CLI, at the command line only.
HANDOVER = {("tuner.cli.dispatch", "tuner.bench.cli")}
KERAS = {"keras", "tensorflow", "jax"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for statement in block.body
        for node in ast.walk(statement)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[1])


def _top(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def _internal(names: set[str]) -> set[str]:
    """The tuner modules among `names` (`from tuner.x import y` may name a function)."""
    return {name for name in names if name in MODULES and name != "tuner"}


def test_the_layout_is_the_one_this_test_knows():
    layers = {m.split(".")[1] for m in MODULES if m != "tuner"}
    assert layers == set(LAYERS), "a new subpackage: give it its place in LAYERS"


@pytest.mark.parametrize("module", [m for m in MODULES if m != "tuner"])
def test_imports_point_down_the_flow(module):
    upward = {
        other
        for other in _internal(MODULES[module])
        if _layer(other) > _layer(module) and (module, other) not in HANDOVER
    }
    assert not upward, f"{module} imports {sorted(upward)}, which come later in the flow"


def test_the_data_path_imports_neither_optuna_nor_keras():
    for module, names in MODULES.items():
        if module.startswith("tuner.data"):
            assert not _top(names) & (KERAS | {"optuna", "optuna_dashboard"}), module


def test_the_model_imports_no_optuna():
    for module, names in MODULES.items():
        if module.startswith("tuner.model"):
            assert "optuna" not in _top(names), module


def test_the_pruner_imports_no_keras_and_no_model_code():
    names = MODULES["tuner.search.pruner"]
    assert not _top(names) & KERAS
    assert not {n for n in _internal(names) if n.startswith("tuner.model")}


def _closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += _internal(MODULES[current])
    return seen


def test_predicting_from_a_bundle_imports_no_optuna_and_no_search_code():
    for module in _closure("tuner.deploy.predict"):
        assert "optuna" not in _top(MODULES[module]), module
        assert not module.startswith("tuner.search"), module


def test_nothing_in_the_product_imports_the_instruments_or_the_cli():
    for module, names in MODULES.items():
        for other in _internal(names):
            if other.startswith("tuner.bench") and not module.startswith("tuner.bench"):
                assert (module, other) in HANDOVER, f"{module} imports {other}"
            if not _in_cli(module):
                assert not _in_cli(other), f"{module} imports the CLI"


def _in_cli(module: str) -> bool:
    return module == "tuner.cli" or module.startswith("tuner.cli.")


MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 60


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_modules_and_functions_stay_small(path):
    """One job a module: none over 300 lines, no function over 60 (docstrings included)."""
    source = path.read_text()
    lines = len(source.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: {', '.join(long)}"


LOADED = """
import importlib, sys
importlib.import_module(sys.argv[1])
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in {"optuna", "keras"}
                      or m.startswith("tuner.search") or m.startswith("tuner.bench"))))
"""


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("tuner.deploy.predict", ("optuna", "tuner.search", "keras")),
        ("tuner.data.prepared", ("optuna", "keras")),
        ("tuner.search.pruner", ("keras",)),
        ("tuner.cli", ("keras", "tuner.bench")),
        ("tuner", ("optuna", "keras")),
    ],
)
def test_what_a_fresh_process_loads(module, absent):
    """The same rules where they matter, in a real interpreter: what `import` loads."""
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED, module], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [m for m in loaded if m.startswith(absent)], loaded
