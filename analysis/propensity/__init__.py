"""Propensity to pay (issue 24): the chance that an open account pays in the next 30 days, from what
the firm knew before the date, by a gradient-boosted model trained on the firm's own history.

- `features(con, as_of)`: one row per open account at as_of (`account_id, balance, <features>`).
- `train(con, as_of)`: the out-of-time evaluation and the model fitted on every eligible month;
  `store_model` keeps it in `propensity_models` (the CLI does, in a new database version).
- `latest_model(con)`, `score(con, as_of, model=None)`: `account_id, propensity, balance,
  expected_collection` for every open account; read-only.
- `rescore(con)`: the pipeline step (analysis.pipeline STEPS "propensity"): re-scores with the stored
  model after an import or a refresh; nothing when no model is stored.
- `python -m analysis propensity train|score --db FILE [--as-of DATE]` (analysis.propensity.cli).
"""
from __future__ import annotations

from analysis.propensity.cli import add_arguments, run
from analysis.propensity.model import (
    NO_MODEL,
    Model,
    data_end,
    data_start,
    evaluate,
    features,
    fit,
    labelled,
    latest_model,
    load_model,
    rescore,
    sample_note,
    score,
    store_model,
    store_scores,
    train,
    training_snapshots,
)

__all__ = [
    "NO_MODEL", "Model", "add_arguments", "data_end", "data_start", "evaluate", "features", "fit", "labelled",
    "latest_model", "load_model", "rescore", "run", "sample_note", "score", "store_model", "store_scores", "train",
    "training_snapshots",
]
