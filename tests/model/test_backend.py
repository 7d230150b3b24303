import os

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
