"""A study records its space and training settings when it is made; a resume that changed
either is refused in one line, naming the parameter and both values, before any write."""

import json
from dataclasses import asdict
from pathlib import Path

import optuna
import pytest

from tests.conftest import FAST_SPACE, tuner
from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.config import RunConfig
from tuner.search.location import StudyLocation
from tuner.search.record import (
    check_resumable,
    distribution_record,
    open_study,
    params_change,
    recorded,
    space_record,
    training_change,
)
from tuner.search.space import load_space

SPACE = load_space(FAST_SPACE)
UNITS = '[params.units]\ntype = "int"\nlow = 8\nhigh = 16'
EDITS = {  # what is edited in fast_space.toml, and the line that refuses it
    "categorical choices": (
        "choices = [6, 12]",
        "choices = [6, 24]",
        "params.seq_len choices [6, 12], not choices [6, 24]",
    ),
    "an int's range": ("high = 16", "high = 32", "params.units int 8 to 16, not int 8 to 32"),
    "a log scale": (
        "high = 1e-2\nlog = true",
        "high = 1e-2\nlog = false",
        "params.learning_rate float 0.001 to 0.01, log, not float 0.001 to 0.01",
    ),
    "a searched parameter fixed": (UNITS, "[params]\nunits = 12", "int 8 to 16, not fixed 12"),
    "a training setting": ("patience = 2", "patience = 3", "training.patience=2, not 3"),
}


def _edited(folder: Path, old: str, new: str, name: str = "edited") -> Path:
    """fast_space.toml with `old` replaced by `new`, as `folder/name.toml`."""
    text = FAST_SPACE.read_text()
    assert old in text
    path = folder / f"{name}.toml"
    path.write_text(text.replace(old, new))
    return path


def test_the_record_holds_each_parameter_s_kind_range_log_choices_or_fixed_value(tmp_path):
    assert space_record(SPACE) == {
        "units": {"type": "int", "low": 8, "high": 16, "log": False},
        "seq_len": {"choices": [6, 12]},
        "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True},
        "batch_size": {"choices": [256, 512]},
    }
    fixed = load_space(_edited(tmp_path, UNITS, "[params]\nunits = 12"))
    assert space_record(fixed)["units"] == {"fixed": 12}
    assert json.loads(json.dumps(space_record(SPACE))) == space_record(SPACE)


def test_what_a_trial_sampled_reads_as_the_record_of_its_space():
    """The record of an older study comes from its trials' distributions: the same words."""
    trial = optuna.create_study().ask()
    SPACE.suggest(trial)
    sampled = {k: distribution_record(d) for k, d in trial.distributions.items()}
    assert sampled == space_record(SPACE)


@pytest.mark.parametrize("edit", EDITS)
def test_each_change_is_named_with_both_values(edit, tmp_path):
    old, new, message = EDITS[edit]
    edited = load_space(_edited(tmp_path, old, new))
    stored = json.loads(json.dumps(asdict(SPACE.training)))
    change = params_change(space_record(SPACE), edited, partial=False) or training_change(
        stored, edited
    )
    assert change is not None and change.endswith(message), change
    assert params_change(space_record(SPACE), SPACE, partial=False) is None
    assert training_change(stored, SPACE) is None


def test_a_setting_the_record_lacks_is_not_compared():
    stored = json.loads(json.dumps(asdict(SPACE.training)))
    del stored["ema_momentum"]  # recorded before tuner had the setting
    assert training_change(stored, SPACE) is None


def _study_of(tmp_path: Path, beijing_spec, space, name: str = "") -> tuple[str, StudyLocation]:
    """A study made on a real SQLite file as `tuner run` makes it, before any trial."""
    storage = f"sqlite:///{tmp_path / 'tuner.db'}"
    location = StudyLocation.of(storage, str(tmp_path / "artifacts"))
    config = RunConfig(data=beijing_spec, space=space, location=location, study_name=name)
    rdb = optuna.storages.RDBStorage(storage)
    open_study(rdb, config)
    rdb.engine.dispose()
    return storage, location


def _snapshot(storage: str) -> list:
    rdb = optuna.storages.RDBStorage(storage)
    studies = []
    for summary in rdb.get_all_studies():
        trials = rdb.get_all_trials(summary._study_id)
        kept = [(t.number, t.state, t.params, t.user_attrs, t.distributions) for t in trials]
        studies.append((summary.study_name, json.dumps(summary.user_attrs, sort_keys=True), kept))
    rdb.engine.dispose()
    return studies


def test_a_study_another_process_is_making_is_joined_and_recorded_once(beijing_spec):
    """Machines that start at once: one made the study and has not yet written its record
    (two writes) when another looks. The other joins it, and the record is the run's."""
    storage = optuna.storages.InMemoryStorage()
    optuna.create_study(study_name="shared", storage=storage)  # made, not yet recorded
    data = asdict(beijing_spec)
    check_resumable(storage, "shared", recorded(storage, "shared"), data, SPACE)
    config = RunConfig(data=beijing_spec, space=SPACE, study_name="shared")
    made = open_study(storage, config).user_attrs
    assert (made[attrs.DATA], made[attrs.SPACE]) == (data, SPACE.name)
    assert made[attrs.SPACE_PARAMS] == space_record(SPACE)


def test_a_record_being_written_is_never_read_as_whole_before_it_is(beijing_spec):
    """Another process may look between any two of the record's writes: until the data, the
    last, is in, it sees a study being made; after, the whole record."""
    seen = []

    class Looking(optuna.storages.InMemoryStorage):
        def set_study_user_attr(self, study_id, key, value):
            super().set_study_user_attr(study_id, key, value)
            seen.append(dict(recorded(self, "shared")))

    storage = Looking()
    open_study(storage, RunConfig(data=beijing_spec, space=SPACE, study_name="shared"))
    data = asdict(beijing_spec)
    for attributes in seen:
        check_resumable(storage, "shared", attributes, data, SPACE)  # never refused
        if attrs.DATA in attributes:
            assert {attrs.SPACE, attrs.SPACE_PARAMS, attrs.TRAINING} <= attributes.keys()
    assert any(attrs.DATA in attributes for attributes in seen)


def test_an_older_study_is_compared_with_what_its_trials_sampled_then_recorded(
    tmp_path, beijing_spec
):
    """A study made before tuner recorded its space: its latest trial's distributions."""
    storage = optuna.storages.InMemoryStorage()
    older = optuna.create_study(study_name="older", storage=storage)
    older.set_user_attr(attrs.DATA, asdict(beijing_spec))
    older.set_user_attr(attrs.SPACE, SPACE.name)
    older.set_user_attr(attrs.TRAINING, asdict(SPACE.training))
    SPACE.suggest(older.ask())
    data = asdict(beijing_spec)
    for old, new, message in (EDITS["categorical choices"], EDITS["an int's range"]):
        edited = load_space(_edited(tmp_path, old, new, SPACE.name))
        with pytest.raises(TunerError, match=f"was made with {message.replace('[', '.')}"):
            check_resumable(storage, "older", recorded(storage, "older"), data, edited)
    check_resumable(storage, "older", recorded(storage, "older"), data, SPACE)
    config = RunConfig(data=beijing_spec, space=SPACE, study_name="older")
    assert open_study(storage, config).user_attrs[attrs.SPACE_PARAMS] == space_record(SPACE)


def test_the_cli_refuses_an_edited_training_setting_in_one_line_and_writes_nothing(
    tmp_path, beijing_spec
):
    """The real CLI on a real SQLite file; the study is made by `open_study`, as a first
    `tuner run` makes it, so that nothing trains (test_a_resume_of_a_trained_study_...
    trains it through the CLI)."""
    old, new, message = EDITS["a training setting"]
    storage, location = _study_of(tmp_path, beijing_spec, load_space(_edited(tmp_path, "", "")))
    before = _snapshot(storage)
    space = _edited(tmp_path, old, new)
    args = ["--space", str(space), "--storage", storage, "--artifacts", str(location.artifacts)]
    result = tuner("run", *args, "--trials", "1", "--jobs", "1", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"study 'beijing-edited' was made with {message}: choose another --study" in (
        result.stderr
    )
    assert _snapshot(storage) == before


@pytest.mark.e2e
def test_a_resume_of_a_trained_study_with_an_edited_space_is_refused(tmp_path):
    space = _edited(tmp_path, "", "")
    common = ["--space", str(space), "--storage", f"sqlite:///{tmp_path / 'tuner.db'}"]
    first = tuner("run", *common, "--trials", "1", "--jobs", "1", "--replicates", "0", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = _snapshot(f"sqlite:///{tmp_path / 'tuner.db'}")
    assert len(before[0][2]) == 1
    _edited(tmp_path, "choices = [256, 512]", "choices = [128, 256]")
    again = tuner("run", *common, "--trials", "2", "--jobs", "1", cwd=tmp_path)
    assert again.returncode == 2, again.stderr
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr, again.stderr
    assert "params.batch_size choices [256, 512], not choices [128, 256]" in again.stderr
    assert _snapshot(f"sqlite:///{tmp_path / 'tuner.db'}") == before
