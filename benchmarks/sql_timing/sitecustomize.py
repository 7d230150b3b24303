"""Imported by every Python process started with this folder on PYTHONPATH, tuner's worker
processes included (they are spawned): when $TUNER_BENCH_SQL_LOG names a folder, each
statement SQLAlchemy sends is timed on the client and appended there, one file a process.
Used by benchmarks/many_machines.py; it changes nothing else.
"""

import os

if os.environ.get("TUNER_BENCH_SQL_LOG"):
    import time

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _log = open(  # noqa: SIM115 - open for the life of the process
        os.path.join(os.environ["TUNER_BENCH_SQL_LOG"], f"{os.getpid()}.tsv"), "a", buffering=1
    )

    @event.listens_for(Engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        conn.info["tuner_bench_t0"] = time.time()

    @event.listens_for(Engine, "after_cursor_execute")
    def _end(conn, cursor, statement, parameters, context, executemany):
        started = conn.info.pop("tuner_bench_t0", None)
        if started is not None:
            _log.write(f"{started:.6f}\t{time.time() - started:.6f}\n")
