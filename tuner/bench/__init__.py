"""The measuring instruments behind `tuner bench` and the result files in benchmarks/results/.

Nothing in the product imports them: `tuner.cli` hands `tuner bench …` to `bench.cli`.
"""
