"""Hostile `model.keras` files: refused in one line before Keras runs or inflates anything.

Each bundle is sealed as export seals it (`SHA256SUMS`), as an attacker would, so that the
model's own checks are what refuse it; each goes through `tuner predict`.
"""

import contextlib
import io
import json
import os
import re
import subprocess
import zipfile

import pytest

from tests.conftest import TUNER, cli_env
from tests.deploy.test_bundle import META, _bundle
from tuner.cli import main
from tuner.deploy.bundle import MODEL_FILE
from tuner.deploy.manifest import MAX_MODEL_BYTES, MAX_MODEL_ENTRIES, write_manifest


def _refused(bundle, message: str) -> None:
    """`tuner predict` on `bundle`, sealed first: exit 2 and one line that says `message`."""
    write_manifest(bundle)
    err = io.StringIO()
    args = ["--model", str(bundle), "--data", str(bundle / "unused.csv")]
    with contextlib.redirect_stderr(err):  # --verbose: the process's own stderr left alone
        code = main(["predict", "--verbose", *args])
    line = err.getvalue()
    assert code == 2 and line.startswith("error: ") and line.count("\n") == 1, line
    assert re.search(message, line) and "/proc/self" not in line, line


def _dense_model(path):
    import keras

    keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]).save(path)


def _edit_config(path, edit) -> None:
    """Rewrite the `config.json` of the archive at `path` through `edit(config)`."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    edit(config)
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


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
    keras.saving.load_model(bundle / MODEL_FILE, safe_mode=False)
    assert marker.exists()  # the control: loaded unsafely, the layer does run


def test_a_layer_naming_a_function_outside_keras_is_refused(tmp_path):
    bundle = _bundle(tmp_path / "b", META.to_json())
    _dense_model(bundle / MODEL_FILE)

    def os_system(config):
        dense = config["config"]["layers"][-1]["config"]
        dense["activation"] = {"module": "os", "class_name": "function", "config": "system"}

    _edit_config(bundle / MODEL_FILE, os_system)
    _refused(bundle, "model.keras: refused: .*could not be deserialized")


def test_a_layer_naming_a_keras_utility_that_is_not_a_layer_is_refused(tmp_path):
    bundle = _bundle(tmp_path / "b", META.to_json())
    _dense_model(bundle / MODEL_FILE)

    def get_file(config):
        config["config"]["layers"][-1].update(module="keras.utils", class_name="get_file")

    _edit_config(bundle / MODEL_FILE, get_file)
    _refused(bundle, "model.keras: refused: Cannot deserialize `keras.utils.get_file`")


def _bomb(path, unzipped_bytes: int) -> None:
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("model.weights.h5", "w", force_zip64=True) as entry:
            for _ in range(unzipped_bytes >> 20):
                entry.write(zeros)


def _peak_kib_of_predict(bundle) -> tuple[int, str, int]:
    """(exit code, stderr, peak resident KiB) of `tuner predict` on `bundle`, in its own process."""
    with open(bundle.parent / "stderr", "w+") as err:
        process = subprocess.Popen(
            [*TUNER, "predict", "--model", str(bundle), "--data", "unused.csv"],
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return process.returncode, err.read(), usage.ru_maxrss


@pytest.mark.e2e
def test_an_archive_that_inflates_past_the_limit_is_refused_unread(tmp_path):
    bundle = _bundle(tmp_path / "b", META.to_json())
    _bomb(bundle / MODEL_FILE, MAX_MODEL_BYTES + (1 << 20))
    assert (bundle / MODEL_FILE).stat().st_size < 2 << 20
    write_manifest(bundle)
    small = _bundle(tmp_path / "small", META.to_json())
    with zipfile.ZipFile(small / MODEL_FILE, "w") as archive:
        for i in range(MAX_MODEL_ENTRIES + 1):
            archive.writestr(f"e{i}", b"")
    write_manifest(small)

    code, err, peak = _peak_kib_of_predict(bundle)
    assert code == 2 and err.count("\n") == 1, err
    assert "bytes once unzipped, larger than a model can be" in err
    base_code, base_err, base_peak = _peak_kib_of_predict(small)  # refused for its entries
    assert base_code == 2 and "entries" in base_err, base_err
    assert peak - base_peak < 32 << 10, (peak, base_peak)  # KiB: nothing was inflated


def test_an_archive_of_many_entries_is_refused(tmp_path):
    bundle = _bundle(tmp_path / "b", META.to_json())
    with zipfile.ZipFile(bundle / MODEL_FILE, "w") as archive:
        for i in range(MAX_MODEL_ENTRIES + 1):
            archive.writestr(f"e{i}", b"")
    _refused(bundle, "entries, not a Keras model archive")


@pytest.mark.parametrize("name", ["../../escaped.h5", "/etc/cron.d/x", "assets/../../x"])
def test_an_archive_entry_that_would_escape_its_folder_is_refused(tmp_path, name):
    bundle = _bundle(tmp_path / "b", META.to_json())
    _dense_model(bundle / MODEL_FILE)
    with zipfile.ZipFile(bundle / MODEL_FILE, "a") as archive:
        archive.writestr(name, b"x")
    _refused(bundle, "an entry named .*, not a Keras model archive")


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
