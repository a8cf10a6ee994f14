"""Derived tables: recomputed from the contract's tables after every demo build or import.

The dashboard opens the database read-only, so everything it shows that is not in the imported
tables (breaches, conversation sentiment, QA hits, ...) is computed here and stored.
Each step is `(name, "module:function")`; the function takes the open connection.
"""
from __future__ import annotations

import importlib
import inspect
import sys
import time

from analysis import store
from analysis.db import get_meta
from analysis.errors import UserError

STEPS: list[tuple[str, str]] = [
    ("breaches", "analysis.compliance.engine:refresh"),
    ("risk_signals", "analysis.compliance.signals:refresh"),
    ("conversations", "analysis.sentiment.conversations:refresh"),
    ("aggregates", "analysis.aggregates:refresh"),  # after breaches: contact_daily and breach_facts read them
    ("propensity", "analysis.propensity:rescore"),  # after conversations (sentiment, cues); no model: nothing
    ("plan", "analysis.plan.build:refresh"),  # the contact plan for the scores' date; no scores: nothing
]
# The meta key each step writes when it has run. Its tables (analysis.schema.DERIVED) exist from the
# start, empty, so "has the step run?" is a question for meta, not for the catalog.
RAN = {
    "breaches": "rule_set",
    "risk_signals": "risk_signals_consumer_max_calls",
    "conversations": "sentiment_model",
    "aggregates": "aggregates",
    "propensity": "propensity_scored",
    "plan": "contact_plan_rule_set_sha256",  # analysis.plan.build.PLAN_RULES_META
}


def has_run(con, step: str) -> bool:
    """True once the pipeline step `step` has stored its tables in this database."""
    return get_meta(con, RAN[step]) is not None


def refresh(con, progress: bool = True, changed=None, sentiment_model=None) -> dict[str, float]:
    """Run every step. `changed`: what the import just made changed (analysis.changes.Changes, an
    import's `ImportResult.changed`), None for a full rebuild. A step whose function takes `changed`
    refreshes only the keys it names when it can (analysis.incremental: the result is the full
    rebuild's), else rebuilds in full; a step that does not take it always rebuilds in full.
    `sentiment_model`: the conversations step's model (a name or a model; None: the configured one).
    Returns the seconds each step took."""
    seconds = {}
    for name, target in STEPS:
        module_name, func = target.split(":")
        step = getattr(importlib.import_module(module_name), func)
        t0 = time.perf_counter()
        kwargs = {"model": sentiment_model} if name == "conversations" and sentiment_model is not None else {}
        if changed is not None and "changed" in inspect.signature(step).parameters:
            step(con, changed=changed, **kwargs)
        else:
            step(con, **kwargs)
        seconds[name] = time.perf_counter() - t0
        if progress:
            print(f"  derived {name} in {seconds[name]:.1f}s", file=sys.stderr)
    return seconds


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file")
    parser.add_argument("--if-sentiment-model-changed", action="store_true",
                        help="refresh only when the stored sentiment scores are not the configured model's "
                             "(`make run` runs this in the background after a first build with VADER)")


def scored_by(db) -> str | None:
    """The id of the sentiment model whose scores the database holds (None: not scored yet)."""
    from analysis.db import connect

    con = connect(db, read_only=True)
    try:
        return get_meta(con, RAN["conversations"])
    finally:
        con.close()


def run(args) -> int:
    if store.current(args.db) is None:
        raise UserError(f"database {args.db} does not exist: build it with `python -m analysis demo --db {args.db}` or import your data with `python -m analysis ingest DIR --db {args.db}`")
    model = None
    if args.if_sentiment_model_changed:
        from analysis.sentiment import load_model

        model = load_model()
        stored = scored_by(args.db)
        if stored == model.model_id:
            print(f"sentiment already scored by {model.model_id}: nothing to refresh", file=sys.stderr)
            return 0
        print(f"rescoring sentiment with {model.model_id} (stored: {stored or 'none'}); the dashboard keeps "
              "serving the current version until this one is published", file=sys.stderr)
    with store.writing(args.db) as con:  # a new version, published when every step has run
        refresh(con, sentiment_model=model)
    if model is not None:
        print(f"published sentiment scores by {model.model_id}", file=sys.stderr)
    return 0
