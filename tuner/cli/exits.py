"""The exit codes of every command (README, "Exit codes"); bad input is `TunerError`'s 2."""

OK = 0
FAILED = 1  # the run was stopped, or a worker failed
INTERRUPTED = 130
BROKEN_PIPE = 141  # as a shell reports a process ended by SIGPIPE
