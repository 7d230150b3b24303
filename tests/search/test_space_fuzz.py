"""Any TOML file given as `--space`: a space that samples, or one line of error."""

from hypothesis import HealthCheck, given, settings

from tests.fuzzing import one_line, parse_space, space_files
from tuner.errors import TunerError


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=space_files)
def test_any_space_file_samples_or_is_refused_in_one_line(text):
    try:
        parse_space(text)
    except TunerError as e:
        one_line(e)
