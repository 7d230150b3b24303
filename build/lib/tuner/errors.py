"""The one error type a user sees: one line, exit code 2, no traceback."""


class TunerError(Exception):
    """Bad input or an impossible request, said in one line: what and where.

    Anything else that escapes is a bug and keeps its traceback.
    """

    exit_code = 2
