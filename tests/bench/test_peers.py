"""The peers of `tuner bench engines` train by tuner's recipe: same configuration and seed,
same curve as a tuner trial."""

import pytest

from tests.conftest import FAST_SPACE
from tuner.bench import peers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def peer_setup(beijing_spec):
    from dataclasses import replace

    from tuner.data.prepared import prepare
    from tuner.search.space import ParamSpec, load_space

    space = load_space(FAST_SPACE)
    fixed = {"units": 8, "seq_len": 6, "learning_rate": 3e-3, "batch_size": 512}
    space = replace(
        space,
        params={k: ParamSpec(k, "fixed", choices=(v,)) for k, v in fixed.items()},
        training=replace(space.training, max_epochs=3, patience=3),
    )
    return prepare(beijing_spec), space


def _tuner_curve(data, space, seed: int) -> list[float]:
    import optuna

    from tuner.search.objective import Objective

    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    study.optimize(Objective(data, space, space.training, seed=seed), n_trials=1)
    return [v for _, v in sorted(study.trials[0].intermediate_values.items())]


def test_plain_optuna_trains_what_a_tuner_trial_trains(peer_setup):
    """Same configuration, same seed: the peer's curve is the trial's, epoch for epoch."""
    import optuna

    data, space = peer_setup
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    study.optimize(peers.optuna_objective(data, space, seed=7), n_trials=1)
    peer = [v for _, v in sorted(study.trials[0].intermediate_values.items())]
    assert len(peer) == 3
    assert peer == pytest.approx(_tuner_curve(data, space, seed=7), rel=1e-6)


def test_keras_tuner_trains_what_a_tuner_trial_trains(peer_setup):
    """KerasTuner's two calls, `build` then `fit` with its epochs, give the trial's best."""
    import keras_tuner

    data, space = peer_setup
    model_of = peers.hypermodel(data, space, seed=7)
    hp = keras_tuner.HyperParameters()
    model = model_of.build(hp)
    scores = model_of.fit(hp, model, epochs=space.training.max_epochs, callbacks=[], verbose=0)
    best = min(_tuner_curve(data, space, seed=7))
    assert scores["val_mse"] ** 0.5 * data.target_std == pytest.approx(best, rel=1e-6)
