"""`python -m analysis verify-logs`: are the access log, the review log and the label log whole?

Recomputes each log's hash chain (analysis.chain) and prints, per log, its entries and head hash when
the chain holds, or one line per problem found (an edited or deleted entry, a dropped trigger). Exit
status 1 when any problem is found, so a scheduled job can alert on it.

    python -m analysis verify-logs [--db FILE] [--access-log PATH] [--reviews PATH] [--labels PATH]
"""
from __future__ import annotations

import os
from pathlib import Path

from analysis import accesslog
from analysis.compliance import reviews
from analysis.sentiment import labels


def add_arguments(parser) -> None:
    parser.add_argument("--db", help="the dashboard's database; its logs lie beside it (default: $DASHBOARD_DB or the demo's)")
    parser.add_argument("--access-log", help="the access log (default: $DASHBOARD_ACCESS_LOG or <db>.access.sqlite)")
    parser.add_argument("--reviews", help="the review log (default: $DASHBOARD_REVIEWS or <db>.reviews.sqlite)")
    parser.add_argument("--labels", help="the sentiment label log (default: $DASHBOARD_LABELS or <db>.labels.sqlite)")


def checks(db: str | Path | None = None, access_log: str | Path | None = None, review_log: str | Path | None = None,
           label_log: str | Path | None = None):
    """[(name, path, entries, head, problems)] for each log: what the command prints and the Data page shows."""
    from analysis.db import DEFAULT_DB

    access_path = Path(access_log) if access_log else accesslog.default_path(db)
    db = db or os.environ.get("DASHBOARD_DB") or DEFAULT_DB
    review_path = Path(review_log) if review_log else reviews.default_path(db)
    label_path = Path(label_log) if label_log else labels.default_path(db)
    return [("access log", access_path, *accesslog.verify(access_path)),
            ("review log", review_path, *reviews.verify(review_path)),
            ("label log", label_path, *labels.verify(label_path))]


def run(args) -> int:
    found = 0
    for name, path, entries, head, problems in checks(args.db, args.access_log, args.reviews, args.labels):
        if problems:
            found += len(problems)
            for problem in problems:
                print(f"{name} {path}: {problem}")
        else:
            print(f"{name} {path}: {entries:,} entries, chain intact, head {head}")
    return 1 if found else 0
