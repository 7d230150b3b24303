"""After the search: `export` writes a bundle, `predict` reads it (without Optuna).

Export's steps: `members` chooses the trials, `refits` trains them again, `scores` reads
the test split once, `writing` writes the files and `publish` swaps them into place.
`bundle` names the bundle's files and reads it; `metadata` is its `metadata.json`,
`manifest` its checksums and the checks of its files, `card` its README and `convert` its
SavedModel and ONNX copies.
"""
