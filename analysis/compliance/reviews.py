"""The review log: reviewers confirm or dismiss presumed breaches, append-only, outside the analytics DB.

The dashboard opens the analytics database read-only, so reviews live in a small SQLite file next
to it (`<db>.reviews.sqlite`, or the path in the environment variable DASHBOARD_REVIEWS). Every
review is a new row: who, when, what, and the state it replaced. SQLite triggers abort any UPDATE
or DELETE, so the history cannot be rewritten through this file's normal use. A breach is keyed by
(contact_id, rule_id), not by a row number, so a rerun of the audit keeps the reviews of every
breach that still exists. The time of a review is an argument: this module never reads the clock.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis.db import quote_ident
from analysis.errors import UserError

ENV = "DASHBOARD_REVIEWS"
UNREVIEWED = "unreviewed"
STATES = ("confirmed", "dismissed")
# Why a reviewer dismisses a presumed breach. "other" needs a note saying what.
REASONS = ("consent on file", "wrong time zone data", "duplicate record", "reply to consumer", "other")
COLUMNS = ["review_id", "contact_id", "rule_id", "state", "reason", "note", "reviewer", "reviewed_at",
           "previous_state", "previous_review_id"]

SCHEMA = """
create table if not exists reviews (
    review_id integer primary key autoincrement,
    contact_id text not null,
    rule_id text not null,
    state text not null check (state in ('confirmed', 'dismissed')),
    reason text,
    note text not null default '',
    reviewer text not null,
    reviewed_at text not null,          -- ISO 8601 instant in UTC, e.g. 2026-11-23T17:40:00+00:00
    previous_state text not null,       -- 'unreviewed' for the first review of a breach
    previous_review_id integer references reviews (review_id)
);
create index if not exists reviews_key on reviews (contact_id, rule_id, review_id);
create trigger if not exists reviews_no_update before update on reviews
begin select raise(abort, 'the review log is append-only: add a new review instead'); end;
create trigger if not exists reviews_no_delete before delete on reviews
begin select raise(abort, 'the review log is append-only: add a new review instead'); end;
"""


def default_path(db_path: str | Path, environ=None) -> Path:
    """Where the reviews of database `db_path` live: $DASHBOARD_REVIEWS, else `<db>.reviews.sqlite`."""
    env = (os.environ if environ is None else environ).get(ENV, "").strip()
    return Path(env) if env else Path(f"{db_path}.reviews.sqlite")


def _open(path: Path, create: bool) -> sqlite3.Connection | None:
    path = Path(path)
    if not create and not path.exists():
        return None
    try:
        con = sqlite3.connect(str(path), timeout=10, isolation_level=None)
        if create:
            con.executescript(SCHEMA)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open the review log {path} ({exc}): check that its folder exists and is writable, or set {ENV}") from None
    return con


def record(path: str | Path, contact_id: str, rule_id: str, state: str, reviewer: str, at: datetime,
           reason: str | None = None, note: str = "") -> dict:
    """Append one review of breach (contact_id, rule_id) and return it, with the state it replaced."""
    if state not in STATES:
        raise UserError(f"review state {state!r} is not one of {', '.join(STATES)}: choose one")
    reason = (reason or "").strip() or None
    note = (note or "").strip()
    if state == "dismissed" and reason not in REASONS:
        raise UserError(f"dismissing a breach needs a reason from: {', '.join(REASONS)}")
    if reason is not None and reason not in REASONS:
        raise UserError(f"review reason {reason!r} is not one of {', '.join(REASONS)}: choose one")
    if reason == "other" and not note:
        raise UserError("reason 'other' needs a note saying what the reason is: add a note")
    if not (reviewer or "").strip():
        raise UserError("a review needs the reviewer's name: sign in first")
    if not contact_id or not rule_id:
        raise UserError("a review needs the breach's contact_id and rule_id: select a breach first")
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise UserError("the time of a review must be a time-zone-aware datetime: pass e.g. datetime.now(timezone.utc)")
    reviewed_at = at.astimezone(timezone.utc).isoformat(timespec="seconds")
    con = _open(Path(path), create=True)
    with closing(con):
        try:
            con.execute("begin immediate")  # the previous state and the new row are read and written atomically
            prev = con.execute(
                "select review_id, state from reviews where contact_id = ? and rule_id = ? order by review_id desc limit 1",
                [contact_id, rule_id]).fetchone()
            prev_id, prev_state = prev if prev else (None, UNREVIEWED)
            cur = con.execute(
                "insert into reviews (contact_id, rule_id, state, reason, note, reviewer, reviewed_at, previous_state, previous_review_id)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [contact_id, rule_id, state, reason, note, reviewer.strip(), reviewed_at, prev_state, prev_id])
            review_id = cur.lastrowid
            con.execute("commit")
        except sqlite3.Error as exc:
            con.execute("rollback")
            raise UserError(f"could not write to the review log {path} ({exc}): check the file is writable") from None
    return dict(zip(COLUMNS, [review_id, contact_id, rule_id, state, reason, note, reviewer.strip(), reviewed_at,
                              prev_state, prev_id]))


def history(path: str | Path, contact_id: str | None = None, rule_id: str | None = None) -> pd.DataFrame:
    """Every review (of one breach when contact_id and rule_id are given), oldest first."""
    con = _open(Path(path), create=False)
    if con is None:
        return pd.DataFrame(columns=COLUMNS)
    with closing(con):
        cur = con.execute(
            f"select {', '.join(map(quote_ident, COLUMNS))} from reviews"
            " where (? is null or contact_id = ?) and (? is null or rule_id = ?) order by review_id",
            [contact_id, contact_id, rule_id, rule_id])
        return pd.DataFrame(cur.fetchall(), columns=COLUMNS)


def current(path: str | Path) -> pd.DataFrame:
    """The current state of every reviewed breach: its latest review, one row per (contact_id, rule_id)."""
    con = _open(Path(path), create=False)
    if con is None:
        return pd.DataFrame(columns=COLUMNS)
    with closing(con):
        cur = con.execute(
            f"""select {', '.join('r.' + quote_ident(c) for c in COLUMNS)} from reviews as r
                inner join (select contact_id, rule_id, max(review_id) as review_id from reviews group by 1, 2) as latest
                on latest.review_id = r.review_id order by r.review_id""")
        return pd.DataFrame(cur.fetchall(), columns=COLUMNS)
