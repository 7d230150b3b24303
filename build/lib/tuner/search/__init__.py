"""The search: `space` (TOML) -> `objective` (one trial) judged by `pruner`, run by `study`
over `workers`, kept in `storage` and `artifacts`; `attrs` names what they record.
"""
