"""The README's two pictures, taken from a real study in headless Chromium.

The study is made the way a user makes theirs, in a project folder that holds the data
file too, so that the note's Data and Export lines name the same folder:

    python docs/screenshots.py --project DIR [--trials 100] [--out docs]

copies the Beijing file (found as `tuner run` finds it) into DIR, then runs there
`tuner run --data DIR/FILE --trials N --seed 0`, `tuner export` and `tuner report`, each
only if its result is missing (the run resumes). Without `--project`, DIR is a new
`beijing-pm25` folder in a temporary one. The README's pair was taken in a folder named
as a user's, in a private mount namespace so that nothing is left on the machine:

    unshare --mount sh -c 'mount -t tmpfs tmpfs /home &&
        python docs/screenshots.py --project /home/analyst/beijing-pm25 --trials 30'

`dashboard.png` is the study's Note tab in `tuner dashboard`; `report.png` the whole of the
study's report page. Needs Selenium (`pip install '.[test]'`) and Chromium with its
driver (Debian: `apt-get install chromium chromium-driver`).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import optuna
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tuner.data.sources import resolve

WIDTH = 1400
STORAGE = "sqlite:///results/tuner.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="default: a new temporary folder")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    project = args.project or Path(tempfile.mkdtemp()) / "beijing-pm25"
    project = project.absolute()
    out = args.out.absolute()
    make_study(project, args.trials)
    print(f"the study: {project}", file=sys.stderr)
    take_pictures(project, out)


def make_study(project: Path, trials: int) -> None:
    """A user's project folder: the data file beside the results, all made by tuner."""
    project.mkdir(parents=True, exist_ok=True)
    found = Path(resolve("beijing").path)
    data = project / found.name
    if not data.is_file():
        shutil.copyfile(found, data)
    _tuner(project, "run", "--data", str(data), "--trials", str(trials), "--seed", "0")
    exported = not (project / "results/best").is_dir()
    if exported:
        _tuner(project, "export")
    if exported or not list((project / "results/report").glob("*/report.html")):
        _tuner(project, "report")


def take_pictures(project: Path, out: Path) -> None:
    storage = f"sqlite:///{project / 'results/tuner.db'}"
    study = optuna.load_study(study_name=optuna.get_all_study_names(storage)[0], storage=storage)
    report = project / "results/report" / study.study_name / "report.html"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "tuner.cli", "dashboard", "--storage", STORAGE]
    server = subprocess.Popen(
        [*command, "--port", str(port)], cwd=project, stderr=subprocess.DEVNULL
    )
    browser = _browser()
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/api/studies")
        browser.set_window_size(WIDTH, 1000)
        browser.get(f"{base}/dashboard/studies/{study._study_id}/note")
        WebDriverWait(browser, 60).until(
            lambda d: "Best validation RMSE" in d.find_element(By.TAG_NAME, "body").text
        )
        browser.save_screenshot(str(out / "dashboard.png"))
        browser.get(report.as_uri())
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(WIDTH, height + 150)
        browser.save_screenshot(str(out / "report.png"))
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=30)


def _tuner(project: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "tuner.cli", *args], cwd=project, check=True)


def _browser() -> webdriver.Chrome:
    """Debian's Chromium and its driver, named, so that Selenium looks for nothing online."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


if __name__ == "__main__":
    main()
