"""`tuner report`: a study's figures in one HTML page (and its PNGs), attached to the study.

Everything that can be refused is checked before anything is written: the study has a
finished trial, the bundle is this study's and readable, the study's data is found again,
the artifact store exists. The page is uploaded to the study's artifact store last, and its
id recorded on the study (`attrs.REPORT_ARTIFACT_ID`), so that the dashboard lists it
beside the study and a failed report leaves the study as it was.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import optuna
from optuna.artifacts import upload_artifact
from optuna.trial import FrozenTrial, TrialState

from tuner.data.sources import DataSpec, relocate, target_unit
from tuner.deploy.bundle import DEFAULT_FOLDER, read_bundle
from tuner.deploy.metadata import BundleMetadata
from tuner.errors import TunerError
from tuner.review import DEFAULT_OUT, plots
from tuner.review.fates import Curve, counts, curves
from tuner.review.forecasts import Forecasts, forecast_test, week_starts
from tuner.review.page import Plot, Section, render
from tuner.search import attrs
from tuner.search.attrs import PrunedReason
from tuner.search.cost import is_costly
from tuner.search.failures import STORAGE_ERRORS, stop_reason
from tuner.search.notes import METRIC, metric_name
from tuner.search.outcomes import against_baseline
from tuner.search.stores import Store, describe_store_error, open_store, parse_store, store_errors

PAGE_FILE = "report.html"
TEST_WEEKS = 3
FATE_WORDS = {
    "completed": "completed",
    PrunedReason.NOISE: "pruned as noise",
    PrunedReason.BEHIND: "pruned as behind",
    PrunedReason.DIVERGED: str(PrunedReason.DIVERGED),
    "pruned": "pruned for another reason",
    "failed": "failed",
}


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
    sections = [_search_section(study, found)]
    forecast, meta = None, None
    if spec is not None:
        meta, forecast = forecast_test(model, spec)
        sections.append(_model_section(Path(model), meta, forecast, target_unit(spec)))
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


def searched_params(trials: list[FrozenTrial]) -> list[str]:
    """The parameters Optuna chose in completed trials, in the order they were suggested
    (a space's fixed values are not suggested)."""
    names: dict[str, None] = {}
    for trial in trials:
        if trial.state == TrialState.COMPLETE:
            names.update(dict.fromkeys(trial.params))
    return list(names)


def describe_counts(found: list[Curve]) -> str:
    tally = counts(found)
    return f"{len(found)} finished: " + ", ".join(
        f"{n} {FATE_WORDS[name]}" for name, n in tally.items()
    )


def _search_section(study: optuna.Study, found: list[Curve]) -> Section:
    trials = study.get_trials(deepcopy=False)
    baseline = attrs.persistence_val_rmse(study.user_attrs)
    spec = _recorded_data(study)
    label = metric_name(spec) if spec is not None else METRIC
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    facts = []
    if spec is not None:
        facts.append(
            (
                "data",
                f"{spec.name} ({Path(spec.path).name}, sha256 {spec.sha256[:12]}…), target "
                f"{spec.target}, {spec.horizon} hour(s) ahead",
            )
        )
    facts.append(("trials", describe_counts(found)))
    if complete:
        best = min(complete, key=lambda t: t.value)
        params = best.user_attrs.get(attrs.MODEL_PARAMS, best.params)
        shown = ", ".join(f"{k}={_number(v)}" for k, v in params.items())
        facts.append(("best", f"trial {best.number}: {best.value:.3f} ({shown})"))
        if baseline is not None:
            facts.append(
                (
                    "persistence",
                    f"{baseline:.3f}; the best trial is {against_baseline(best.value, baseline)}",
                )
            )
    elif baseline is not None:
        facts.append(("persistence", f"{baseline:.3f}"))
    boosting = attrs.boosting_val_rmse(study.user_attrs)
    if boosting is not None:
        versus = (
            f"; the best trial is {against_baseline(min(t.value for t in complete), boosting)}"
            if complete
            else ""
        )
        facts.append(("gradient boosting", f"{boosting:.3f}{versus}"))

    figures, notes = [], []
    if complete:
        figures.append(
            Plot(
                "history",
                "Best validation RMSE by trial",
                "Each dot is a completed trial, the line the best so far. The dashed line is "
                "persistence (the next value is this value): below it, the model knows "
                "something persistence does not."
                + (
                    " Grey dots are costly trials (an earlier one scored as well at a "
                    "fraction of the cost per epoch; `tuner best` marks them c), which "
                    "Optuna's line leaves out."
                    if any(is_costly(t) for t in complete)
                    else ""
                ),
                plots.history(study, baseline, label),
            )
        )
    figures.append(
        Plot(
            "curves",
            "Learning curves",
            "Validation RMSE after each epoch of every trial that ended, coloured by its "
            "fate: completed, or stopped as noise (no trend and no skill), as behind (it "
            "could not come within reach of the best), as diverged (NaN or inf), or failed "
            "(the trial's fail_reason says why). The axis stops at the 95th percentile of "
            "the values, so that a few high first epochs do not flatten the rest.",
            plots.learning_curves(found, baseline, label),
        )
    )
    params = searched_params(trials)
    if len(complete) >= 2 and params:
        figures.append(
            Plot(
                "importances",
                "Parameter importances",
                "How much each parameter decides whether a completed trial is among the "
                "best (Optuna's PED-ANOVA); with few trials, a rough guide.",
                plots.importances(study, label),
            )
        )
        figures.append(
            Plot(
                "slices",
                "Slice plots",
                "Each completed trial's validation RMSE against each searched parameter; "
                "darker points are later trials, where the sampler has narrowed down.",
                plots.slices(study, params, label),
            )
        )
    else:
        notes.append("Parameter importances and slice plots need two completed trials.")
    return Section("The search", tuple(facts), tuple(figures), tuple(notes))


def _holds(meta: BundleMetadata) -> str:
    if meta.members:
        taught = f", taught by gradient boosting ({meta.teacher:.0%})" if meta.teacher else ""
        return f"the mean of {len(meta.members)} refitted models{taught}, best trial {meta.trial}"
    return f"trial {meta.trial}"


def _model_section(
    bundle: Path, meta: BundleMetadata, forecast: Forecasts, unit: str | None
) -> Section:
    model_rmse, persistence_rmse = forecast.rmse()
    label = f"{meta.target} ({unit})" if unit else meta.target
    starts = week_starts(forecast.times[0], forecast.times[-1], TEST_WEEKS)
    boosting = (
        ""
        if meta.boosting_test_rmse is None
        else f", gradient boosting {meta.boosting_test_rmse:.3f}"
    )
    facts = (
        ("bundle", f"{bundle} ({_holds(meta)}, {meta.backend} backend)"),
        (
            "test RMSE",
            f"model {model_rmse:.3f}, persistence {persistence_rmse:.3f}{boosting} over "
            f"{len(forecast.times)} observed hours from {meta.split.get('test_start', '?')[:10]}",
        ),
    )
    figures = (
        Plot(
            "test_weeks",
            "Forecast against observed",
            f"{len(starts)} weeks spread over the test split, hour by hour: what was "
            f"observed, the exported model's forecast {meta.horizon} hour(s) ahead, and "
            "persistence. Gaps are hours whose value is missing in the data.",
            plots.forecast_weeks(forecast, starts, label),
        ),
        Plot(
            "test_by_hour",
            "Error by hour of day",
            "Test RMSE of the forecasts for each hour of day, the model beside persistence.",
            plots.hour_errors(forecast, label),
        ),
    )
    return Section("The exported model on the test split", facts, figures)


def _recorded_data(study: optuna.Study) -> DataSpec | None:
    """The data the study says it searched, as `tuner run` recorded it; None if it does not."""
    return attrs.data_spec(study.user_attrs)


def _data_of(study: optuna.Study, bundle: Path) -> DataSpec:
    """The study's data, found again, once `bundle` is known to be this study's."""
    meta = read_bundle(bundle)
    if meta.study != study.study_name:
        raise TunerError(f"{bundle}: exported from study '{meta.study}', not '{study.study_name}'")
    spec = _recorded_data(study)
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


def _number(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.3g}"
    return str(value)
