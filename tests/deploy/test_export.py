"""Export's pure parts: the kept epoch and the members to refit (the card: test_card; the
formats: test_convert)."""

import optuna
import pytest

from tuner.deploy.export import _kept_epoch, _plan_members, _teacher
from tuner.deploy.members import DEFAULT
from tuner.errors import TunerError
from tuner.search import attrs
from tuner.search.space import load_space


@pytest.mark.parametrize(
    ("reported", "kept"),
    [
        ({0: 30.0, 1: 25.0, 2: 25.5}, 2),
        ({0: 25.0, 1: 25.0}, 1),  # early stopping keeps the first of equal epochs
        ({0: 24.0}, 1),
        ({}, None),
    ],
)
def test_kept_epoch_of_a_trial_that_did_not_record_it_is_the_first_lowest_reported(reported, kept):
    trial = optuna.trial.create_trial(value=20.0, intermediate_values=reported)
    assert _kept_epoch(trial) == kept


def test_a_recorded_kept_epoch_is_the_one_said():
    trial = optuna.trial.create_trial(
        value=20.0, intermediate_values={0: 30.0, 1: 25.0}, user_attrs={attrs.KEPT_EPOCH: 1}
    )
    assert _kept_epoch(trial) == 1


def test_a_study_that_did_not_record_how_its_trials_trained_is_refused_before_training():
    """A study from before tuner recorded learning rates and kept epochs: no member can be
    refitted, and the user is told to export the best trial's own model."""
    study = optuna.create_study()
    study.set_user_attr(attrs.SPACE, "lstm_baseline")
    study.add_trial(optuna.trial.create_trial(value=20.0, user_attrs={attrs.MODEL_PARAMS: {}}))
    with pytest.raises(TunerError, match="did not record how its trials trained: .* --single"):
        _plan_members(study, DEFAULT)


def test_the_training_of_a_study_that_did_not_record_it_is_its_built_in_space_s():
    study = optuna.create_study()
    study.set_user_attr(attrs.SPACE, "lstm_baseline")
    study.add_trial(
        optuna.trial.create_trial(
            value=20.0,
            user_attrs={
                attrs.MODEL_PARAMS: {
                    "units": 8,
                    "seq_len": 6,
                    "learning_rate": 0.01,
                    "batch_size": 32,
                },
                attrs.LEARNING_RATES: [0.01, 0.005],
                attrs.KEPT_EPOCH: 2,
            },
        )
    )
    members, training = _plan_members(study, DEFAULT)
    assert [m.trial for m in members] == [0] and members[0].learning_rates == (0.01, 0.005)
    assert training == load_space("lstm_baseline").training
    study.set_user_attr(attrs.SPACE, "my_own.toml")  # not built in: nothing to fall back on
    with pytest.raises(TunerError, match="--single"):
        _plan_members(study, DEFAULT)


class _Scored:
    """A fitted baseline as `_teacher` reads it: its validation RMSE."""

    def __init__(self, val: float) -> None:
        self.val = val

    def rmse(self, part: str) -> float:
        assert part == "val", "the teacher is chosen without the test part"
        return self.val


@pytest.mark.parametrize(
    ("baseline", "weight", "said"),
    [
        (
            _Scored(22.5),
            0.75,
            "members learn from targets 75% gradient boosting's forecast (it validated 22.5, "
            "the best trial 22.7)",
        ),
        (
            _Scored(22.9),
            0.75,
            "members learn from targets 75% gradient boosting's forecast (it validated 22.9, "
            "the best trial 22.7)",
        ),
        (None, 0.0, "no gradient-boosting forecast to learn from: members learn the observed"),
    ],
)
def test_an_asked_for_teacher_teaches_when_there_is_a_booster_and_says_so(baseline, weight, said):
    lines = []
    assert _teacher(0.75, baseline, 22.7, lines.append) == weight
    assert len(lines) == 1 and lines[0].startswith(said)


def test_no_teacher_asked_for_is_none_and_says_nothing():
    lines = []
    assert _teacher(0.0, _Scored(22.5), 22.7, lines.append) == 0.0
    assert lines == []
