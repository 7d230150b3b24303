"""Reviewing a study: `tuner best`, `tuner dashboard` and `tuner report`.

`best` lists the top trials against persistence; `dashboard` serves optuna-dashboard on the
study storage. `tuner report` draws what a study found and what its exported model does,
for a person: `fates` (how each trial ended) and `forecasts` (the exported model against
persistence on the test split) are plain data; `plots` draws them, with Optuna's own
figures, as PNGs; `sections` words each part of the page with its figures; `page` puts
them in one HTML file that needs nothing else; `report` runs it all and attaches the page
to the study. The package reads the study through
`tuner.search` and the bundle through `tuner.deploy`, so it comes after both.
"""

DEFAULT_OUT = "results/report"  # where `tuner report` writes unless told
