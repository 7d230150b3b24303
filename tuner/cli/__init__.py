"""The `tuner` commands, one module each over the Python API; `dispatch` parses and runs them.

Bad input is a `TunerError`: one line on stderr, exit 2. `tuner bench …` is handed to the
measuring instruments (`tuner.bench.cli`), which the product itself never imports.
"""

from tuner.cli.dispatch import main

__all__ = ["main"]
