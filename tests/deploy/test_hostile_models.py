"""Hostile `model.keras` files: refused in one line before Keras runs or inflates anything."""

import resource
import zipfile

import pytest

from tests.deploy.test_bundle import META, _bundle
from tuner.deploy.bundle import MAX_MODEL_BYTES, MAX_MODEL_ENTRIES, MODEL_FILE, read_pinned
from tuner.deploy.predict import _load
from tuner.errors import TunerError


def _refused(bundle, message: str) -> str:
    with pytest.raises(TunerError, match=message) as error:
        read_pinned(bundle, _load)
    assert "\n" not in str(error.value) and "/proc/self" not in str(error.value)
    return str(error.value)


def test_a_lambda_layer_is_refused_by_keras_safe_mode_and_never_runs(tmp_path):
    import keras

    marker = tmp_path / "ran"
    bundle = _bundle(tmp_path / "b", META.to_json())
    touch = keras.layers.Lambda(
        lambda x, path: open(path, "w") and x, arguments={"path": str(marker)}
    )
    model = keras.Sequential([keras.Input((3,)), touch])
    model.save(bundle / MODEL_FILE)
    marker.unlink(missing_ok=True)  # saving traced the function once
    _refused(bundle, "model.keras: refused: .*Lambda")
    assert not marker.exists()


def test_an_archive_that_inflates_past_the_limit_is_refused_unread(tmp_path):
    bundle = _bundle(tmp_path / "b", META.to_json())
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(bundle / MODEL_FILE, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("model.weights.h5", "w", force_zip64=True) as entry:
            for _ in range((MAX_MODEL_BYTES >> 20) + 1):
                entry.write(zeros)
    assert (bundle / MODEL_FILE).stat().st_size < 2 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused(bundle, "bytes once unzipped, larger than a model can be")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 << 10  # KiB


def test_an_archive_of_many_entries_is_refused(tmp_path):
    bundle = _bundle(tmp_path / "b", META.to_json())
    with zipfile.ZipFile(bundle / MODEL_FILE, "w") as archive:
        for i in range(MAX_MODEL_ENTRIES + 1):
            archive.writestr(f"e{i}", b"")
    _refused(bundle, "entries, not a Keras model archive")


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04" + b"\x00" * 40])
def test_a_model_file_that_is_not_an_archive_is_refused(tmp_path, content):
    bundle = _bundle(tmp_path / "b", META.to_json())
    (bundle / MODEL_FILE).write_bytes(content)
    _refused(bundle, "not a Keras model archive")


def test_an_archive_keras_cannot_read_is_refused(tmp_path):
    bundle = _bundle(tmp_path / "b", META.to_json())
    with zipfile.ZipFile(bundle / MODEL_FILE, "w") as archive:
        archive.writestr("config.json", "{")
    _refused(bundle, "model.keras: refused: ")
