"""The least share of a real search's time that any pruner judging at epoch 3 could leave.

Usage: python benchmarks/pruner_time_bound.py STORAGE_URL [--judged-at 3] [--top 5] [--json]

Read a study that `tuner run --pruner none` made, so that every trial ran to early
stopping, and replay its trials in the order the sampler proposed them. An online oracle
knows each trial's end once the trial starts, but not the trials still to come: it keeps a
trial to its end if the trial will be among the `--top` best so far (any of those may be
among the study's best, so a pruner that loses none of them must keep it) and stops every
other trial after `--judged-at` epochs. A trial's seconds are its time outside its epochs
(start, compilation of the model, saving) plus the seconds of the epochs it trains
(`epoch_seconds`). The sum over trials, against the study's own, is the least share of the
workers' time a pruner that judges at that epoch could leave; "every trial stopped" is the
floor of any pruner that judges there. The sampler would have proposed other trials after
a pruned one; the bound ignores that, as `epoch_bound.py` does on the curve banks.
"""

from __future__ import annotations

import argparse
import json

import optuna
from optuna.trial import TrialState

from tuner.search.attrs import EPOCH_SECONDS, REPLICATE_OF


def shares(trials: list[tuple[float, float, list[float]]], judged_at: int, top: int) -> dict:
    """Per trial (value, seconds in all, seconds per epoch), in proposal order: the online
    oracle's and every-trial-stopped's seconds, as shares of the trials' own."""
    spent = sum(total for _, total, _ in trials)
    oracle = stopped = 0.0
    seen: list[float] = []
    for value, total, epochs in trials:
        outside = total - sum(epochs)
        short = outside + sum(epochs[:judged_at])
        seen.append(value)
        kept = sorted(seen).index(value) < top
        oracle += total if kept else short
        stopped += short
    return {"oracle": oracle / spent, "all stopped": stopped / spent, "seconds": spent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storage")
    parser.add_argument("--judged-at", type=int, default=3)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=None, storage=args.storage)
    finished = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state == TrialState.COMPLETE and REPLICATE_OF not in t.user_attrs
    ]
    if any(t.state == TrialState.PRUNED for t in study.get_trials(deepcopy=False)):
        raise SystemExit("error: the study has pruned trials; run it with --pruner none")
    trials = [
        (
            t.value,
            (t.datetime_complete - t.datetime_start).total_seconds(),
            list(t.user_attrs[EPOCH_SECONDS]),
        )
        for t in sorted(finished, key=lambda t: t.number)
    ]
    result = shares(trials, args.judged_at, args.top)
    if args.json:
        print(json.dumps({"trials": len(trials), "judged_at": args.judged_at, **result}, indent=2))
        return
    print(
        f"{len(trials)} trials, {result['seconds']:.0f} worker-seconds; judged at epoch "
        f"{args.judged_at}: online oracle keeping the {args.top} best so far "
        f"{result['oracle']:.2f}, every trial stopped {result['all stopped']:.2f}"
    )


if __name__ == "__main__":
    main()
