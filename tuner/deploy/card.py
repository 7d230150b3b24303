"""The model card: a bundle's README.md, for whoever deploys the model without tuner.

Prose for people, from the bundle's metadata: export writes it beside the model, and
nothing in tuner reads it back.
"""

from __future__ import annotations

import textwrap

from tuner.data.grid import duration
from tuner.data.preprocessing import CALENDAR_FEATURES
from tuner.deploy.bundle import (
    METADATA_FILE,
    MODEL_FILE,
    ONNX_FILE,
    SAVED_MODEL_DIR,
    SAVED_MODEL_VERSION,
)
from tuner.deploy.card_scores import CARD_WIDTH, scores_section, span_of
from tuner.deploy.convert import ONNX_TOLERANCE
from tuner.deploy.manifest import MANIFEST_FILE
from tuner.deploy.metadata import BundleMetadata

CYCLE_WORDS = {"day": "the time of day", "week": "the day of week", "year": "the day of year"}


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
    if meta.members:
        summary = _ensemble_summary(meta, units)
    else:
        summary = _summary(meta, units, kept_epoch)
    return "\n".join(
        [
            f"# {meta.study}: {meta.describe()}\n",
            summary,
            scores_section(meta, units),
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
    text = f"""Forecasts `{meta.target}` {meta.reach()}, in {units}, from the raw
values of the previous {span_of(meta, meta.seq_len)}. One LSTM({hp.units}) and one
Dense({len(meta.steps)}), trained on the
{dataset["name"]} data (`{dataset["file"]}`, sha256 {dataset["sha256"][:12]}…) with Adam
(learning rate {hp.learning_rate:.3g}, batch {hp.batch_size}) on the {meta.backend} backend
for {_count(meta.epochs, "epoch")}{kept}."""
    return textwrap.fill(" ".join(text.split()), CARD_WIDTH) + "\n"


def _ensemble_summary(meta: BundleMetadata, units: str) -> str:
    dataset = meta.dataset
    trials = ", ".join(str(m.trial) for m in meta.members)
    n = len(meta.members)
    dense = f"Dense({len(meta.steps)})"
    which = f"the search's best configuration (trial {trials}), one LSTM and one {dense}"
    averaged = ""
    if n > 1:
        which = (
            f"the {n} best distinct configurations of the search (trials {trials}, best "
            f"first), each one LSTM and one {dense}"
        )
        averaged = """Each network reads the last rows of the window that its configuration
takes. Averaging configurations that one validation year cannot tell apart, each trained
with a year more, forecasts new data better than the single best trial's model: how that
was measured without reading the test rows is in tuner's repository, docs/design.md
("Decisions", "An ensemble of refits for the export")."""
    text = f"""Forecasts `{meta.target}` {meta.reach()}, in {units}, from the raw
values of the previous {span_of(meta, meta.seq_len)}. The model is {meta.model_words()}: {which},
trained again on the training and validation rows of the {dataset["name"]} data
(`{dataset["file"]}`, sha256 {dataset["sha256"][:12]}…) for the epochs, and at the
learning rates, that its trial kept, on the {meta.backend} backend. {averaged}
`tuner export --single` exports the best trial's own model instead."""
    rows = "\n".join(
        f"| {m.trial} | {m.hyperparameters.units} | {m.hyperparameters.seq_len} | "
        f"{m.hyperparameters.learning_rate:.3g} | {m.hyperparameters.batch_size} | {m.epochs} |"
        for m in meta.members
    )
    table = f"""| trial | units | seq_len | learning rate | batch | epochs |
| --- | --- | --- | --- | --- | --- |
{rows}
"""
    return textwrap.fill(" ".join(text.split()), CARD_WIDTH) + "\n\n" + table


def _input_output(meta: BundleMetadata, units: str) -> str:
    columns = ", ".join(f"`{name}`" for name in meta.features)
    return f"""## Input and output

The model is here in three formats, which take the same input and give the same output.

- In: float32 windows of shape `{_shape(meta)}`, each the raw values of
  {span_of(meta, meta.seq_len)} (a row every {duration(meta.step)}), oldest first, in these
  columns in this order: {columns}. A text column is one-hot (`column=value` is 1 in the
  rows of that value, one column per category of the training rows); {_calendar(meta)}.
  No value may be missing: tuner filled a gap with the last known value (a leading gap
  with the first). Give raw values: the scaling learnt from the training rows is inside
  the model.
- Out: {_output(meta, units)}

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


def _output(meta: BundleMetadata, units: str) -> str:
    """The output's shape and what each of its columns is."""
    if len(meta.steps) == 1:
        return (
            f"shape `(batch, 1)`, `{meta.target}` {span_of(meta, meta.horizon)} after each "
            f"window's last row, in {units}."
        )
    last = len(meta.steps) - 1
    return (
        f"shape `(batch, {len(meta.steps)})`, in {units}: column j (from 0) is "
        f"`{meta.target}` j + 1 steps of {duration(meta.step)} after each window's last row, "
        f"from column 0, {span_of(meta, meta.steps[0])} ahead, to column {last}, "
        f"{span_of(meta, meta.steps[last])} ahead."
    )


def _calendar(meta: BundleMetadata) -> str:
    terms = meta.preprocessing.calendar
    names = " and ".join(f"`{CALENDAR_FEATURES[t][0].split('_')[0]}_*`" for t in terms)
    cycles = " and ".join(CYCLE_WORDS[t] for t in terms)
    return f"{names} are the sine and cosine of {cycles}" if terms else "no calendar terms"


def _shape(meta: BundleMetadata) -> str:
    return f"(batch, {meta.seq_len}, {len(meta.features)})"


def _count(n: int | None, noun: str) -> str:
    if n is None:
        return f"an unrecorded number of {noun}s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
