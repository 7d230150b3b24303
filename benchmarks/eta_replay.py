"""The time left that `tuner run` shows, replayed on finished studies against their real end.

Usage: python benchmarks/eta_replay.py STORAGE_URL [STORAGE_URL ...] [--trials 100]
       [--at 20,30,50]

For each study, the trials are taken in the order they finished, up to `--trials` (the
replicates that follow are left out). After the k-th, the estimate is what the progress
display computes (`tuner.search.progress.seconds_per_trial` times the trials left), with
the clock started when the first trial started (the run's own clock starts a few seconds
earlier, as its workers import Keras); the real time left is the `--trials`-th trial's end
less the k-th's. The run's mean pace alone (what tuner showed before) is printed beside it.
"""

from __future__ import annotations

import argparse

import optuna

from tuner.search.attrs import REPLICATE_OF
from tuner.search.cost import is_costly
from tuner.search.progress import FINISHED, seconds_per_trial


def replay(storage: str, trials: int, at: list[int]) -> str:
    study = optuna.load_study(study_name=None, storage=storage)
    finished = sorted(
        (
            t
            for t in study.get_trials(deepcopy=False, states=FINISHED)
            if REPLICATE_OF not in t.user_attrs
        ),
        key=lambda t: t.datetime_complete,
    )[:trials]
    if len(finished) < trials:
        return f"{storage}: {len(finished)} finished trials, fewer than {trials}"
    start = min(t.datetime_start for t in finished)
    end = finished[-1].datetime_complete
    cells = []
    for k in at:
        done = finished[:k]
        elapsed = (done[-1].datetime_complete - start).total_seconds()
        durations = [(t.datetime_complete - t.datetime_start).total_seconds() for t in done]
        costly = [is_costly(t) for t in done]
        left = (end - done[-1].datetime_complete).total_seconds()
        shown = seconds_per_trial(elapsed, durations, costly) * (trials - k)
        mean_pace = elapsed / k * (trials - k)
        cells.append(
            f"at {k}: {shown / 60:.1f} min shown, {left / 60:.1f} real, "
            f"{shown / left - 1:+.0%} (mean pace {mean_pace / left - 1:+.0%})"
        )
    return f"{storage}: end {(end - start).total_seconds() / 60:.1f} min; " + "; ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storages", nargs="+")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--at", default="20,30,50")
    args = parser.parse_args()
    at = [int(k) for k in args.at.split(",")]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for storage in args.storages:
        print(replay(storage, args.trials, at), flush=True)


if __name__ == "__main__":
    main()
