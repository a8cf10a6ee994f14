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
]
# The meta key each step writes when it has run. Its tables (analysis.schema.DERIVED) exist from the
# start, empty, so "has the step run?" is a question for meta, not for the catalog.
RAN = {
    "breaches": "rule_set",
    "risk_signals": "risk_signals_consumer_max_calls",
    "conversations": "sentiment_model",
    "aggregates": "aggregates",
}


def has_run(con, step: str) -> bool:
    """True once the pipeline step `step` has stored its tables in this database."""
    return get_meta(con, RAN[step]) is not None


def refresh(con, progress: bool = True, changed=None) -> dict[str, float]:
    """Run every step. `changed`: what the import just made changed (analysis.changes.Changes, an
    import's `ImportResult.changed`), None for a full rebuild. A step whose function takes `changed`
    refreshes only the keys it names when it can (analysis.incremental: the result is the full
    rebuild's), else rebuilds in full; a step that does not take it always rebuilds in full.
    Returns the seconds each step took."""
    seconds = {}
    for name, target in STEPS:
        module_name, func = target.split(":")
        step = getattr(importlib.import_module(module_name), func)
        t0 = time.perf_counter()
        if changed is not None and "changed" in inspect.signature(step).parameters:
            step(con, changed=changed)
        else:
            step(con)
        seconds[name] = time.perf_counter() - t0
        if progress:
            print(f"  derived {name} in {seconds[name]:.1f}s", file=sys.stderr)
    return seconds


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file")


def run(args) -> int:
    if store.current(args.db) is None:
        raise UserError(f"database {args.db} does not exist: build it with `python -m analysis demo --db {args.db}` or import your data with `python -m analysis ingest DIR --db {args.db}`")
    with store.writing(args.db) as con:  # a new version, published when every step has run
        refresh(con)
    return 0
