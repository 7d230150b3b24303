"""The one error type a user sees: one line, exit code 2, no traceback."""


class TunerError(Exception):
    """Bad input or an impossible request, said in one line: what and where.

    Anything else that escapes is a bug and keeps its traceback.
    """

    exit_code = 2


def shown(value: object, most: int = 60, *, quoted: bool = True) -> str:
    """`value` as a message quotes it: its repr, cut to about `most` characters.

    Names and values read from a file can be a megabyte long or hold a terminal's control
    sequences; repr escapes those, so that the message stays one printable line. Without
    `quoted`, a string's repr loses its quotes (a cut one keeps its "…").
    """
    text = repr(value)
    if not quoted and isinstance(value, str):
        text = text[1:-1]
    return text if len(text) <= most else f"{text[:most]}…"
