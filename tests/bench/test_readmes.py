"""benchmarks/README.md and the project README's "Results" are what the result files say.

Both are written by `benchmarks/make_readme.py` from `benchmarks/results/`; these tests fail
when a committed figure differs from its result file, and when a result file does not say
where it came from.
"""

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import make_readme  # noqa: E402
import record  # noqa: E402

PROVENANCE = {"commit", "clean", "date", "cores", "versions", "command", "reconstructed"}
RESULT_FILES = sorted(record.RESULTS.rglob("*.json"))
NAME = r"^[a-z0-9]+(-[a-z0-9.]+)*$"


def test_the_committed_readmes_are_what_the_result_files_make():
    assert make_readme.benchmarks_readme() == make_readme.README.read_text()
    assert make_readme.project_readme(make_readme.PROJECT.read_text()) == (
        make_readme.PROJECT.read_text()
    )


def test_the_check_fails_when_a_readme_figure_is_edited_by_hand(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    text = make_readme.PROJECT.read_text()
    default = json.loads((record.RESULTS / "forecast" / "beijing-default-seed0.json").read_text())
    figure = f"{default['result']['export_test_rmse']:.3f}"
    assert figure in text.split(make_readme.BEGIN)[1]
    readme.write_text(text.replace(figure, "19.999"))
    monkeypatch.setattr(make_readme, "PROJECT", readme)
    assert make_readme.main(["--check"]) == 1


def test_the_readme_follows_a_changed_result_file(tmp_path, monkeypatch):
    results = tmp_path / "results"
    shutil.copytree(record.RESULTS, results)
    path = results / "forecast" / "changping-default-seed0.json"
    document = json.loads(path.read_text())
    document["result"]["single_test_rmse"] = 17.123
    path.write_text(json.dumps(document))
    monkeypatch.setattr(record, "RESULTS", results)
    assert "17.123" in make_readme.results_section()
    assert "17.123" in make_readme.benchmarks_readme()


def test_the_benchmarks_readme_is_short():
    assert len(make_readme.README.read_text().splitlines()) <= 300


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda p: str(p.relative_to(record.RESULTS)))
def test_every_result_file_says_where_it_came_from(path):
    document = record.read(path)
    provenance = document["provenance"]
    assert PROVENANCE <= provenance.keys()
    assert provenance["command"] and provenance["date"] and provenance["commit"]
    if not provenance["reconstructed"]:
        assert provenance["versions"]["python"] and provenance["cores"]
    else:
        assert provenance["source"] and provenance["recorded_in"]
    assert path.parent.name in record.HEADLINES
    assert re.match(NAME, path.stem), "results/<headline>/<dataset>-<variant>[-seedS]"


def test_every_result_file_is_in_the_readme():
    readme = make_readme.README.read_text()
    missing = [p for p in RESULT_FILES if str(p.relative_to(BENCHMARKS)) not in readme]
    assert not missing


def test_a_recorded_result_names_this_checkout_and_its_command(tmp_path):
    out = tmp_path / "speed" / "tiny-echo.json"
    command = [sys.executable, "-c", "import json; print(json.dumps({'figure': 1.5}))"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "record.py"), str(out), "--", *command],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(out)
    document = record.read(out)
    assert document["result"] == {"figure": 1.5}
    provenance = document["provenance"]
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert provenance["commit"] == head and provenance["reconstructed"] is False
    assert shlex.split(provenance["command"]) == command
    assert provenance["versions"]["optuna"] and provenance["cores"] >= 1


def test_a_command_that_fails_records_nothing(tmp_path):
    out = tmp_path / "nothing.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "record.py"), str(out), "--", sys.executable, "-c",
         "raise SystemExit(3)"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 3 and not out.exists()
