import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tuner.data.sources import BEIJING, DataSpec, resolve
from tuner.model.backend import use_backend

# The tests' own JAX compilation cache, shared by their runs, not the user's.
_CACHE = tempfile.mkdtemp(prefix="tuner-test-jax-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE
use_backend()  # before any test imports Keras: $TUNER_BACKEND or the default

ROOT = Path(__file__).parents[1]
# A convenience for a checkout beside the shared data folder, when $TUNER_DATA_DIR is unset;
# wherever the data is, the tests find it as the product does (`beijing_data`).
_SHARED_DATA = ROOT.parent / "shared" / "data"
if not os.environ.get("TUNER_DATA_DIR") and _SHARED_DATA.is_dir():
    os.environ["TUNER_DATA_DIR"] = str(_SHARED_DATA.resolve())
_ENVIRON = dict(os.environ)  # as the session began, whatever a test sets later


@functools.cache
def beijing_data() -> DataSpec:
    """The Beijing data through the product's own lookup (`tuner.data.sources.resolve`):
    $TUNER_DATA_DIR, then the user's cache folder, then the checked download into it."""
    return resolve(BEIJING.name, environ=_ENVIRON)


def data_dir() -> Path:
    """The folder the Beijing data was found in, for the processes that the tests start."""
    return Path(beijing_data().path).resolve().parent


@pytest.fixture(scope="session")
def beijing_csv(beijing_spec) -> Path:
    return Path(beijing_spec.path)


@pytest.fixture(scope="session")
def beijing_spec() -> DataSpec:
    return beijing_data()


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


def load_spec(path: Path, frame, **split) -> DataSpec:
    """`frame` (an hourly `load` column, timestamps in `ts`) as a CSV at `path`, resolved as
    `tuner run --data path --target load --time-col ts` would; `split`: val_start,
    test_start, horizon."""
    frame.to_csv(path, index=False)
    return resolve(str(path), target="load", time_col="ts", **split)


TUNER = [sys.executable, "-m", "tuner.cli"]
FAST_SPACE = Path(__file__).parent / "fast_space.toml"


def tuner(*args: str, cwd: Path, timeout: float = 900, **popen) -> subprocess.CompletedProcess:
    """The real CLI in a fresh process, the Beijing data found through $TUNER_DATA_DIR."""
    return subprocess.run(
        [*TUNER, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        **{"env": cli_env(), **popen},
    )


def cli_env() -> dict[str, str]:
    # Not the settings an in-process command left behind (silence_native_logs): each
    # process must quiet its own libraries for the tests of that to mean anything.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TUNER_") and k != "TF_CPP_MIN_LOG_LEVEL"
    }
    env["TUNER_DATA_DIR"] = str(data_dir())
    if os.environ.get("TUNER_BACKEND"):
        env["TUNER_BACKEND"] = os.environ["TUNER_BACKEND"]
    return env


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Path:
    """A workspace after `tuner run --trials 3 --max-epochs 2` and `tuner export`."""
    workspace = tmp_path_factory.mktemp("workspace")
    env = {**cli_env(), "JAX_COMPILATION_CACHE_DIR": str(workspace / "jax-cache")}
    run = tuner("run", "--trials", "3", "--max-epochs", "2", cwd=workspace, env=env)
    assert run.returncode == 0, run.stderr
    exported = tuner("export", cwd=workspace)
    assert exported.returncode == 0, exported.stderr
    return workspace


# Where the browser tests leave their screenshots, for CI to keep: $TUNER_TEST_OUTPUT or
# test-output/ in the checkout.
SCREENSHOTS = Path(os.environ.get("TUNER_TEST_OUTPUT") or ROOT / "test-output") / "screenshots"


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Selenium through Debian's chromium-driver (see .ci/run).

    The flags keep Chromium off the network beyond loopback: this machine has none, and
    Chromium's background connections would otherwise be refused at every start.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={tempfile.mkdtemp(prefix='tuner-test-chromium-')}",
    ):
        options.add_argument(flag)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(120)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server of a module's own, on loopback, with the bucket `servers.BUCKET`."""
    from tests.servers import BUCKET, S3Server

    server = S3Server()
    try:
        server.client().create_bucket(Bucket=BUCKET)
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of a module's own, on loopback (`tests.servers.Postgres`)."""
    from tests.servers import Postgres

    server = Postgres()
    try:
        yield server
    finally:
        server.close()
