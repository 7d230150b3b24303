"""An export's members trained again on training + validation, as one Keras model.

Each member replays its trial's kept epochs at their rates (`members`, `training.refit`),
seeded from its trial's number, so that an export of the same study trains the same
models; the members are then rebuilt in one session and averaged (`network.ensemble`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras

from tuner.data.prepared import PreparedData
from tuner.deploy.members import Member
from tuner.errors import TunerError
from tuner.model.network import build_model, ensemble
from tuner.model.params import TrainingSettings
from tuner.model.training import fresh_session, refit
from tuner.search.seeds import derive_seed

# The seed a member's refit derives its own from, with its trial's number.
REFIT_SEED = 0


def refit_members(
    members: Sequence[Member],
    data: PreparedData,
    training: TrainingSettings,
    progress: Callable[[str], None],
) -> keras.Model:
    """The mean of `members`, each refitted, told to `progress` in a line as it starts.

    The fits come first and the models are rebuilt from their weights after: a fit starts
    a fresh session, which under JAX frees the arrays of the models before it.
    """
    weights = []
    for i, member in enumerate(members):
        progress(f"training {i + 1} of {len(members)}: {_training_line(member)}")
        try:
            model = refit(
                member.params,
                data,
                training,
                learning_rates=member.learning_rates,
                seed=derive_seed(REFIT_SEED, member.trial),
            )
        except FloatingPointError as e:
            raise TunerError(f"trial {member.trial}'s refit diverged: {e}; try --single") from e
        weights.append(model.get_weights())
    fresh_session()
    models = []
    for i, (member, member_weights) in enumerate(zip(members, weights, strict=True)):
        model = build_model(
            member.params,
            data.n_features,
            training,
            scales=data.target_scales,
            name=f"member_{i}",
            compiled=False,
        )
        model.set_weights(member_weights)
        models.append(model)
    return ensemble(models)


def _training_line(member: Member) -> str:
    """What a member's refit trains, for the progress line."""
    p = member.params
    epochs = f"{member.epochs} epoch{'s' if member.epochs > 1 else ''}"
    return (
        f"trial {member.trial} (units {p.units}, seq_len {p.seq_len}, batch {p.batch_size}) "
        f"for {epochs} on training + validation"
    )
