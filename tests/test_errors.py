"""How a message quotes what it read from a file."""

from tuner.errors import shown


def test_a_value_is_escaped_and_cut():
    assert shown("a\x1b[31mb") == "'a\\x1b[31mb'"
    assert shown("x" * 100, most=10) == "'xxxxxxxxx…"


def test_without_quotes_a_cut_value_still_says_it_was_cut():
    assert shown("pm2.5, TEMP", quoted=False) == "pm2.5, TEMP"
    assert shown("x" * 100, most=10, quoted=False) == "xxxxxxxxxx…"
    assert shown(7, quoted=False) == "7"
