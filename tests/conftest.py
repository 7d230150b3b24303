import os
from pathlib import Path

import pytest

from tuner.backend import use_backend
from tuner.sources import BEIJING, DataSpec, resolve

use_backend()  # before any test imports Keras: $TUNER_BACKEND or the default

ROOT = Path(__file__).parents[1]
DATA_DIR = Path(os.environ.get("TUNER_DATA_DIR") or ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def beijing_csv() -> Path:
    path = DATA_DIR / BEIJING.filename
    assert path.is_file(), f"the Beijing data is expected at {path} (set TUNER_DATA_DIR)"
    return path


@pytest.fixture(scope="session")
def beijing_spec(beijing_csv) -> DataSpec:
    return resolve("beijing", environ={"TUNER_DATA_DIR": str(beijing_csv.parent)})


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path
