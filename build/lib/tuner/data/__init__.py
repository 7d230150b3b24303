"""The data path, CSV to windows: `sources` -> `load` -> `hourly` -> `split` ->
`preprocessing` (training rows only) -> `windows`, assembled by `prepared`.

Imports neither Optuna nor Keras.
"""
