"""Fuzz the three parsers a user feeds tuner, for a number of minutes each.

Usage: python benchmarks/experiments/fuzz.py --minutes 3 [--parsers csv,space,metadata] [--seed 0]
       [--round 200]

The parsers are the CSV loader (through to prepared windows, as `tuner run --data` reads a
file), the search-space TOML (`--space FILE`, sampled once accepted) and a bundle's
`metadata.json` (as `tuner predict` reads it). Their inputs come from `tests/fuzzing.py`,
the generators the quick property tests use, run by Hypothesis in rounds of fresh seeds
until each parser's time is up. A failure is anything but a result or a one-line
`TunerError`, or an input that takes more than SLOW_SECONDS; failures are grouped by
exception and the place it was raised, with the shortest input seen for each. The peak
memory of the process is printed after each parser. The exit status is 1 when a failure was found.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/ of this checkout

from tests.deploy.test_bundle import META  # noqa: E402
from tests.fuzzing import (  # noqa: E402
    csv_cases,
    metadata_files,
    one_line,
    parse_bundle_metadata,
    parse_csv,
    parse_space,
    space_files,
)
from tuner.errors import TunerError  # noqa: E402

PARSERS: dict[str, tuple[st.SearchStrategy, Callable[[Any], Any]]] = {
    "csv": (csv_cases(), parse_csv),
    "space": (space_files, parse_space),
    "metadata": (metadata_files(META), parse_bundle_metadata),
}
ROUND = 200  # examples per Hypothesis run; each round has its own seed
SLOW_SECONDS = 5.0  # an input this slow to refuse is a failure too (inputs are small)


@dataclass
class Tally:
    """What one parser did with the examples it was given; a slow input counts as a failure
    besides its outcome."""

    tried: int = 0
    accepted: int = 0
    refused: int = 0
    failures: Counter = field(default_factory=Counter)
    shortest: dict[str, str] = field(default_factory=dict)

    def record(self, parse: Callable[[Any], Any], example: Any) -> None:
        started = time.monotonic()
        for failure in (self._outcome(parse, example), self._slow(started)):
            if failure is not None:
                self.failures[failure] += 1
                shown = repr(example)
                if failure not in self.shortest or len(shown) < len(self.shortest[failure]):
                    self.shortest[failure] = shown

    def _outcome(self, parse: Callable[[Any], Any], example: Any) -> str | None:
        self.tried += 1
        try:
            parse(example)
        except TunerError as e:
            try:
                one_line(e)
            except AssertionError as not_one_line:
                return f"TunerError not one short printable line: {not_one_line}"[:120]
            self.refused += 1
            return None
        except Exception as e:  # a failure is what this counts
            return f"{type(e).__name__} at {_where(e)}: {str(e)[:80]!r}"
        self.accepted += 1
        return None

    @staticmethod
    def _slow(started: float) -> str | None:
        if time.monotonic() - started > SLOW_SECONDS:
            return f"an input that took more than {SLOW_SECONDS} s"
        return None


def _where(error: BaseException) -> str:
    """The innermost frame in tuner's or the tests' own code: where the failure shows."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/tuner/" in f.filename or "/tests/" in f.filename] or frames
    frame = ours[-1]
    return f"{Path(frame.filename).name}:{frame.lineno}"


def fuzz(
    name: str, seconds: float, first_seed: int, round_size: int = ROUND
) -> tuple[Tally, float]:
    strategy, parse = PARSERS[name]
    tally = Tally()
    started = time.monotonic()
    deadline = started + seconds
    round_seed = first_seed
    while time.monotonic() < deadline:

        @seed(round_seed)
        @settings(
            max_examples=round_size,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def one_round(example: Any) -> None:
            if time.monotonic() < deadline:
                tally.record(parse, example)

        one_round()
        round_seed += 1
    return tally, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="per parser (default: 3)")
    parser.add_argument("--parsers", default=",".join(PARSERS), help="(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="of the first round (default: 0)")
    parser.add_argument("--round", type=int, default=ROUND, help="examples a round (%(default)s)")
    args = parser.parse_args()
    names = args.parsers.split(",")
    unknown = [n for n in names if n not in PARSERS]
    if unknown or args.minutes <= 0:
        parser.error(f"unknown parser {unknown[0]!r}" if unknown else "--minutes must be > 0")
    failed = False
    for name in names:
        tally, elapsed = fuzz(name, args.minutes * 60, args.seed, args.round)
        print(
            f"{name}: {tally.tried} examples in {elapsed:.0f} s ({tally.tried / elapsed:.1f}/s): "
            f"{tally.accepted} accepted, {tally.refused} refused in one line, "
            f"{sum(tally.failures.values())} failures of {len(tally.failures)} kinds; "
            f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10} MiB",
            flush=True,
        )
        for key, count in tally.failures.most_common():
            print(f"  {count} × {key}\n    shortest: {tally.shortest[key][:300]}")
        failed |= bool(tally.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
