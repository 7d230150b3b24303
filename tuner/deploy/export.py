"""Best trial -> a deployable bundle (`bundle.py`); the only reader of the test split.

The bundle is written in a hidden folder beside `out` and swapped into place at once
(`publish.py`), so that a failed export leaves the previous bundle as it was and a reader
never finds a half-written one. Besides `model.keras`, the bundle holds the same
model as a SavedModel and as ONNX (`convert`), the ONNX one checked against the Keras one
on the test windows before anything is published.
"""

from __future__ import annotations

import math
import platform
import shutil
import textwrap
from importlib import metadata as importlib_metadata
from pathlib import Path

import keras
import numpy as np
import optuna
from optuna.trial import TrialState

from tuner.data.prepared import PreparedData, prepare
from tuner.data.sources import DataSpec, relocate, target_unit
from tuner.data.windows import Windows
from tuner.deploy.bundle import (
    CARD_FILE,
    METADATA_FILE,
    MODEL_FILE,
    ONNX_FILE,
    SAVED_MODEL_DIR,
    SAVED_MODEL_VERSION,
)
from tuner.deploy.convert import check_installed, onnx_disagreement, write_formats
from tuner.deploy.manifest import MANIFEST_FILE
from tuner.deploy.metadata import BundleMetadata
from tuner.deploy.publish import publish, staging_folder
from tuner.errors import TunerError
from tuner.model.network import for_deployment
from tuner.model.params import ModelParams
from tuner.search import attrs
from tuner.search.artifacts import load_model, open_store

# ONNX Runtime's forecasts must be within this of the Keras model's, relative to the
# forecast, plus the same fraction of the target's standard deviation (float32 rounding,
# which the model's last layer scales by it).
ONNX_TOLERANCE = 1e-4
CARD_WIDTH = 90  # the model card's prose, in characters per line
# Recorded in the metadata: what wrote each format.
VERSIONED = ("tuner", "keras", "tensorflow", "jax", "tf2onnx", "onnx", "onnxruntime", "optuna")
VERSIONED += ("numpy", "pandas")


def export_best(study: optuna.Study, artifacts: Path | None, out: Path) -> BundleMetadata:
    """Write the best trial's bundle to `out` and return its metadata.

    Args:
        study: a study made by `tuner run` (its data and best model are found through it).
        artifacts: the folder of the artifact store the study's models were saved in.
        out: the bundle folder; an earlier bundle there is replaced.
    """
    out = Path(out)
    _check_replaceable(out)
    check_installed()
    trial = _best_trial(study)
    if artifacts is None:
        raise TunerError(f"study '{study.study_name}': no artifact store found; give --artifacts")
    store = open_store(artifacts, create=False)
    spec = relocate(DataSpec(**study.user_attrs[attrs.DATA]))
    params = ModelParams(**trial.user_attrs[attrs.MODEL_PARAMS])
    data = prepare(spec, with_test=True)
    model = for_deployment(load_model(store, trial.user_attrs[attrs.ARTIFACT_ID]), data.prep)

    windows = {part: data.raw_windows(part, params.seq_len) for part in ("val", "test")}
    forecasts = {part: _forecast(model, w.x) for part, w in windows.items()}
    scores = {part: _score(data, part, windows[part], forecasts[part]) for part in windows}
    meta = BundleMetadata(
        target=spec.target,
        horizon=spec.horizon,
        seq_len=params.seq_len,
        time_col=spec.time_col,
        features=data.prep.features,
        preprocessing=data.prep,
        hyperparameters=params,
        dataset={"name": spec.name, "file": Path(spec.path).name, "sha256": spec.sha256},
        split={"val_start": str(data.split.val_start), "test_start": str(data.split.test_start)},
        epochs=trial.user_attrs.get(attrs.EPOCHS),
        val_rmse=scores["val"]["rmse"],
        search_val_rmse=trial.value,
        test_rmse=scores["test"]["rmse"],
        persistence_val_rmse=study.user_attrs.get(attrs.BASELINE_VAL_RMSE),
        persistence_test_rmse=scores["test"]["persistence_rmse"],
        test_windows=int(scores["test"]["windows"]),
        study=study.study_name,
        trial=trial.number,
        backend=keras.backend.backend(),
        versions=_versions(),
    )

    try:
        staging = staging_folder(out)
    except OSError as e:
        raise TunerError(f"{out}: cannot write the bundle here: {e.strerror}") from e
    try:
        _write_models(model, staging, windows["test"].x, forecasts["test"], data.target_std)
        (staging / METADATA_FILE).write_text(meta.to_json())
        card = model_card(meta, unit=target_unit(spec), kept_epoch=_kept_epoch(trial))
        (staging / CARD_FILE).write_text(card)
        publish(staging, out)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise TunerError(f"{out}: cannot write the bundle: {e.strerror}") from e
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta


def _write_models(
    model: keras.Model, folder: Path, x: np.ndarray, forecasts: np.ndarray, target_std: float
) -> None:
    """`model.keras`, then the SavedModel and ONNX from it; ONNX must forecast `x` as Keras did."""
    model.save(folder / MODEL_FILE)
    saved_model = folder / SAVED_MODEL_DIR / SAVED_MODEL_VERSION
    write_formats(folder / MODEL_FILE, saved_model, folder / ONNX_FILE)
    tolerance = {"rtol": ONNX_TOLERANCE, "atol": ONNX_TOLERANCE * target_std}
    differs = onnx_disagreement(folder / ONNX_FILE, x, forecasts, **tolerance)
    if differs:
        raise RuntimeError(f"{ONNX_FILE} does not forecast as {MODEL_FILE} does: {differs}")


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise TunerError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / METADATA_FILE).is_file():
        raise TunerError(f"{out}: a non-empty folder that is not an export; will not replace it")


def _best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TunerError(f"study '{study.study_name}' has no completed trial to export")
    trial = min(complete, key=lambda t: t.value)
    if attrs.ARTIFACT_ID not in trial.user_attrs:
        raise TunerError(f"trial {trial.number} of '{study.study_name}' has no saved model")
    return trial


def _kept_epoch(trial: optuna.trial.FrozenTrial) -> int | None:
    """The epoch (from 1) whose weights the model has: early stopping restores the first
    epoch of lowest validation loss, which is the trial's lowest reported RMSE."""
    reported = sorted(trial.intermediate_values.items())
    if not reported:
        return None
    return min(reported, key=lambda step_value: step_value[1])[0] + 1


def _forecast(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return model.predict(x, batch_size=1024, verbose=0).reshape(-1)


def _score(
    data: PreparedData, part: str, windows: Windows, predicted: np.ndarray
) -> dict[str, float]:
    actual = data.to_target_units(windows.y)
    return {
        "rmse": math.sqrt(float(np.mean((predicted - actual) ** 2))),
        "persistence_rmse": data.persistence_rmse(part),
        "windows": len(windows),
    }


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def model_card(
    meta: BundleMetadata, *, unit: str | None = None, kept_epoch: int | None = None
) -> str:
    """The bundle's README.md, for whoever deploys the model without tuner.

    Args:
        meta: the bundle's metadata.
        unit: the target's unit when known (`target_unit`); else the card says "the
            target's own units", naming the target.
        kept_epoch: the epoch (from 1) whose weights the model has, when known.
    """
    units = unit or f"`{meta.target}`'s own units"
    return "\n".join(
        [
            f"# {meta.study}, trial {meta.trial}\n",
            _summary(meta, units, kept_epoch),
            _scores(meta, units),
            _input_output(meta, units),
            _loading(meta),
            _checksums(),
        ]
    )


def _summary(meta: BundleMetadata, units: str, kept_epoch: int | None) -> str:
    hp, dataset = meta.hyperparameters, meta.dataset
    kept = ""
    if kept_epoch:
        kept = f"; the weights are those of epoch {kept_epoch}, whose validation RMSE was lowest"
    text = f"""Forecasts `{meta.target}` {_hours(meta.horizon)} ahead, in {units}, from the raw
values of the previous {_hours(meta.seq_len)}. One LSTM({hp.units}) and one Dense(1), trained on the
{dataset["name"]} data (`{dataset["file"]}`, sha256 {dataset["sha256"][:12]}…) with Adam
(learning rate {hp.learning_rate:.3g}, batch {hp.batch_size}) on the {meta.backend} backend
for {_count(meta.epochs, "epoch")}{kept}."""
    return textwrap.fill(" ".join(text.split()), CARD_WIDTH) + "\n"


def _scores(meta: BundleMetadata, units: str) -> str:
    val, test = meta.split["val_start"][:10], meta.split["test_start"][:10]
    return f"""| split | RMSE, in {units} | persistence RMSE |
| --- | --- | --- |
| validation (from {val}) | {meta.val_rmse:.3f} | {_number(meta.persistence_val_rmse)} |
| test (from {test}, scored once, at export) | {meta.test_rmse:.3f} | \
{meta.persistence_test_rmse:.3f} |

Persistence forecasts that `{meta.target}` {_hours(meta.horizon)} later is what it is now:
the baseline to beat.
"""


def _input_output(meta: BundleMetadata, units: str) -> str:
    columns = ", ".join(f"`{name}`" for name in meta.features)
    return f"""## Input and output

The model is here in three formats, which take the same input and give the same output.

- In: float32 windows of shape `{_shape(meta)}`, each the raw values of
  {_hours(meta.seq_len)} in a row, oldest first, in these columns in this order: {columns}.
  A text column is one-hot (`column=value` is 1 in the hours of that value, one column per
  category of the training rows); `hour_*` and `doy_*` are the sine and cosine of the hour
  of day and the day of year. No value may be missing: tuner filled a gap with the last
  known value (a leading gap with the first). Give raw values: the scaling learnt from the
  training rows is inside the model.
- Out: shape `(batch, 1)`, `{meta.target}` {_hours(meta.horizon)} after each window's last
  hour, in {units}.

`tuner predict --model DIR --data new.csv` builds these windows from a CSV with the same
columns and writes the forecasts. `{METADATA_FILE}` holds the columns, the categories, the
scaling statistics and the scores above as data.
"""


def _loading(meta: BundleMetadata) -> str:
    windows = f"np.zeros({_shape(meta).replace('batch', '1')}, dtype=np.float32)"
    saved_model = f"{SAVED_MODEL_DIR}/{SAVED_MODEL_VERSION}"
    return f"""## Loading it

Keras 3, on any backend:

```python
import keras
import numpy as np

model = keras.saving.load_model("{MODEL_FILE}")
forecast = model.predict({windows})
```

TensorFlow, from the SavedModel (signatures `serve` and `serving_default`):

```python
import numpy as np
import tensorflow as tf

model = tf.saved_model.load("{saved_model}")
forecast = model.serve({windows}).numpy()
```

TensorFlow Serving reads `{SAVED_MODEL_DIR}/` as the model's base path, whose version
`{SAVED_MODEL_VERSION}/` it serves; `POST /v1/models/forecaster:predict` with
`{{"instances": [window, ...]}}` then answers with the forecasts:

```
tensorflow_model_server --rest_api_port=8501 --model_name=forecaster \\
  --model_base_path="$PWD/{SAVED_MODEL_DIR}"
```

ONNX Runtime, with neither TensorFlow nor Keras installed:

```python
import numpy as np
import onnxruntime

session = onnxruntime.InferenceSession("{ONNX_FILE}")
forecast = session.run(None, {{"features": {windows}}})[0]
```

At export, the ONNX model's forecast of every test window was checked against that of
`{MODEL_FILE}`: they agree within {ONNX_TOLERANCE:g} relative.
"""


def _checksums() -> str:
    return f"""## Checksums

`{MANIFEST_FILE}` holds the sha256 of every other file in this folder: `{MODEL_FILE}`,
`{ONNX_FILE}`, each file under `{SAVED_MODEL_DIR}/`, `{METADATA_FILE}` and this README.
`sha256sum -c {MANIFEST_FILE}` in the folder checks them, and `tuner predict` refuses a
bundle with a file missing, changed or added since export. The sha256 above is the
training data's.
"""


def _shape(meta: BundleMetadata) -> str:
    return f"(batch, {meta.seq_len}, {len(meta.features)})"


def _hours(n: int) -> str:
    return _count(n, "hour")


def _count(n: int | None, noun: str) -> str:
    if n is None:
        return f"an unrecorded number of {noun}s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
