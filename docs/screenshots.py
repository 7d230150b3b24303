"""The README's two pictures, taken from a real study in headless Chromium.

Usage, in the folder of a run (after `tuner run`, `tuner export` and `tuner report`):
    python /path/to/checkout/docs/screenshots.py [--out /path/to/checkout/docs]

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
import time
import urllib.request
from pathlib import Path

import optuna
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WIDTH = 1400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--storage", default="sqlite:///results/tuner.db")
    parser.add_argument("--report", type=Path, help="default: results/report/STUDY/report.html")
    args = parser.parse_args()
    study = optuna.load_study(
        study_name=optuna.get_all_study_names(args.storage)[0], storage=args.storage
    )
    report = args.report or Path("results/report") / study.study_name / "report.html"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "tuner.cli", "dashboard", "--storage", args.storage]
    server = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.DEVNULL)
    browser = _browser()
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/api/studies")
        browser.set_window_size(WIDTH, 1000)
        browser.get(f"{base}/dashboard/studies/{study._study_id}/note")
        WebDriverWait(browser, 60).until(
            lambda d: "Best validation RMSE" in d.find_element(By.TAG_NAME, "body").text
        )
        browser.save_screenshot(str(args.out / "dashboard.png"))
        browser.get(report.resolve().as_uri())
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(WIDTH, height + 150)
        browser.save_screenshot(str(args.out / "report.png"))
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=30)


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
