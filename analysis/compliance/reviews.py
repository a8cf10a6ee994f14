"""The review log: reviewers confirm or dismiss presumed breaches, append-only, outside the analytics DB.

The dashboard opens the analytics database read-only, so reviews live in a small SQLite file next
to it (`<db>.reviews.sqlite`, or the path in the environment variable DASHBOARD_REVIEWS). Every
review is a new row: who, when, what, and the state it replaced. SQLite triggers abort any UPDATE
or DELETE, and each row is chained to the one before by a hash (analysis.chain), so a rewrite behind
the triggers' back (dropping one, editing or deleting a row) is found by `verify` and by
`python -m analysis verify-logs`. A breach is keyed by
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

from analysis import chain
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
    previous_review_id integer references reviews (review_id),
    prev_hash text,                     -- the chain (analysis.chain): the row before's hash
    hash text                           -- SHA-256 of prev_hash and this row's fields
);
create index if not exists reviews_key on reviews (contact_id, rule_id, review_id);
"""
TRIGGERS = chain.triggers_sql("reviews", "the review log is append-only: add a new review instead")
FIELDS = COLUMNS[1:]  # what the hash covers: every field but the id (the chain's order gives it)


def default_path(db_path: str | Path, environ=None) -> Path:
    """Where the reviews of database `db_path` live: $DASHBOARD_REVIEWS, else `<db>.reviews.sqlite`."""
    env = (os.environ if environ is None else environ).get(ENV, "").strip()
    return Path(env) if env else Path(f"{db_path}.reviews.sqlite")


def _setup(con: sqlite3.Connection) -> None:
    con.executescript(SCHEMA)
    _chain_older_file(con)
    con.executescript(TRIGGERS)


def _open(path: Path, create: bool) -> sqlite3.Connection | None:
    return chain.open_log(path, create, _setup, "review log", ENV)


def _chain_older_file(con: sqlite3.Connection) -> None:
    """A review log written before the chain existed: add its columns and chain the rows it holds
    (the one time its rows are updated, in one transaction, with the triggers lifted for it)."""
    if "hash" in [row[1] for row in con.execute("pragma table_info(reviews)").fetchall()]:
        return
    con.execute("begin immediate")
    try:
        con.execute("alter table reviews add column prev_hash text")
        con.execute("alter table reviews add column hash text")
        con.execute("drop trigger if exists reviews_no_update")
        rows = con.execute(f"select review_id, {', '.join(map(quote_ident, FIELDS))} from reviews order by review_id").fetchall()
        prev = chain.GENESIS
        for row_id, *values in rows:
            digest = chain.digest(prev, values)
            con.execute("update reviews set prev_hash = ?, hash = ? where review_id = ?", [prev, digest, row_id])
            prev = digest
        con.execute("commit")  # before executescript, which would commit first itself
    except BaseException:
        con.execute("rollback")
        raise


def verify(path: str | Path) -> tuple[int, str, list[str]]:
    """(reviews, head hash, problems) of the review log's chain; see analysis.chain.verify."""
    con = _open(Path(path), create=False)
    if con is None:
        return 0, chain.GENESIS, []  # no review yet: nothing to verify
    with closing(con):
        return chain.verify(con, "reviews", "review_id", FIELDS)


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
            review_id = chain.append(con, "reviews", "review_id", FIELDS,
                                     [str(contact_id), str(rule_id), state, reason, note, reviewer.strip(), reviewed_at, prev_state, prev_id])
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
