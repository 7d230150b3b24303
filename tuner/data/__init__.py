"""The data path, CSV to windows: `sources` -> `load` -> `grid` -> `split` ->
`preprocessing` (training rows only) -> `windows`, assembled by `prepared`.

Imports neither Optuna nor Keras.
"""
