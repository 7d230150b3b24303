"""The dashboard as a reviewer sees it: optuna-dashboard's own page, in headless Chromium.

One small study (fast space, one epoch a trial) with two completed trials and one pruned:
its third trial is enqueued with a learning rate that makes the loss NaN, so the pruner's
"diverged" verdict is reached through a real run. The study is stored in `db/`, its models
in `models/` (recorded on the study, not beside the database), and the dashboard runs from
another folder, so that it can only find the models through the study's record.
"""

import socket
import subprocess
import urllib.request
import warnings

import optuna
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import FAST_SPACE, SCREENSHOTS, TUNER, cli_env, tuner
from tests.waiting import answering

pytestmark = pytest.mark.e2e
STUDY = "beijing-fast_space"
METRIC = "validation RMSE (µg/m³)"
WAIT = 60  # seconds for the React app to fetch the study and render it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """(dashboard URL, study, its database) after two runs, served from another folder."""
    workspace, elsewhere = tmp_path_factory.mktemp("review"), tmp_path_factory.mktemp("other")
    database = workspace / "db" / "tuner.db"
    storage = f"sqlite:///{database}"
    args = ["--space", str(FAST_SPACE), "--storage", storage, "--artifacts", "models"]
    args += ["--max-epochs", "1", "--jobs", "1", "--quiet"]
    first = tuner("run", *args, "--trials", "2", cwd=workspace)
    assert first.returncode == 0, first.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name=STUDY, storage=storage)
        study.enqueue_trial({"learning_rate": 1e30})  # out of the space: diverges at once
    second = tuner("run", *args, "--trials", "3", cwd=workspace)
    assert second.returncode == 0, second.stderr
    assert not (workspace / "db" / "artifacts").exists()

    port = _free_port()
    server = subprocess.Popen(
        [*TUNER, "dashboard", "--storage", storage, "--port", str(port)],
        cwd=elsewhere,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        answering(f"{base}/api/studies", server)
        yield base, optuna.load_study(study_name=STUDY, storage=storage), database
    finally:
        server.terminate()
        server.wait(timeout=30)


def _open(browser, url: str, *texts: str) -> str:
    """Load `url` and wait until the page shows every one of `texts`; the page's text."""
    browser.get(url)

    def shown(driver) -> str | bool:
        body = driver.find_element(By.TAG_NAME, "body").text
        return body if all(t in body for t in texts) else False

    return WebDriverWait(browser, WAIT).until(shown)


def test_the_study_page_names_the_metric(browser, reviewed):
    base, study, _ = reviewed
    _open(browser, f"{base}/dashboard/studies/{study._study_id}", METRIC, "Best Trial")
    browser.save_screenshot(SCREENSHOTS / "dashboard-study.png")


def test_the_study_note_reviews_the_run(browser, reviewed):
    base, study, database = reviewed
    page = _open(browser, f"{base}/dashboard/studies/{study._study_id}/note", f"Best {METRIC}")
    browser.save_screenshot(SCREENSHOTS / "dashboard-note.png")
    best = study.best_trial
    assert f"{METRIC}: {best.value:.3f}, trial {best.number}" in page
    assert "2 complete, 1 pruned (1 diverged), 0 failed" in page
    assert "persistence" in page and f"{METRIC} 24.863" in page
    assert study.user_attrs["data"]["sha256"] in page
    assert "train 2010-01-01 00:00 to 2012-12-31 23:00" in page
    assert "validation 2013-01-01 00:00 to 2013-12-31 23:00" in page
    assert "test from 2014-01-01 00:00" in page
    assert f"tuner export --storage sqlite:///{database} --study {STUDY}" in page


def test_a_pruned_trial_says_why(browser, reviewed):
    base, study, _ = reviewed
    pruned = next(t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED)
    url = f"{base}/dashboard/studies/{study._study_id}/trials?numbers={pruned.number}"
    page = _open(browser, url, "Pruned (diverged)")
    browser.save_screenshot(SCREENSHOTS / "dashboard-pruned-trial.png")
    assert "its loss became NaN or infinite" in page
    assert pruned.user_attrs["pruned_detail"] in page
    assert "Stopped after epoch 1." in page


def test_the_best_model_downloads_from_any_folder(browser, reviewed, tmp_path):
    import keras

    base, study, _ = reviewed
    best = study.best_trial.number
    url = f"{base}/dashboard/studies/{study._study_id}/trials?numbers={best}"
    _open(browser, url, f"Trial {best}", f"trial-{best}.keras")
    link = WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, 'a[aria-label="download artifact"]')
    )
    href = link.get_attribute("href")
    with urllib.request.urlopen(href, timeout=60) as response:
        assert response.status == 200
        served = response.read()

    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    browser.execute_script("arguments[0].click()", link)
    downloaded = tmp_path / f"trial-{best}.keras"
    WebDriverWait(browser, WAIT).until(lambda _: downloaded.is_file())
    assert downloaded.read_bytes() == served
    model = keras.saving.load_model(downloaded)
    assert model.output_shape == (None, 1)
