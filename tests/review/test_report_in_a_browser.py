"""`tuner report` on a trained workspace, attached to its study and rendered in Chromium."""

import json

import optuna
import pytest
from optuna.artifacts import FileSystemArtifactStore, download_artifact

from tests.conftest import SCREENSHOTS, tuner

pytestmark = pytest.mark.e2e
STUDY = "beijing-lstm_baseline"
FIGURES = ["history", "curves", "importances", "slices", "test_weeks", "test_by_hour"]
LOADED = """
return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0);
"""


def test_the_report_shows_every_figure_and_hangs_on_the_study(trained, browser, tmp_path):
    result = tuner("report", cwd=trained)
    assert result.returncode == 0, result.stderr
    results = trained / "results"
    page = results / "report" / STUDY / "report.html"
    assert sorted(p.name for p in page.parent.iterdir()) == sorted(
        ["report.html", *(f"{name}.png" for name in FIGURES)]
    )
    meta = json.loads((results / "best" / "metadata.json").read_text())
    scores = f"test RMSE {meta['test_rmse']:.3f} (persistence {meta['persistence_test_rmse']:.3f})"
    assert scores in result.stdout  # the export's own windows and scores

    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{results / 'tuner.db'}")
    copy = tmp_path / "attached.html"
    download_artifact(
        artifact_store=FileSystemArtifactStore(str(results / "artifacts")),
        file_path=str(copy),
        artifact_id=study.user_attrs["report_artifact_id"],
    )
    assert copy.read_bytes() == page.read_bytes()

    browser.get(page.as_uri())
    assert browser.execute_script(LOADED) and all(w > 0 for w in browser.execute_script(LOADED))
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure img'))"
        ".map(i => i.closest('figure').id)"
    )
    assert shown == FIGURES
    text = browser.execute_script("return document.body.innerText")
    assert f"tuner report: {STUDY}" in text and "3 finished: 3 completed" in text
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    try:
        browser.set_window_size(size["width"], height + 150)  # the whole page in one picture
        assert browser.save_screenshot(str(SCREENSHOTS / "report.png"))
    finally:
        browser.set_window_size(size["width"], size["height"])
