"""The user-attribute keys that tuner writes on studies and trials, and that others read.

The dashboard, `tuner best`, the progress display and export read what the search wrote;
these names are the contract between them.
"""

# On the study.
DATA = "data"  # the DataSpec as a dict: file, checksum, target, split, horizon
SPACE = "space"  # the search space's name
BASELINE_VAL_RMSE = "baseline_val_rmse"  # persistence on the validation split, target units
ARTIFACTS = "artifacts"  # the artifact store's folder, absolute, where the study's models are
REPORT_ARTIFACT_ID = "report_artifact_id"  # the latest `tuner report` page in the artifact store

# On a trial.
MODEL_PARAMS = "model_params"  # the ModelParams as a dict, fixed parameters included
EPOCHS = "epochs"  # epochs trained
FINAL_LEARNING_RATE = "final_learning_rate"  # after the plateau schedule
RSS_MB = "rss_mb"  # the worker's resident memory after the trial
ARTIFACT_ID = "artifact_id"  # the saved model in the artifact store
PRUNED_REASON = "pruned_reason"  # "noise", "diverged", "behind"
PRUNED_DETAIL = "pruned_detail"  # the figures behind the verdict
FAIL_REASON = "fail_reason"  # "interrupted", or the error's type and message
