"""Export's own pure part, the kept epoch (the members: test_members; the card: test_card;
the formats: test_convert; the whole export, for real: test_e2e)."""

import math

import optuna
import pytest

from tuner.deploy.export import _kept_epoch
from tuner.search import attrs


@pytest.mark.parametrize(
    ("reported", "kept"),
    [
        ({0: 30.0, 1: 25.0, 2: 25.5}, 2),
        ({0: 25.0, 1: 25.0}, 1),  # early stopping keeps the first of equal epochs
        ({0: 24.0}, 1),
        ({0: 30.0, 2: 25.0}, 3),  # an epoch unreported is not the kept one, nor renumbered
        ({0: math.nan, 1: 26.0}, 2),
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
