"""The access log: who signed in or failed to, saw which page with which filters, downloaded or
exported what, and every change to the users; plus the sign-in limits and the remembered sign-ins
that are read from it.

It lives in a SQLite file beside the review log (`<db>.access.sqlite`, or $DASHBOARD_ACCESS_LOG),
because the dashboard opens the analytics database read-only. Entries are append-only and chained by
hash (analysis.chain): `python -m analysis verify-logs` and the Data page detect an edited, deleted
or untriggered entry. Times are passed in (`at`, `now`): tests set the clock.

Sign-in limits, counted from the log itself per name typed and per client address, over the failures
of the last 24 hours since that name's (or address's) last good sign-in or unlock:
- a name: 5 failures, then a wait that doubles from 30 s with each further failure; 10 failures lock it
  until an administrator runs `python -m analysis users unlock NAME` (or 24 hours pass);
- a client: the same from 20 failures on, locked at 30 (`users unlock --client ADDRESS`).
The count is by the name typed, known or not, so a locked name tells nothing about whether it exists.

Remembered sign-ins (the cookie's token) are rows of `sessions`, keyed by the token's hash: signing
out revokes the row, so the token stays dead after a restart; a token idle longer than the idle
timeout is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from analysis import chain
from analysis.db import quote_ident
from analysis.errors import UserError

ENV = "DASHBOARD_ACCESS_LOG"
TABLE, KEY = "access_log", "entry_id"
FIELDS = ["at", "event", "username", "client", "detail"]
COLUMNS = [KEY, *FIELDS]

EVENTS = ("sign_in", "sign_in_failed", "sign_in_refused", "sign_out", "session_expired", "signed_out_by_change",
          "session_resumed", "role_changed", "page_view", "download", "user_added", "user_replaced", "user_removed", "unlock")

SCHEMA = """
create table if not exists access_log (
    entry_id integer primary key autoincrement,
    at text not null,                   -- ISO 8601 instant in UTC, microseconds
    event text not null,
    username text not null default '',  -- who: the name typed, the signed-in user, the user changed
    client text not null default '',    -- the browser's address, or cli:<account> for the command line
    detail text not null default '{}',  -- JSON: the page and filters, the file and rows, ...
    prev_hash text not null,
    hash text not null
);
create index if not exists access_log_user on access_log (username, event, entry_id);
create index if not exists access_log_client on access_log (client, event, entry_id);
create table if not exists sessions (
    token_hash text primary key,        -- SHA-256 of the cookie's token (the token itself is not kept)
    username text not null,
    started_at text not null,
    last_seen real not null,            -- epoch seconds of the last run, written at most once a minute
    revoked_at text                     -- set by signing out or an idle timeout: the token is dead
);
"""
SCHEMA += chain.triggers_sql(TABLE, "the access log is append-only")

FAILURE_WINDOW = timedelta(hours=24)
# (failures before any wait, failures that lock) per name typed and per client address
USER_LIMITS = (5, 10)
CLIENT_LIMITS = (20, 30)
FIRST_WAIT_S = 30


def default_path(db_path: str | Path | None = None, environ=None) -> Path:
    """$DASHBOARD_ACCESS_LOG, else `<db>.access.sqlite` beside the analytics database (DASHBOARD_DB)."""
    env = os.environ if environ is None else environ
    configured = env.get(ENV, "").strip()
    if configured:
        return Path(configured)
    if db_path is None:
        from analysis.db import DEFAULT_DB

        db_path = env.get("DASHBOARD_DB") or DEFAULT_DB
    return Path(f"{db_path}.access.sqlite")


def _setup(con: sqlite3.Connection) -> None:
    con.execute("pragma journal_mode = wal")  # kept by the file: readers (the Data page) never block a sign-in
    con.executescript(SCHEMA)


def _open(path: Path, create: bool = True) -> sqlite3.Connection | None:
    con = chain.open_log(path, create, _setup, "access log", ENV)
    if con is not None:
        con.execute("pragma synchronous = normal")  # per connection: in WAL, no fsync per entry
    return con


def _iso(at: datetime) -> str:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError("the time of an access-log entry must be time-zone-aware")
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


# The log's own clock, for entries written without a time (a user change from the command line):
# SQLite's, in the format of `_iso`. The library reads no clock itself (tests/test_house_rules.py).
LOG_CLOCK = "select strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')"


def record(path: str | Path, event: str, at: datetime | None, username: str = "", client: str = "", **detail) -> int:
    """Append one entry at time `at` (None: the log's clock, as the entry is written); returns its id."""
    if event not in EVENTS:
        raise ValueError(f"unknown access-log event {event!r}")
    values = [None if at is None else _iso(at), event, str(username or "")[:200], str(client or "")[:200],
              json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)]
    with closing(_open(Path(path))) as con:
        try:
            con.execute("begin immediate")  # the last hash and the new row, atomically
            if at is None:
                values[0] = con.execute(LOG_CLOCK).fetchone()[0]
            entry_id = chain.append(con, TABLE, KEY, FIELDS, values)
            con.execute("commit")
        except sqlite3.Error as exc:
            con.execute("rollback")
            raise UserError(f"could not write to the access log {path} ({exc}): check the file is writable") from None
    return entry_id


def entries(path: str | Path, since: datetime | None = None, event: str | None = None,
            username: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Entries, newest first (all of them, or those since a time, of one event, of one user)."""
    con = _open(Path(path), create=False)
    if con is None:
        return pd.DataFrame(columns=COLUMNS)
    with closing(con):
        cur = con.execute(
            "select entry_id, at, event, username, client, detail from access_log where (? is null or at >= ?)"
            " and (? is null or event = ?) and (? is null or username = ?) order by entry_id desc limit ?",
            [*[_iso(since) if since else None] * 2, event, event, username, username, -1 if limit is None else limit])
        return pd.DataFrame(cur.fetchall(), columns=COLUMNS)


def verify(path: str | Path) -> tuple[int, str, list[str]]:
    """(entries, head hash, problems) of the access log's chain; see analysis.chain.verify."""
    con = _open(Path(path), create=False)
    if con is None:
        return 0, chain.GENESIS, [f"no access log at {path}: nothing has been recorded there (or the file was removed)"]
    with closing(con):
        return chain.verify(con, TABLE, KEY, FIELDS)


# --- sign-in limits -----------------------------------------------------------------------------


def _failures(con, column: str, value: str, now: datetime) -> tuple[int, datetime | None]:
    """Failures of the window for one name or address since its last good sign-in or unlock, and the last one's time."""
    count, last = con.execute(
        f"""select count(*), max(at) from access_log
            where {quote_ident(column)} = ? and event = 'sign_in_failed' and at >= ?
              and entry_id > coalesce((select max(entry_id) from access_log
                                       where {quote_ident(column)} = ? and event in ('sign_in', 'unlock')), 0)""",
        [value, _iso(now - FAILURE_WINDOW), value]).fetchone()
    return count, datetime.fromisoformat(last) if last else None


def _wait(failures: int, last: datetime | None, limits: tuple[int, int], now: datetime) -> float | None:
    """Seconds to wait before the next attempt (0: go ahead); None: locked."""
    free, lock = limits
    if failures >= lock:
        return None
    if failures < free or last is None:
        return 0.0
    until = last + timedelta(seconds=FIRST_WAIT_S * 2 ** (failures - free))
    return max(0.0, (until - now).total_seconds())


def sign_in_wait(path: str | Path, username: str, client: str, now: datetime) -> float | None:
    """Whether a sign-in may be tried now: 0 yes, seconds to wait, or None when locked."""
    con = _open(Path(path), create=False)
    if con is None:
        return 0.0
    with closing(con):
        waits = [_wait(*_failures(con, "username", (username or "").strip()[:200], now), USER_LIMITS, now)]
        if client:
            waits.append(_wait(*_failures(con, "client", client[:200], now), CLIENT_LIMITS, now))
    return None if None in waits else max(waits)


# --- remembered sign-ins ------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write(path: Path, sql: str, params: list) -> None:
    with closing(_open(path)) as con:
        try:
            con.execute(sql, params)
        except sqlite3.Error as exc:
            raise UserError(f"could not write to the access log {path} ({exc}): check the file is writable") from None


def start_session(path: str | Path, token: str, username: str, now: datetime) -> None:
    _write(Path(path), "insert or replace into sessions values (?, ?, ?, ?, null)",
           [_token_hash(token), username, _iso(now), now.timestamp()])


def touch_session(path: str | Path, token: str, now: datetime) -> None:
    _write(Path(path), "update sessions set last_seen = ? where token_hash = ? and revoked_at is null",
           [now.timestamp(), _token_hash(token)])


def revoke_session(path: str | Path, token: str, now: datetime) -> None:
    _write(Path(path), "update sessions set revoked_at = coalesce(revoked_at, ?) where token_hash = ?",
           [_iso(now), _token_hash(token)])


def session_alive(path: str | Path, token: str, now: datetime, idle_seconds: float) -> bool:
    """A token is good for a new run only if its sign-in is on record, not revoked and not idle too long."""
    con = _open(Path(path), create=False)
    if con is None:
        return False
    with closing(con):
        row = con.execute("select last_seen, revoked_at from sessions where token_hash = ?", [_token_hash(token)]).fetchone()
    return bool(row) and row[1] is None and now.timestamp() - row[0] <= idle_seconds
