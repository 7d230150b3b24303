"""Result files that say where they came from: one JSON object, its provenance and its result.

Usage: python benchmarks/record.py OUT -- COMMAND [ARG ...]

Runs COMMAND, which prints its result as JSON on stdout (`tuner bench … --json`, or a
script of this folder with `--json`), and writes OUT with the provenance header. Scripts
that write their own result file call `write(OUT, result)` instead.

Result files live in `benchmarks/results/<headline>/<dataset>-<variant>[-seed<S>].json`
(headlines: speed, forecast, pruner, peers, machines). Provenance: the commit, whether the
tree was clean, the date, the cores, Python's and tuner's dependencies' versions, the
exact command ("clean" leaves the result files themselves out: writing one does not
change the code that makes the next). A file whose header is `"reconstructed": true` was
not written by the run: its header was rebuilt from git afterwards, and `source` says
from what.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
HEADLINES = ("speed", "forecast", "pruner", "peers", "machines")
_CODE = f":(top,exclude){RESULTS.relative_to(ROOT)}"  # the checkout but its result files
LIBRARIES = ("keras", "jax", "tensorflow", "optuna", "numpy", "pandas", "lightgbm", "sqlalchemy")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def versions() -> dict[str, str | None]:
    """Python's and the installed versions of the libraries tuner's figures depend on."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def provenance(command: list[str]) -> dict:
    """Where a result is being made now: this checkout, this machine, this command."""
    return {
        "commit": _git("rev-parse", "HEAD"),
        "clean": _git("status", "--porcelain", "--untracked-files=no", "--", _CODE) == "",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "versions": versions(),
        "command": shlex.join(command),
        "reconstructed": False,
    }


def write(out: Path, result, command: list[str] | None = None) -> Path:
    """Write `result` under the provenance of `command` (default: this process's own)."""
    command = command or [Path(sys.executable).name, *sys.argv]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {"provenance": provenance(command), "result": result}
    out.write_text(json.dumps(document, indent=2, allow_nan=True) + "\n")
    return out


def read(path: Path) -> dict:
    """A result file: `{"provenance": {...}, "result": ...}`; refuses a file without both."""
    document = json.loads(Path(path).read_text())
    if not (isinstance(document, dict) and {"provenance", "result"} <= document.keys()):
        raise ValueError(f"{path}: not a result file (no provenance and result)")
    return document


def results(headline: str) -> list[tuple[Path, dict]]:
    """Every result file of a headline, by name."""
    return [(path, read(path)) for path in sorted((RESULTS / headline).glob("*.json"))]


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out, command = Path(argv[0]), argv[2:]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return done.returncode
    write(out, json.loads(done.stdout), command)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
