"""benchmarks/README.md and the project README's "Results", written from the result files.

Usage: python benchmarks/make_readme.py [--check]

Every figure of both comes from `benchmarks/results/` (benchmarks/record.py); nothing here
holds a figure. `--check` writes nothing and exits 1 when either file is not what this
script makes of the result files (tests/bench/test_readmes.py runs it).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402

ROOT = record.ROOT
README = ROOT / "benchmarks" / "README.md"
PROJECT = ROOT / "README.md"
BEGIN = "<!-- made by benchmarks/make_readme.py from benchmarks/results/: edit those, not this -->"
END = "<!-- end of what benchmarks/make_readme.py made -->"
HISTORY = "992a9fa"
PEER_TIMES = (150, 300, 600, 1500)
# The last change to what a trained model is (`tuner/model/network.py`): the project README
# marks every figure measured before it.
MODEL_CHANGE = ("009a635", "2026-12-07T21:46:59+00:00")
BEFORE = "†"


def load(headline: str) -> dict[str, dict]:
    """A headline's result files by stem (`beijing-default-seed0`)."""
    return {path.stem: doc for path, doc in record.results(headline)}


def link(headline: str, stem: str) -> str:
    return f"[{stem}](results/{headline}/{stem}.json)"


def commit(doc: dict) -> str:
    """The code a figure was measured at, and whether its header was written at run time."""
    prov = doc["provenance"]
    notes = [
        "transcribed"
        if prov.get("transcribed")
        else "reconstructed"
        if prov["reconstructed"]
        else "",
        "changed" if prov["clean"] is False else "",
    ]
    notes = [n for n in notes if n]
    return f"`{prov['commit'].split()[0][:7]}`" + (f" ({', '.join(notes)})" if notes else "")


def command(doc: dict) -> str:
    return "`" + doc["provenance"]["command"].replace("|", "\\|") + "`"


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60)} s"


def seeds_of(docs: dict[str, dict], prefix: str) -> list[tuple[str, dict]]:
    return [(stem, doc) for stem, doc in docs.items() if stem.startswith(prefix + "-seed")]


def boosting(forecast: dict[str, dict], dataset: str) -> tuple[float, float]:
    """Gradient boosting's test RMSE as `tuner run` fits it (seed 0), and persistence's."""
    result = forecast[f"{dataset}-boosting"]["result"]
    seed0 = next(row for row in result["seeds"] if row["seed"] == 0)
    return seed0["test_rmse"], result["persistence_test_rmse"]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def file_row(headline: str, stem: str, doc: dict, cells: list[str]) -> list[str]:
    """A result file's row: its link, `cells`, then its code and its command."""
    return [link(headline, stem), *cells, commit(doc), command(doc)]


def file_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A table of `file_row`s: `header` names the cells between the link and the code."""
    return table([*header, "code", "command"], rows)


def speed_section(speed: dict[str, dict]) -> list[str]:
    rows = []
    for prefix in (
        "beijing-default",
        "beijing-ignore-cost",
        "aotizhongxin-default",
        "changping-default",
    ):
        for stem, doc in seeds_of(speed, prefix):
            r = doc["result"]
            cells = [
                minutes(r["wall_seconds"]),
                f"{r['complete']} / {r['pruned']}",
                f"{r['best_val_rmse']:.3f}",
                f"{r['noise_floor']:.3f}" if "noise_floor" in r else "—",
            ]
            rows.append(file_row("speed", stem, doc, cells))
    head = ["run", "wall time", "complete / pruned", "best validation", "noise floor"]
    return [
        "## Speed: `tuner run --trials 100`",
        "",
        "Each run in an empty folder with an empty JAX cache, on the idle 2-core machine, one",
        "after the other; the wall time includes the three replicates after the 100 trials.",
        "`ignore-cost` is the search before the cost rule, sampling as `--ignore-cost` does.",
        "",
        *file_table(head, rows),
    ]


def forecast_section(forecast: dict[str, dict]) -> list[str]:
    rows = []
    for dataset in ("beijing", "aotizhongxin", "changping"):
        gb, persistence = boosting(forecast, dataset)
        for variant in ("default", "ignore-cost", "4trials"):
            for stem, doc in seeds_of(forecast, f"{dataset}-{variant}"):
                r = doc["result"]
                cells = [
                    str(r["trials"]),
                    f"{r['export_test_rmse']:.3f}",
                    f"{r['single_test_rmse']:.3f}" if "single_test_rmse" in r else "—",
                    f"{gb:.3f}",
                    f"{persistence:.3f}",
                ]
                rows.append(file_row("forecast", stem, doc, cells))
    boost = []
    for dataset in ("beijing", "aotizhongxin", "changping"):
        stem = f"{dataset}-boosting"
        doc = forecast[stem]
        seeds = doc["result"]["seeds"]
        cells = [
            ", ".join(str(s["seed"]) for s in seeds),
            ", ".join(f"{s['val_rmse']:.3f}" for s in seeds),
            ", ".join(f"{s['test_rmse']:.3f}" for s in seeds),
            f"{doc['result']['persistence_test_rmse']:.3f}",
        ]
        boost.append(file_row("forecast", stem, doc, cells))
    choice = []
    for stem, doc in seeds_of(forecast, "beijing2013-choice"):
        keys = ("saved_best_trial_rmse", "best5_refitted_rmse", "boosting_rmse", "persistence_rmse")
        choice.append(file_row("forecast", stem, doc, [f"{doc['result'][k]:.3f}" for k in keys]))
    head = ["study", "trials", "default export", "`--single`", "gradient boosting", "persistence"]
    return [
        "## Forecast: the exported model on data the search never chose on",
        "",
        "Test RMSE in the target's unit (µg/m³): Beijing's 2014, the stations' last 15%. The",
        "default export is the mean of the five best configurations refitted on training +",
        "validation; `--single` is the best trial's own model (`tuner export --single`).",
        "Gradient boosting is the baseline `tuner run` fits (seed 0), refitted by `tuner export`.",
        "",
        *file_table(head, rows),
        "",
        "The gradient-boosting baseline itself, by seed (validation; test):",
        "",
        *file_table(["file", "seeds", "validation", "test", "persistence"], boost),
        "",
        "How the default export was chosen, without reading 2014: the file cut after 2013,",
        "searched on 2010-2012 and every candidate scored on 2013.",
        "",
        *file_table(
            ["search", "best trial's model", "best 5 refitted", "gradient boosting", "persistence"],
            choice,
        ),
    ]


STEPS = "24steps"


def steps_rows(forecast: dict[str, dict]) -> list[tuple[str, str, dict]]:
    """(dataset, stem, result) of every run forecasting each step from 1 to 24."""
    return [
        (dataset, stem, doc)
        for dataset in ("beijing", "aotizhongxin", "changping")
        for stem, doc in seeds_of(forecast, f"{dataset}-{STEPS}")
    ]


def steps_cell(steps: list[tuple[str, str, dict]]) -> str:
    """Each dataset's exports by seed, then its baselines (the same windows for every seed)."""
    parts = []
    for dataset in dict.fromkeys(d for d, _, _ in steps):
        runs = [(stem, doc) for d, stem, doc in steps if d == dataset]
        seeds = [stem.rsplit("seed", 1)[1] for stem, _ in runs]
        exports = _figures(
            [doc["result"]["export_test_rmse"] for _, doc in runs],
            [before_model(doc) for _, doc in runs],
        )
        base = runs[0][1]["result"]["baselines_test"]
        baselines = "; ".join(
            f"{base[b]['rmse']:.3f}" for b in ("persistence", "seasonal", "boosting")
        )
        parts.append(
            f"{dataset.capitalize()} seeds {seeds[0]}-{seeds[-1]}: {exports} ({baselines})"
        )
    return "; ".join(parts)


def steps_won(result: dict, baseline: str) -> str:
    """The steps at which the export scored below `baseline`, as `k of H`."""
    theirs = result["baselines_test"][baseline]["by_step"]
    ours = result["export_test_rmse_by_step"]
    return f"{sum(a < b for a, b in zip(ours, theirs, strict=True))} of {len(ours)}"


def steps_section(forecast: dict[str, dict]) -> list[str]:
    rows = []
    for _, stem, doc in steps_rows(forecast):
        r, base = doc["result"], doc["result"]["baselines_test"]
        gap = r["export_test_rmse"] / base["boosting"]["rmse"] - 1
        cells = [
            f"{r['export_test_rmse']:.3f}",
            f"{base['persistence']['rmse']:.3f} ({steps_won(r, 'persistence')})",
            f"{base['seasonal']['rmse']:.3f} ({steps_won(r, 'seasonal')})",
            f"{base['boosting']['rmse']:.3f} ({gap:+.1%})",
            f"{r['export_test_rmse_by_step'][0]:.3f}, {r['export_test_rmse_by_step'][-1]:.3f}",
        ]
        rows.append(file_row("forecast", stem, doc, cells))
    head = [
        "run",
        "export, all steps",
        "persistence (steps the export beat)",
        "seasonal naive (steps beaten)",
        "gradient boosting (export's gap)",
        "export at steps 1, 24",
    ]
    return [
        "## Every hour of the next day: one model of 24 outputs",
        "",
        "`tuner run --horizon 24 --every-step --trials 100`, then `tuner export`: test RMSE over",
        "every step and forecast origin, in µg/m³, beside each baseline scored on the same",
        "origins (direct gradient boosting: one booster per step).",
        "",
        *file_table(head, rows),
    ]


UNSEEN = "-unseen-seed"


def unseen_section(forecast: dict[str, dict]) -> list[str]:
    rows = []
    for stem, doc in forecast.items():
        if UNSEEN not in stem:
            continue
        r = doc["result"]
        export, before = r["export"], r["against"]
        persistence, boost = export["persistence_test_rmse"], export["boosting_test_rmse"]
        cells = [
            f"{export['station']} {export['target']}",
            str(r["budget"]) if isinstance(r["budget"], str) else f"{r['budget']} s",
            f"{export['test_rmse']:.4g}",
            f"{persistence:.4g} ({export['test_rmse'] / persistence - 1:+.1%})",
            f"{boost:.4g} ({export['test_rmse'] / boost - 1:+.1%})",
            f"{before['test_rmse']:.4g} ({before['test_rmse'] / boost - 1:+.1%}) "
            f"at `{before['revision']}`"
            if before
            else "—",
        ]
        rows.append(file_row("forecast", stem, doc, cells))
    head = [
        "run",
        "series and target",
        "budget",
        "default export",
        "persistence (export's gap)",
        "gradient boosting (export's gap)",
        "export before (its gap to boosting)",
    ]
    return [
        "## Series nothing was tuned on",
        "",
        "`tuner run` then `tuner export` on targets and steps nothing in tuner was chosen on:",
        "the stations' hourly temperature (TEMP, °C), pressure (PRES, hPa), dew point (DEWP,",
        "°C), wind speed (WSPM, m/s) and SO2 (µg/m³), and the daily and 15-minute series",
        "`series.py` makes; test RMSE in the target's unit, beside persistence and gradient",
        "boosting on the same windows, and, where a run has one, the same run and export by",
        "the revision before the last change to the model (WSPM and SO2 came after it).",
        "",
        *file_table(head, rows),
    ]


def pruner_section(pruner: dict[str, dict]) -> list[str]:
    pairs = []
    for stem, doc in seeds_of(pruner, "beijing-pair"):
        r = doc["result"]
        cells = [
            f"{r['default']['seconds_to_100th']} s ({r['default']['pruned']} pruned)",
            f"{r['none']['seconds_to_100th']} s",
            f"{r['time_ratio']:.2f}",
            f"{r['oracle_share']:.2f}",
            f"{r['all_stopped_share']:.2f}",
        ]
        pairs.append(file_row("pruner", stem, doc, cells))
    oracle = pruner["banks-oracle"]
    banks = []
    for bank, shares in oracle["result"]["banks"].items():
        name, seed = bank.removesuffix(".jsonl").rsplit("-seed", 1)
        replay_stem = f"{name}-replay-seed{seed}"
        replay = {row["pruner"]: row for row in pruner[replay_stem]["result"]}
        ours, median = replay["NoiseAwarePruner()"], replay["Median"]
        online = [v for k, v in shares.items() if k.startswith("online")]
        banks.append(
            [
                f"[{bank}](banks/{bank})",
                f"{ours['epochs_share']:.0%} ({ours['top_pruned']:.2f})",
                f"{median['epochs_share']:.0%} ({median['top_pruned']:.2f})",
                " / ".join(f"{v:.0%}" for v in online),
                f"{shares['the 5 best kept']:.0%}",
                link("pruner", replay_stem) + ", " + link("pruner", "banks-oracle"),
                commit(oracle),
            ]
        )
    return [
        "## The pruner against its oracle bound",
        "",
        "In a real search: seconds to the 100th trial with the default pruner and with",
        "`--pruner none`, and the least share of the `none` run's time an online oracle that",
        "knows each trial's end from epoch 3 (keeping every trial among the five best so far)",
        "would leave (`pruner_time_bound.py`); stopping every trial at epoch 3 leaves the last.",
        "",
        *file_table(["pair", "default", "none", "ratio", "oracle", "all stopped"], pairs),
        "",
        "On curve banks (40 curves of 20 epochs, 20 replay orders): epochs spent as a share of",
        "early stopping's alone, with the bank's five best curves pruned per order in brackets,",
        "against the online oracle (none of the five lost / none lost and every curve within",
        "1% of the best so far kept, the pruner's own rule with foresight / 0.1 lost per order)",
        "and the one that knows the five best in hindsight (`epoch_bound.py`). `plateau` is the",
        "bank the pruner was tuned on; `change-huber` was held out, made before the model read",
        "the change in its own units; `scaled-change` is today's model, on Beijing and on a",
        "station nothing was tuned on. Commands:",
        f"{command(pruner['beijing-scaled-change-replay-seed0'])} (each bank) and "
        f"{command(oracle)}.",
        "",
        *table(
            ["bank", "NoiseAwarePruner", "Median", "online oracle", "hindsight", "files", "code"],
            banks,
        ),
    ]


def peer_runs(peers: dict[str, dict]) -> dict[str, object]:
    """Each peers file's run (`tuner.bench.engines.EngineRun`), by stem."""
    from tuner.bench.engines import from_json

    return {stem: from_json(json.dumps(doc))[0][0] for stem, doc in peers.items()}


def best_at(run, seconds: float) -> float | None:
    return run.best_at(seconds) if seconds <= run.budget else None


def peers_section(peers: dict[str, dict]) -> list[str]:
    rows = []
    for stem, run in peer_runs(peers).items():
        cells = [f"{b:.3f}" if (b := best_at(run, t)) is not None else "" for t in PEER_TIMES]
        rows.append(file_row("peers", stem, peers[stem], [*cells, str(len(run.events))]))
    return [
        "## Peers: KerasTuner Hyperband and plain Optuna on tuner's recipe",
        "",
        "Best validation RMSE on Beijing's 2013 at 2.5, 5, 10 and 25 minutes, each engine held to",
        "one core (`tuner run` then starts one worker), every engine training by tuner's recipe.",
        "",
        *file_table(["run", "2.5 min", "5 min", "10 min", "25 min", "trials"], rows),
    ]


def machines_section(machines: dict[str, dict]) -> list[str]:
    rows = []
    for stem, doc in machines.items():
        r = doc["result"]
        for part in sorted(k for k in r if k.startswith(("first_", "last_"))):
            p = r[part]
            cells = [
                part.replace("_", " "),
                f"{p['db_seconds_per_trial']:.2f} s",
                f"{p['statements_per_trial']:.0f}",
                f"{p['median_statement_ms']:.2f} ms",
                f"{p['p95_statement_ms']:.1f} ms",
            ]
            rows.append(file_row("machines", stem, doc, cells))
        states = ", ".join(f"{n} {state}" for state, n in r["states"].items())
        summary = (
            f"{r['machines']} processes, {r['asked']} asked: {states}; "
            f"numbers unique {r['numbers_unique_and_contiguous']}; {r['seconds']:.0f} s"
        )
        rows.append(file_row("machines", stem, doc, [summary, "", "", "", ""]))
    return [
        "## Many machines: one PostgreSQL study",
        "",
        "`tuner run --jobs 1` processes started at once on one study, 1-epoch trials of the",
        "tests' fast space, every SQL statement timed on the client (`sql_timing/`).",
        "",
        *file_table(
            [
                "run",
                "trials to finish",
                "database s per trial",
                "statements per trial",
                "median statement",
                "95th percentile",
            ],
            rows,
        ),
    ]


INTRO = f"""# benchmarks/

tuner's current figures, one table per headline, each row linked to its result file and
the command that reproduces it. Everything here is made by `python benchmarks/make_readme.py`
from `results/`; edit the result files, never this file. Measurements that are no longer
current, and the experiments whose conclusion is settled, are in git: this folder and its
2,202-line log as they stood at `{HISTORY}`
(`git show {HISTORY}:benchmarks/README.md`).

**Result files** are `results/<headline>/<dataset>-<variant>[-seed<S>].json`, headlines
`speed`, `forecast`, `pruner`, `peers`, `machines`: one JSON object, `{{"provenance": …,
"result": …}}`. The provenance gives the commit, whether the tree was clean, the date, the
cores, the versions of Python and tuner's libraries, and the exact command. A script writes
it with `record.write(OUT, result)`; a command that prints JSON is recorded with
`python benchmarks/record.py OUT -- COMMAND …`. Files from before this scheme say
`"reconstructed": true`: their header was rebuilt from git (the commit that added the file,
its date, the command of the old log), not written by the run; `"transcribed": true` marks
figures that existed only as text in the old log, copied into a file with the commit that
recorded them. The "code" column says which, and "changed" where the code measured was the
commit with changes not committed (the provenance's `commit` says which). Curve banks
(`banks/`) carry the same header as their first line.

All on the project's machine: 2 cores, no GPU. Data: the Beijing PM2.5 file (train
2010-2012, validation 2013, test 2014) and two multi-site stations (`--target PM2.5`, the
default 70/15/15 split), found through `$TUNER_DATA_DIR`."""

SCRIPTS = """## Faults

What each fault a shared study can meet does to a run and what it loses, with the test
that holds it and the fault soak's count: [faults.md](faults.md).

## Scripts

Tracked (their figures are above): `record.py` (result files), `make_readme.py` (this
file), `search_and_export.py` (the headline run: its speed and both exports' forecasts),
`baseline.py` (gradient boosting against persistence), `epoch_bound.py` and
`pruner_time_bound.py` (the pruner's oracle bounds), `many_machines.py` with
`sql_timing/` (one PostgreSQL study), `unseen_series.py` (series nothing was tuned on,
paired with another revision). Experiments, in `experiments/`: `levers.py`
(forecast-quality levers, paired by configuration and seed), `export_choice.py` (what an
export should hold, chosen on a year before the test year), `epoch_flops.py` (an epoch's
FLOP/s against one core's), `fuzz.py` (the parsers, for minutes). Each says how to run it
in its docstring; `tests/bench/test_scripts.py` runs every one on a tiny budget."""


def benchmarks_readme() -> str:
    sections = [
        [INTRO],
        speed_section(load("speed")),
        forecast_section(load("forecast")),
        steps_section(load("forecast")),
        unseen_section(load("forecast")),
        pruner_section(load("pruner")),
        peers_section(load("peers")),
        machines_section(load("machines")),
        [SCRIPTS],
    ]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def before_model(doc: dict) -> bool:
    """Whether `doc` was measured before `MODEL_CHANGE` (ISO dates in UTC compare as text)."""
    return doc["provenance"]["date"] < MODEL_CHANGE[1]


def _figures(values: list[float], before: list[bool] | None = None) -> str:
    before = before or [False] * len(values)
    return ", ".join(f"{v:.3f}{BEFORE * b}" for v, b in zip(values, before, strict=True))


def results_section() -> str:
    """The project README's "Results": its figures read from the same result files."""
    speed, forecast, peers = load("speed"), load("forecast"), load("peers")
    gb, persistence = boosting(forecast, "beijing")

    def values(docs, prefix, key):
        return [doc["result"][key] for _, doc in seeds_of(docs, prefix) if key in doc["result"]]

    def befores(docs, prefix, key):
        return [before_model(doc) for _, doc in seeds_of(docs, prefix) if key in doc["result"]]

    default = values(forecast, "beijing-default", "export_test_rmse")
    single = values(forecast, "beijing-default", "single_test_rmse")
    four, four_single = (
        values(forecast, "beijing-4trials", k) for k in ("export_test_rmse", "single_test_rmse")
    )
    station_docs = {s: forecast[f"{s}-default-seed0"] for s in ("aotizhongxin", "changping")}
    stations = {s: doc["result"] for s, doc in station_docs.items()}
    station_gb = {s: boosting(forecast, s) for s in stations}
    choice_docs = [doc for _, doc in seeds_of(forecast, "beijing2013-choice")]
    choice = [doc["result"] for doc in choice_docs]
    choice_before = [before_model(doc) for doc in choice_docs]

    def walls(prefix):
        seconds, before = (
            values(speed, prefix, "wall_seconds"),
            befores(speed, prefix, "wall_seconds"),
        )
        return [minutes(v) + BEFORE * b for v, b in zip(seconds, before, strict=True)]

    blind_test = values(forecast, "beijing-ignore-cost", "export_test_rmse")
    runs = peer_runs(peers)

    def median_best(engine: str, seconds: float) -> str:
        stems = [stem for stem, r in runs.items() if r.engine == engine]
        found = [best_at(runs[stem], seconds) for stem in stems]
        old = any(before_model(peers[stem]) for stem in stems)
        return f"{statistics.median(v for v in found if v is not None):.3f}{BEFORE * old}"

    def seeds(prefix: str, docs=forecast) -> str:
        numbers = [stem.rsplit("seed", 1)[1] for stem, _ in seeds_of(docs, prefix)]
        return f"{numbers[0]}-{numbers[-1]}"

    gaps = [v - gb for v in default]
    pairs_four = list(zip(default, four, strict=False))
    beats_four = sum(a < b for a, b in pairs_four)
    station_text = "; ".join(
        f"{s.capitalize()} {_figures([r['export_test_rmse']], [before_model(station_docs[s])])}"
        f" against {_figures([r['single_test_rmse']], [before_model(station_docs[s])])} "
        f"(gradient boosting {station_gb[s][0]:.3f}, persistence {station_gb[s][1]:.3f})"
        for s, r in stations.items()
    )
    rows = [
        [
            f"Beijing 2014, 100 trials, seeds {seeds('beijing-default')}: the default export; "
            "the best "
            f"trial's own model (`--single`, seeds 0-{len(single) - 1})",
            f"{_figures(default, befores(forecast, 'beijing-default', 'export_test_rmse'))}; "
            f"{_figures(single, befores(forecast, 'beijing-default', 'single_test_rmse'))} "
            f"(gradient boosting {gb:.3f}, persistence {persistence:.3f})",
            "`tuner run --trials 100 --seed S; tuner export; "
            "tuner export --single --out results/single`",
        ],
        [
            f"the same after 4 trials, seeds {seeds('beijing-4trials')}: default; `--single`",
            f"{_figures(four, befores(forecast, 'beijing-4trials', 'export_test_rmse'))}; "
            f"{_figures(four_single, befores(forecast, 'beijing-4trials', 'single_test_rmse'))}",
            "the same with `--trials 4`",
        ],
        [
            "stations nothing was tuned on, 100 trials, seed 0: default against `--single`",
            station_text,
            "`tuner run --data FILE --target PM2.5 --trials 100 --seed 0; tuner export`",
        ],
        [
            "how the default export was chosen, never reading 2014: scored on 2013 after a "
            f"search on 2010-2012, search seeds {seeds('beijing2013-choice')}: the best trial's "
            "model; the default; "
            "gradient boosting",
            f"{_figures([c['saved_best_trial_rmse'] for c in choice], choice_before)}; "
            f"{_figures([c['best5_refitted_rmse'] for c in choice], choice_before)}; "
            f"{choice[0]['boosting_rmse']:.3f}",
            "`python benchmarks/experiments/export_choice.py --storage URL`",
        ],
        [
            "`tuner run --trials 100`, wall time on the idle machine, seeds "
            f"{seeds('beijing-default', speed)} "
            "(the three replicates included)",
            f"{', '.join(walls('beijing-default'))}. Before the cost rule (as `--ignore-cost`): "
            f"{', '.join(walls('beijing-ignore-cost'))}, whose exports scored "
            f"{_figures(blind_test, befores(forecast, 'beijing-ignore-cost', 'export_test_rmse'))}",
            "in an empty folder, under `/usr/bin/time`; then `tuner export`",
        ],
        [
            "best validation RMSE, one core each, every engine training by tuner's recipe, "
            "median of "
            "seeds: tuner at 2.5 and 5 minutes; plain Optuna (TPE, MedianPruner) and KerasTuner "
            "Hyperband at 25 minutes",
            f"{median_best('tuner', 150)}, {median_best('tuner', 300)}; "
            f"{median_best('optuna', 1500)}; "
            f"{median_best('kerastuner', 1500)}",
            "`taskset -c 0 tuner bench engines --engines E --budget B --seed S`",
        ],
    ]
    unseen = [doc for stem, doc in forecast.items() if UNSEEN in stem]
    if unseen:
        rows.insert(
            3,
            [
                "series nothing was tuned on (other targets and steps), 30 trials, seed 0: "
                "the default export's gap to gradient boosting (negative: below it), to "
                "persistence",
                "; ".join(
                    f"{r['station']} {r['target']} "
                    f"{r['test_rmse'] / r['boosting_test_rmse'] - 1:+.1%}, "
                    f"{r['test_rmse'] / r['persistence_test_rmse'] - 1:+.1%}"
                    + BEFORE
                    * before_model(doc)
                    for doc in unseen
                    for r in [doc["result"]["export"]]
                ),
                "`python benchmarks/unseen_series.py --trials 30 --stations S --targets T`",
            ],
        )
    steps = steps_rows(forecast)
    if steps:
        rows.insert(
            3,
            [
                "every hour of the next day from one model (`--horizon 24 --every-step`), "
                "100 trials, all 24 steps: the default export by seed (persistence; seasonal "
                "naive; gradient boosting, one booster per step)",
                steps_cell(steps),
                "`tuner run --horizon 24 --every-step --trials 100 --seed S; tuner export`",
            ],
        )
    station_gaps = " and ".join(
        f"{r['export_test_rmse'] - station_gb[s][0]:+.2f}{BEFORE * before_model(station_docs[s])}"
        for s, r in stations.items()
    )
    gaps_before = BEFORE * any(befores(forecast, "beijing-default", "export_test_rmse"))
    lines = [
        BEGIN,
        "The exported model's test RMSE (µg/m³) on data the search never chose on, 2 cores, "
        "no GPU,",
        "against persistence (the next hour is this hour) and the gradient-boosting baseline that",
        "`tuner run` fits in seconds. Each figure is read from a result file of "
        "`benchmarks/results/`;",
        "`benchmarks/README.md` gives each file, its commit and its command.",
        "",
        *table(["measure", "result", "command"], rows),
        "",
        "The searched LSTM beats persistence everywhere"
        + f"; 100 trials beat 4 on {beats_four} of {len(pairs_four)} seeds.",
        f"Its export is {min(gaps):+.2f} to {max(gaps):+.2f}{gaps_before} from gradient boosting "
        "on Beijing's "
        f"2014 (below zero: better) and {station_gaps} on the stations; `tuner best`, the note,",
        "the report and the model card show both baselines.",
        "",
        f"{BEFORE} measured before the model read the target's change in its own units "
        f"(`{MODEL_CHANGE[0]}`, docs/design.md,",
        '"The change, in its own units"); `benchmarks/README.md` gives each figure\'s commit.',
        "`tuner bench` needs `pip install '.[bench]'` and a checkout.",
        END,
    ]
    return "\n".join(lines)


def project_readme(current: str) -> str:
    """`current` with its generated "Results" replaced by what the result files say now."""
    if BEGIN not in current or END not in current:
        raise SystemExit(f"{PROJECT}: no generated Results section ({BEGIN!r} ... {END!r})")
    before, rest = current.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    return before + results_section() + after


def main(argv: list[str]) -> int:
    wanted = {README: benchmarks_readme(), PROJECT: project_readme(PROJECT.read_text())}
    stale = [path for path, text in wanted.items() if path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path} is not what make_readme.py makes of the result files")
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
