import os
import subprocess
import sys

import pytest

from tuner.errors import TunerError
from tuner.model.backend import CACHE_MAX_BYTES, compilation_cache_settings, use_backend


def test_compilation_cache_lives_in_the_user_cache_folder():
    settings = compilation_cache_settings({"XDG_CACHE_HOME": "/var/cache/me"})
    assert settings["JAX_COMPILATION_CACHE_DIR"] == "/var/cache/me/tuner/jax"
    # every compilation is cached, not only those above JAX's default threshold of 1 s
    assert float(settings["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) == 0
    assert int(settings["JAX_COMPILATION_CACHE_MAX_SIZE"]) == CACHE_MAX_BYTES > 0
    home = compilation_cache_settings({})["JAX_COMPILATION_CACHE_DIR"]
    assert home == os.path.expanduser("~/.cache/tuner/jax")


@pytest.mark.skipif(os.environ["KERAS_BACKEND"] != "jax", reason="a JAX setting")
def test_the_user_s_own_jax_settings_win(monkeypatch, tmp_path):
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "2")
    monkeypatch.delenv("JAX_COMPILATION_CACHE_MAX_SIZE", raising=False)
    use_backend("jax")
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path)
    assert os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "2"
    assert os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] == str(CACHE_MAX_BYTES)


def test_unknown_backend_is_refused():
    with pytest.raises(TunerError, match="unknown backend 'torch'"):
        use_backend("torch")


def test_silenced_native_logs_leave_tuner_s_own_messages_on_the_terminal():
    code = (
        "import os, sys, warnings\n"
        "from tuner.model.backend import silence_native_logs\n"
        "silence_native_logs()\n"
        "silence_native_logs()\n"
        "os.write(2, b'I0000 cudart_stub.cc: from C++\\n')\n"
        "warnings.warn_explicit('from keras', UserWarning, 'layer.py', 1, module='keras.src.x')\n"
        "print('error: from tuner', file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "error: from tuner\n"


def test_a_stderr_someone_else_put_in_place_is_kept():
    code = (
        "import io, os, sys\n"
        "from tuner.model.backend import silence_native_logs\n"
        "sys.stderr = captured = io.StringIO()\n"
        "silence_native_logs()\n"
        "os.write(2, b'from C++\\n')\n"
        "print('error: from tuner', file=sys.stderr)\n"
        "assert sys.stderr is captured\n"
        "print(captured.getvalue(), end='')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "error: from tuner\n", result.stderr
    assert result.stderr == ""
