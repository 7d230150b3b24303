"""`tuner report`: a study's figures in one HTML page (and its PNGs), attached to the study.

Everything that can be refused is checked before anything is written: the study has a
finished trial, the bundle is this study's and readable, the study's data is found again,
the artifact store exists. The page is uploaded to the study's artifact store last, and its
id recorded on the study (`attrs.REPORT_ARTIFACT_ID`), so that the dashboard lists it
beside the study and a failed report leaves the study as it was.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import optuna
from optuna.artifacts import upload_artifact

from tuner.data.sources import DataSpec, relocate, target_unit
from tuner.deploy.bundle import DEFAULT_FOLDER, read_bundle
from tuner.errors import TunerError
from tuner.review import DEFAULT_OUT
from tuner.review.fates import curves
from tuner.review.forecasts import forecast_test
from tuner.review.page import Plot, render
from tuner.review.sections import model_section, search_section
from tuner.search import attrs
from tuner.search.failures import STORAGE_ERRORS, stop_reason
from tuner.search.stores import Store, describe_store_error, open_store, parse_store, store_errors

PAGE_FILE = "report.html"


@dataclass(frozen=True)
class Report:
    """What `report_study` wrote: the page, its PNGs, and the page's id in the store."""

    study: str
    page: Path
    pngs: tuple[Path, ...]
    artifact_id: str | None  # None when the study has no artifact store
    model: Path | None  # the bundle drawn on the test split
    test_rmse: tuple[float, float] | None  # (model, persistence); None without a bundle
    boosting_test_rmse: float | None = None  # the bundle's gradient-boosting baseline

    def describe(self) -> str:
        lines = [f"report of study '{self.study}': {self.page} ({len(self.pngs)} figures)"]
        if self.artifact_id is None:
            lines.append("not attached to the study: no artifact store found; give --artifacts")
        else:
            lines.append(f"attached to the study as artifact {self.artifact_id}")
        if self.model is None or self.test_rmse is None:
            lines.append("no test-split figures: give --model, a bundle of this study")
        else:
            model, persistence = self.test_rmse
            boosting = (
                ""
                if self.boosting_test_rmse is None
                else f", gradient boosting {self.boosting_test_rmse:.3f}"
            )
            lines.append(
                f"{self.model}: test RMSE {model:.3f} (persistence {persistence:.3f}{boosting})"
            )
        return "\n".join(lines)


def report_study(
    study: optuna.Study,
    out: str | Path = DEFAULT_OUT,
    *,
    model: str | Path | None = None,
    artifacts: str | Store | None = None,
) -> Report:
    """Write the report of `study` to `out/<study name>/` and attach the page to the study.

    Args:
        study: a study made by `tuner run`.
        out: the folder of reports; each study's has a folder in it, replaced file by file.
        model: a bundle of this study from `tuner export`, for the figures of the test split;
            None leaves them out.
        artifacts: the study's artifact store (a folder or a bucket); None writes the report
            without attaching it.

    Raises:
        TunerError: no finished trial; a bundle that cannot be read or is another study's;
            the study's data missing or changed; no store in `artifacts`; a folder that
            cannot be written. The study is not changed then.
    """
    found = curves(study.get_trials(deepcopy=False))
    if not found:
        raise TunerError(f"study '{study.study_name}' has no finished trial to report")
    where = parse_store(artifacts) if artifacts is not None else None
    if where is not None:
        open_store(where, create=False)  # a folder that is not there: refused before the figures
    spec = _data_of(study, Path(model)) if model is not None else None
    sections = [search_section(study, found)]
    forecast, meta = None, None
    if spec is not None:
        meta, forecast = forecast_test(model, spec)
        sections.append(model_section(Path(model), meta, forecast, target_unit(spec)))
    folder = Path(out) / _file_name(study.study_name)
    written = datetime.now().astimezone()
    page = render(
        f"tuner report: {study.study_name}",
        f"Written {written:%Y-%m-%d %H:%M %Z} from {len(found)} finished trials.",
        sections,
    )
    pngs = _write(folder, [p for s in sections for p in s.plots], page)
    artifact_id = _attach(study, folder / PAGE_FILE, where) if where is not None else None
    return Report(
        study=study.study_name,
        page=folder / PAGE_FILE,
        pngs=pngs,
        artifact_id=artifact_id,
        model=Path(model) if model is not None else None,
        test_rmse=forecast.rmse() if forecast is not None else None,
        boosting_test_rmse=meta.boosting_test_rmse if meta is not None else None,
    )


def default_model(study_name: str, folder: str | Path = DEFAULT_FOLDER) -> Path | None:
    """`folder` when it holds this study's bundle; None when there is none or another's.

    Raises:
        TunerError: a folder there that is not a readable bundle.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    return folder if read_bundle(folder).study == study_name else None


def _data_of(study: optuna.Study, bundle: Path) -> DataSpec:
    """The study's data, found again, once `bundle` is known to be this study's."""
    meta = read_bundle(bundle)
    if meta.study != study.study_name:
        raise TunerError(f"{bundle}: exported from study '{meta.study}', not '{study.study_name}'")
    spec = attrs.data_spec(study.user_attrs)
    if spec is None:
        raise TunerError(f"study '{study.study_name}' does not say which data it searched")
    return relocate(spec)


def _write(folder: Path, figures: list[Plot], page: str) -> tuple[Path, ...]:
    """Each file written beside and renamed into place: a reader never sees half of one."""
    files = {f"{plot.name}.png": plot.png for plot in figures}
    files[PAGE_FILE] = page.encode()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            staged = folder / f".{name}.tmp"
            staged.write_bytes(content)
            os.replace(staged, folder / name)
    except OSError as e:
        raise TunerError(f"{folder}: cannot write the report: {e.strerror}") from e
    return tuple(folder / name for name in files if name != PAGE_FILE)


def _attach(study: optuna.Study, page: Path, where: Store) -> str:
    """Upload the page as the study's artifact.

    The store is tried with a real write first, so that one the report cannot use is
    refused before the study lists a page.
    """
    store = open_store(where)
    try:
        artifact_id = upload_artifact(
            artifact_store=store,
            file_path=str(page),
            study_or_trial=study,
            mimetype="text/html",
        )
        study.set_user_attr(attrs.REPORT_ARTIFACT_ID, artifact_id)
    except store_errors() as e:
        raise TunerError(f"{where}: cannot attach the report: {describe_store_error(e)}") from e
    except (OSError, *STORAGE_ERRORS) as e:
        raise TunerError(f"cannot attach the report to the study: {stop_reason(e)}") from e
    return artifact_id


def _file_name(study_name: str) -> str:
    """The study's name as one safe path component."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", study_name).lstrip(".") or "study"
