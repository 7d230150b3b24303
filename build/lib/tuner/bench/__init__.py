"""The measuring instruments behind `tuner bench` and benchmarks/README.md.

Nothing in the product imports them: `tuner.cli` hands `tuner bench …` to `bench.cli`.
"""
