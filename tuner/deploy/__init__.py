"""After the search: `export` writes a bundle, `predict` reads it (without Optuna).

`bundle` names the bundle's files and reads it; `metadata` is its `metadata.json`,
`manifest` its checksums and the checks of its files, `publish` its swap into place,
`card` its README and `convert` its SavedModel and ONNX copies.
"""
