"""Any CSV file a user gives `tuner run`: prepared data, or one line of error."""

from hypothesis import HealthCheck, given, settings

from tests.fuzzing import csv_cases, one_line, parse_csv
from tuner.errors import TunerError


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(case=csv_cases())
def test_any_csv_is_prepared_or_refused_in_one_line(case):
    try:
        parse_csv(case)
    except TunerError as e:
        one_line(e)
