"""`tuner report` on a trained workspace: listed by the dashboard, rendered in Chromium."""

import io
import json
import wsgiref.util

import optuna
import pytest

from tests.conftest import SCREENSHOTS, tuner
from tuner.deploy.bundle import read_bundle
from tuner.review.dashboard import make_app
from tuner.search.location import StudyLocation

pytestmark = pytest.mark.e2e
STUDY = "beijing-lstm_baseline"
FIGURES = ["history", "curves", "importances", "slices", "test_weeks", "test_by_hour"]
WIDTHS = "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0);"
SHOWN = "return Array.from(document.querySelectorAll('figure img')).map(i => i.parentNode.id);"


def _get(app, path: str) -> tuple[str, bytes]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "wsgi.input": io.BytesIO()}
    wsgiref.util.setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    return status[0], body


def test_the_report_shows_every_figure_and_the_dashboard_lists_it(trained, browser):
    result = tuner("report", cwd=trained)
    assert result.returncode == 0, result.stderr
    results = trained / "results"
    page = results / "report" / STUDY / "report.html"
    assert sorted(p.name for p in page.parent.iterdir()) == sorted(
        ["report.html", *(f"{name}.png" for name in FIGURES)]
    )
    meta = json.loads((results / "best" / "metadata.json").read_text())
    scores = (
        f"test RMSE {meta['test_rmse']:.3f} (persistence {meta['persistence_test_rmse']:.3f}, "
        f"gradient boosting {meta['boosting_test_rmse']:.3f})"
    )
    assert scores in result.stdout  # the export's own windows and scores

    url = f"sqlite:///{results / 'tuner.db'}"
    study = optuna.load_study(study_name=STUDY, storage=url)
    artifact_id, study_id = study.user_attrs["report_artifact_id"], study._study_id
    app = make_app(StudyLocation.of(url, results / "artifacts", environ={}), read_only=True)
    _, detail = _get(app, f"/api/studies/{study_id}")
    listed = {a["artifact_id"]: a["filename"] for a in json.loads(detail)["artifacts"]}
    assert listed[artifact_id] == "report.html"
    status, served = _get(app, f"/artifacts/{study_id}/{artifact_id}")
    assert status.startswith("200") and served == page.read_bytes()

    browser.get(page.as_uri())
    widths = browser.execute_script(WIDTHS)
    assert len(widths) == len(FIGURES) and all(w > 0 for w in widths)
    assert browser.execute_script(SHOWN) == FIGURES
    text = browser.execute_script("return document.body.innerText")
    assert f"tuner report: {STUDY}" in text and "3 complete, 0 pruned, 0 failed" in text
    assert f"({read_bundle(results / 'best').describe()}, " in text
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    try:
        browser.set_window_size(size["width"], height + 150)  # the whole page in one picture
        assert browser.save_screenshot(str(SCREENSHOTS / "report.png"))
    finally:
        browser.set_window_size(size["width"], size["height"])
