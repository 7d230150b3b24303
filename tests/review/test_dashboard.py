"""The dashboard: loopback unless asked, a warning beyond it, and a read-only mode."""

import io
import json
import wsgiref.util

import optuna
import pytest

from tuner.review.dashboard import exposure_warning, make_app
from tuner.search.location import StudyLocation


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_warning(host):
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "dashboard.example.org"])
def test_any_other_host_is_one_warning_line(host):
    warning = exposure_warning(host)
    assert warning.startswith(f"warning: listening on {host}: ") and "\n" not in warning
    assert "no login" in warning and "delete" in warning


def _call(app, method: str, path: str) -> tuple[int, bytes]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO()}
    wsgiref.util.setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), body


@pytest.mark.parametrize("read_only", [True, False])
def test_read_only_refuses_to_delete_a_study(tmp_path, read_only):
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    study = optuna.create_study(study_name="kept", storage=url)
    study_id = study._study_id
    app = make_app(StudyLocation.of(url, None, environ={}), read_only=read_only)
    code, body = _call(app, "GET", "/api/studies")
    assert code == 200 and json.loads(body)["study_summaries"][0]["study_name"] == "kept"
    code, _ = _call(app, "DELETE", f"/api/studies/{study_id}")
    names = [s.study_name for s in optuna.get_all_study_summaries(url)]
    assert (code, names) == ((403, ["kept"]) if read_only else (204, []))
    assert not (tmp_path / "artifacts").exists()
