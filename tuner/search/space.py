"""TOML -> `SearchSpace`; `suggest(trial)` -> `ModelParams` for one trial.

The built-in spaces are package data (`tuner/search/spaces/`), so that an installed wheel
finds them; a user's own space is a TOML file given by its path.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner.errors import TunerError, shown
from tuner.model.params import LIMITS, LOSSES, PREDICTS, ModelParams, TrainingSettings

if TYPE_CHECKING:
    import optuna

PARAMS: dict[str, type] = {
    "units": int,
    "seq_len": int,
    "learning_rate": float,
    "batch_size": int,
}
TRAINING_KEYS = tuple(f.name for f in fields(TrainingSettings))
DEFAULT_SPACE = "lstm_baseline"
BUILTIN_SPACES = resources.files("tuner.search") / "spaces"


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str  # "int", "float", "categorical" or "fixed"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[int | float, ...] = ()

    def suggest(self, trial: optuna.Trial) -> int | float:
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log)
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, self.choices)
        return self.choices[0]

    def values(self) -> tuple[int | float, ...]:
        """The bounds or choices: what the largest seq_len can be, for instance."""
        return self.choices or (self.low, self.high)


@dataclass(frozen=True)
class SearchSpace:
    """The searched hyperparameters (`params`, in `ModelParams` order) and how trials train.

    `builtin`: one of tuner's own spaces, whose windows are written in hours and are
    adapted to the series' step (`for_step`); a user's space is taken as written, in steps.
    """

    name: str
    params: dict[str, ParamSpec]
    training: TrainingSettings
    builtin: bool = False

    def suggest(self, trial: optuna.Trial) -> ModelParams:
        return ModelParams(**{name: spec.suggest(trial) for name, spec in self.params.items()})

    @property
    def max_seq_len(self) -> int:
        return int(max(self.params["seq_len"].values()))


def builtin_spaces() -> list[str]:
    """Names of the spaces that ship with tuner."""
    return sorted(
        p.name.removesuffix(".toml") for p in BUILTIN_SPACES.iterdir() if p.name.endswith(".toml")
    )


def load_space(name_or_path: str | Path) -> SearchSpace:
    """A search space: a built-in one by name, or a TOML file by path.

    Args:
        name_or_path: `lstm_baseline`, `lstm_long` (see `builtin_spaces()`), or the path of
            a TOML file in the format of those (a file that exists wins over a name).

    Raises:
        TunerError: no such space, not TOML, or a key or value the format does not allow.
    """
    text, source, name, builtin = _read_space(str(name_or_path))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TunerError(f"{source}: not valid TOML: {e}") from e
    space = parse_space(document, name=name, source=source)
    return replace(space, builtin=builtin)


def _read_space(name_or_path: str) -> tuple[str, str, str, bool]:
    """(text, where it came from, the space's name, whether built in): a file when one is
    there, else a built-in."""
    path = Path(name_or_path)
    if not path.is_file():
        builtin = BUILTIN_SPACES / f"{name_or_path.removesuffix('.toml')}.toml"
        if path.name == name_or_path and builtin.is_file():
            return builtin.read_text(), f"built-in space {builtin.name}", path.stem, True
        known = ", ".join(builtin_spaces())
        raise TunerError(f"{name_or_path}: no such space file (built-in spaces: {known})")
    try:
        return path.read_text(), str(path), path.stem, False
    except OSError as e:
        raise TunerError(f"{path}: cannot read search space: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise TunerError(f"{path}: not valid TOML: {e}") from e


def parse_space(document: dict[str, Any], *, name: str, source: str) -> SearchSpace:
    unknown = set(document) - {"params", "training"}
    if unknown:
        raise TunerError(f"{source}: unknown section {shown(sorted(unknown)[0])}")
    params = _table(document, "params", source)
    for key in params:
        if key not in PARAMS:
            raise TunerError(
                f"{source}: params.{_key(key)}: unknown parameter (known: {', '.join(PARAMS)})"
            )
    specs = {key: _param(key, params[key], f"{source}: params.{key}") for key in params}
    missing = [key for key in PARAMS if key not in specs]
    if missing:
        raise TunerError(f"{source}: params.{missing[0]}: missing")
    specs = {key: specs[key] for key in PARAMS}  # ModelParams' order

    training = _table(document, "training", source)
    for key in training:
        if key not in TRAINING_KEYS:
            raise TunerError(f"{source}: training.{_key(key)}: unknown setting")
    max_epochs = _positive_int(training, "max_epochs", source)
    patience = _positive_int(training, "patience", source)
    lr_patience = training.get("lr_patience", TrainingSettings.lr_patience)
    if isinstance(lr_patience, bool) or not isinstance(lr_patience, int) or lr_patience < 0:
        raise TunerError(
            f"{source}: training.lr_patience: must be an integer, 0 or more, "
            f"got {shown(lr_patience)}"
        )
    lr_factor = _fraction(
        training.get("lr_factor", TrainingSettings.lr_factor), f"{source}: training.lr_factor"
    )
    ema_momentum = training.get("ema_momentum", TrainingSettings.ema_momentum)
    if isinstance(ema_momentum, bool) or ema_momentum != 0:  # 0 turns it off
        ema_momentum = _fraction(ema_momentum, f"{source}: training.ema_momentum")
    space = SearchSpace(
        name=name,
        params=specs,
        training=TrainingSettings(
            max_epochs=max_epochs,
            patience=patience,
            lr_patience=lr_patience,
            lr_factor=lr_factor,
            ema_momentum=float(ema_momentum),
            predict=_one_of(training, "predict", PREDICTS, source),
            loss=_one_of(training, "loss", LOSSES, source),
        ),
    )
    for key, most in LIMITS.items():
        if min(space.params[key].values()) < 1:
            raise TunerError(f"{source}: params.{key}: values must be at least 1")
        if max(space.params[key].values()) > most:
            raise TunerError(f"{source}: params.{key}: values must be at most {most}")
    if min(space.params["learning_rate"].values()) <= 0:
        raise TunerError(f"{source}: params.learning_rate: values must be positive")
    return space


def _table(document: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = document.get(key)
    if not isinstance(value, dict):
        raise TunerError(f"{source}: [{key}]: missing or not a table")
    return value


def _param(name: str, raw: Any, where: str) -> ParamSpec:
    kind_of_value = PARAMS[name]
    if not isinstance(raw, dict):
        return ParamSpec(name, "fixed", choices=(_number(raw, kind_of_value, where),))
    kind = raw.get("type")
    allowed = {"int": {"type", "low", "high", "log"}, "float": {"type", "low", "high", "log"}}
    allowed["categorical"] = {"type", "choices"}
    if not isinstance(kind, str) or kind not in allowed:
        kinds = '"int", "float" or "categorical"'
        raise TunerError(f"{where}.type: must be {kinds}, got {shown(kind)}")
    extra = set(raw) - allowed[kind]
    if extra:
        raise TunerError(f"{where}.{_key(sorted(extra)[0])}: not a key of a {kind} parameter")
    if kind == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, list) or not choices:
            raise TunerError(f"{where}.choices: must be a non-empty list")
        values = tuple(_number(c, kind_of_value, f"{where}.choices") for c in choices)
        return ParamSpec(name, kind, choices=values)
    if kind == "int" and kind_of_value is float:
        raise TunerError(f"{where}.type: {name} is a float parameter, not int")
    if kind == "float" and kind_of_value is int:
        raise TunerError(f"{where}.type: {name} is an integer parameter, not float")
    number_type = int if kind == "int" else float
    if "low" not in raw or "high" not in raw:
        raise TunerError(f"{where}: needs both low and high")
    low = _number(raw["low"], number_type, f"{where}.low")
    high = _number(raw["high"], number_type, f"{where}.high")
    if low > high:
        raise TunerError(f"{where}: low ({low}) is greater than high ({high})")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise TunerError(f"{where}.log: must be true or false, got {shown(log)}")
    if log and low <= 0:
        raise TunerError(f"{where}.low: must be positive on a log scale, got {low}")
    return ParamSpec(name, kind, low=low, high=high, log=log)


def _number(value: Any, kind: type, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TunerError(f"{where}: expected a number, got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise TunerError(f"{where}: expected a finite number, got {shown(value)}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise TunerError(f"{where}: expected an integer, got {shown(value)}")
        return int(value)
    return float(value)


def _key(key: str) -> str:
    """A key of the user's file as a message names it: escaped and cut short."""
    return shown(key, quoted=False)


def _fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise TunerError(f"{where}: must be a number between 0 and 1, got {shown(value)}")
    return float(value)


def _one_of(table: dict[str, Any], key: str, choices: tuple[str, ...], source: str) -> str:
    value = table.get(key, getattr(TrainingSettings, key))
    if value not in choices:
        raise TunerError(
            f"{source}: training.{key}: must be one of {', '.join(choices)}, got {shown(value)}"
        )
    return value


def _positive_int(table: dict[str, Any], key: str, source: str) -> int:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TunerError(
            f"{source}: training.{key}: must be a positive integer, got {shown(value)}"
        )
    return value
