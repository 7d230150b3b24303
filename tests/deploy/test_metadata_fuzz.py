"""Any `metadata.json` in a bundle: metadata that round-trips, or one line of error."""

from hypothesis import HealthCheck, given, settings

from tests.deploy.test_bundle import META
from tests.fuzzing import metadata_files, one_line, parse_bundle_metadata
from tuner.errors import TunerError


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=metadata_files(META))
def test_any_metadata_is_read_or_refused_in_one_line(data):
    try:
        parse_bundle_metadata(data)
    except TunerError as e:
        one_line(e)
