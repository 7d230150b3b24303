import optuna
import pytest

from tuner.errors import TunerError
from tuner.model.params import ModelParams
from tuner.search.space import load_space

DEFAULT = "lstm_baseline"

VALID = """
[params.units]
type = "int"
low = 8
high = 128
log = true

[params.seq_len]
type = "categorical"
choices = [6, 12, 24]

[params.learning_rate]
type = "float"
low = 1e-4
high = 1e-1
log = true

[params.batch_size]
type = "categorical"
choices = [16, 32]

[training]
max_epochs = 30
patience = 4
"""


def _write(tmp_path, text):
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


def test_default_space_is_the_issue_space():
    space = load_space(DEFAULT)
    units = space.params["units"]
    assert (units.kind, units.low, units.high, units.log) == ("int", 8, 128, True)
    assert space.params["seq_len"].choices == (6, 12, 24)
    lr = space.params["learning_rate"]
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", 1e-4, 1e-1, True)
    assert space.params["batch_size"].choices == (16, 32, 64, 128, 256)
    assert space.max_seq_len == 24
    assert (space.training.lr_patience, space.training.lr_factor) == (1, 0.5)


def test_the_long_space_is_the_default_with_windows_of_up_to_three_days():
    default, long = load_space(DEFAULT), load_space("lstm_long")
    assert long.params["seq_len"].choices == (6, 12, 24, 48, 72)
    assert {k: v for k, v in long.params.items() if k != "seq_len"} == {
        k: v for k, v in default.params.items() if k != "seq_len"
    }
    assert long.training == default.training


def test_the_learning_rate_schedule_is_optional_and_can_be_turned_off(tmp_path):
    default = load_space(_write(tmp_path, VALID))
    assert (default.training.lr_patience, default.training.lr_factor) == (1, 0.5)
    space = load_space(_write(tmp_path, VALID + "lr_patience = 0\nlr_factor = 0.2\n"))
    assert (space.training.lr_patience, space.training.lr_factor) == (0, 0.2)


def test_weight_averaging_is_on_by_default_and_can_be_turned_off(tmp_path):
    assert load_space(_write(tmp_path, VALID)).training.ema_momentum == 0.99
    assert (
        load_space(DEFAULT).training.ema_momentum
        == load_space("lstm_long").training.ema_momentum
        == 0.99
    )
    assert load_space(_write(tmp_path, VALID + "ema_momentum = 0\n")).training.ema_momentum == 0
    assert load_space(_write(tmp_path, VALID + "ema_momentum = 0.9\n")).training.ema_momentum == 0.9


def test_suggest_gives_model_params_within_bounds():
    space = load_space(DEFAULT)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        params = space.suggest(study.ask())
        assert isinstance(params, ModelParams)
        assert 8 <= params.units <= 128 and params.seq_len in (6, 12, 24)
        assert 1e-4 <= params.learning_rate <= 1e-1 and params.batch_size in (16, 32, 64, 128, 256)


def test_a_bare_value_fixes_a_parameter(tmp_path):
    text = VALID.replace('[params.batch_size]\ntype = "categorical"\nchoices = [16, 32]', "")
    text = text.replace("[params.units]", "[params]\nbatch_size = 64\n\n[params.units]")
    space = load_space(_write(tmp_path, text))
    params = space.suggest(optuna.create_study().ask())
    assert params.batch_size == 64


@pytest.mark.parametrize(
    "old, new, key",
    [
        (
            "[params.units]",
            '[params.dropout]\ntype = "float"\nlow = 0.0\nhigh = 0.5\n\n[params.units]',
            "params.dropout",
        ),
        ("low = 8\nhigh = 128", "low = 128\nhigh = 8", "params.units"),
        ("choices = [6, 12, 24]", "choices = []", "params.seq_len.choices"),
        ("choices = [16, 32]", 'choices = ["big"]', "params.batch_size.choices"),
        ('type = "int"', 'type = "integer"', "params.units.type"),
        ("low = 1e-4\nhigh = 1e-1", 'low = "small"\nhigh = 1e-1', "params.learning_rate.low"),
        ("max_epochs = 30", "max_epochs = 0", "training.max_epochs"),
        ("patience = 4", "patience = 4\nwarmup = 2", "training.warmup"),
        ("patience = 4", "patience = 4\nlr_patience = -1", "training.lr_patience"),
        ("patience = 4", "patience = 4\nlr_patience = 1.5", "training.lr_patience"),
        ("patience = 4", "patience = 4\nlr_factor = 1", "training.lr_factor"),
        ("patience = 4", "patience = 4\nlr_factor = 0", "training.lr_factor"),
        ("patience = 4", 'patience = 4\nlr_factor = "half"', "training.lr_factor"),
        ("patience = 4", "patience = 4\nema_momentum = 1", "training.ema_momentum"),
        ("patience = 4", "patience = 4\nema_momentum = -0.5", "training.ema_momentum"),
        ("patience = 4", "patience = 4\nema_momentum = false", "training.ema_momentum"),
        ('[params.batch_size]\ntype = "categorical"\nchoices = [16, 32]', "", "params.batch_size"),
        (
            "log = true\n\n[params.seq_len]",
            "log = true\nstep = 2\n\n[params.seq_len]",
            "params.units.step",
        ),
        ('type = "int"', 'type = ["int"]', "params.units.type"),
        ("low = 1e-4\nhigh = 1e-1", "low = 1e-4\nhigh = inf", "params.learning_rate.high"),
        ("choices = [6, 12, 24]", "choices = [6, nan]", "params.seq_len.choices"),
        ("low = 8\nhigh = 128", "low = 8\nhigh = 1e300", "params.units: values must be at most"),
        ("patience = 4", 'patience = 4\n"\\u001b[2J" = 1', "training.\\x1b[2J: unknown"),
    ],
)
def test_bad_space_names_file_and_key(tmp_path, old, new, key):
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(TunerError) as error:
        load_space(path)
    message = str(error.value)
    assert message.startswith(str(path)) and key in message and message.isprintable()


def test_not_toml(tmp_path):
    with pytest.raises(TunerError, match="not valid TOML"):
        load_space(_write(tmp_path, "[params\n"))


def test_missing_file_names_the_built_in_spaces(tmp_path):
    with pytest.raises(TunerError, match="no such space file .*lstm_baseline, lstm_long"):
        load_space(tmp_path / "nope.toml")


def test_built_in_spaces_are_found_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_space("lstm_baseline") == load_space("lstm_baseline.toml")
    assert load_space("lstm_long").params["seq_len"].choices == (6, 12, 24, 48, 72)


def test_a_file_given_by_path_wins_over_a_built_in_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, VALID)
    (tmp_path / "space.toml").rename(tmp_path / "lstm_baseline.toml")
    assert load_space("lstm_baseline.toml").training.patience == 4  # the built-in's is 3
    assert load_space("lstm_baseline").training.patience == 3


def test_what_the_network_predicts_and_its_loss(tmp_path):
    default = load_space(_write(tmp_path, VALID)).training
    assert (default.predict, default.loss) == ("change", "huber")
    chosen = load_space(_write(tmp_path, VALID + 'predict = "level"\nloss = "mse"\n')).training
    assert (chosen.predict, chosen.loss) == ("level", "mse")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('predict = "delta"', "training.predict: must be one of change, level, got 'delta'"),
        ("loss = 1", "training.loss: must be one of huber, mse, got 1"),
    ],
)
def test_an_unknown_prediction_or_loss_is_one_line(tmp_path, line, message):
    with pytest.raises(TunerError, match=message):
        load_space(_write(tmp_path, VALID + line + "\n"))
