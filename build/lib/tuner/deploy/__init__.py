"""After the search: `export` writes a `bundle`, `predict` reads it (without Optuna);
`report` and `dashboard` show what a study found.
"""
