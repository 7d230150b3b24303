"""`report_study` on an in-memory study, without a bundle: no Keras, the search's figures."""

import random

import optuna
import pytest
from optuna.artifacts import FileSystemArtifactStore, download_artifact
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from tuner.errors import TunerError
from tuner.review.report import PAGE_FILE, default_model, report_study
from tuner.review.sections import searched_params
from tuner.search import attrs

SPACE = {
    "units": IntDistribution(8, 128, log=True),
    "seq_len": CategoricalDistribution((6, 12, 24)),
    "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
    "batch_size": CategoricalDistribution((16, 32, 64)),
}


def _study(completed: int = 8) -> optuna.Study:
    rng = random.Random(0)
    study = optuna.create_study(study_name="beijing-lstm_baseline")
    study.set_user_attr(attrs.PERSISTENCE_VAL_RMSE, 25.0)
    for i in range(completed + 3):
        params = {
            "units": rng.randint(8, 128),
            "seq_len": rng.choice((6, 12, 24)),
            "learning_rate": 10 ** rng.uniform(-4, -1),
            "batch_size": rng.choice((16, 32, 64)),
        }
        curve = [30 - 5 * (1 - 0.5**e) + rng.random() for e in range(rng.randint(3, 8))]
        if i < completed:
            state, extra = TrialState.COMPLETE, {"value": min(curve)}
            user = {}
        else:
            state, extra = TrialState.PRUNED, {}
            user = {attrs.PRUNED_REASON: ("noise", "behind", "diverged")[i - completed]}
        study.add_trial(
            create_trial(
                state=state,
                params=params,
                distributions=SPACE,
                intermediate_values=dict(enumerate(curve)),
                user_attrs=user,
                **extra,
            )
        )
    return study


def test_the_search_s_figures_in_one_page_attached_to_the_study(tmp_path):
    study = _study()
    store = tmp_path / "artifacts"
    store.mkdir()
    report = report_study(study, tmp_path / "report", artifacts=store)
    assert report.page == tmp_path / "report" / "beijing-lstm_baseline" / PAGE_FILE
    assert [p.name for p in report.pngs] == [
        "history.png",
        "curves.png",
        "importances.png",
        "slices.png",
    ]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in report.pngs)
    page = report.page.read_text()
    assert page.count('<img src="data:image/png;base64,') == 4
    assert "8 complete, 3 pruned (1 behind, 1 diverged, 1 noise), 0 failed" in page
    assert report.test_rmse is None
    assert study.user_attrs[attrs.REPORT_ARTIFACT_ID] == report.artifact_id
    copy = tmp_path / "downloaded.html"
    download_artifact(
        artifact_store=FileSystemArtifactStore(str(store)),
        file_path=str(copy),
        artifact_id=report.artifact_id,
    )
    assert copy.read_text() == page


def test_one_completed_trial_has_no_importances_and_says_so(tmp_path):
    report = report_study(_study(completed=1), tmp_path)
    assert [p.name for p in report.pngs] == ["history.png", "curves.png"]
    assert "need two completed trials" in report.page.read_text()
    assert report.artifact_id is None


def test_a_study_with_no_finished_trial_is_refused_and_nothing_is_written(tmp_path):
    study = optuna.create_study()
    study.ask()
    with pytest.raises(TunerError, match="no finished trial"):
        report_study(study, tmp_path / "report")
    assert not (tmp_path / "report").exists() and not study.user_attrs


def test_the_params_are_the_ones_suggested_in_their_order():
    assert searched_params(_study().get_trials()) == list(SPACE)


def test_no_default_model_without_its_folder(tmp_path):
    assert default_model("beijing-lstm_baseline", tmp_path / "best") is None


def test_costly_trials_are_named_under_the_history_only_when_the_study_has_them(tmp_path):
    study = _study()
    assert "Grey dots are costly" not in report_study(study, tmp_path / "a").page.read_text()
    study.add_trial(
        create_trial(value=24.0, params=study.trials[0].params, distributions=SPACE,
                     system_attrs={"constraints:costly": 2.0})
    )  # fmt: skip
    assert "Grey dots are costly" in report_study(study, tmp_path / "b").page.read_text()
