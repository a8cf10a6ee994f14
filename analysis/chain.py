"""Hash-chained, append-only SQLite tables: the access log and the review log.

Each row carries `prev_hash` (the hash of the row before it, or GENESIS for the first) and `hash`,
the SHA-256 of `prev_hash` and the row's own fields in a fixed order. Triggers refuse UPDATE and
DELETE, but anyone holding the file can drop a trigger and rewrite a row; the chain is what makes that
visible. `verify` recomputes it and reports, in one line each:

- a row whose fields no longer give its hash (an edit);
- a row whose `prev_hash` is not its predecessor's hash, or a gap in the ids (a deletion);
- fewer rows than SQLite's own AUTOINCREMENT counter says were ever written (the last rows deleted);
- a missing append-only trigger (dropped, even if put back later the edit itself still shows).

Rewriting every row after an edit, hashes included, passes `verify`: the chain proves the log is
whole only against a head hash kept elsewhere. `verify` returns the head, `python -m analysis
verify-logs` prints it, so an examiner can note it and check later entries extend it.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from analysis.db import quote_ident
from analysis.errors import UserError

GENESIS = "0" * 64


_set_up: set[str] = set()  # log files this process has set up (schema, triggers, migration)


def open_log(path: Path, create: bool, setup, what: str, env: str) -> sqlite3.Connection | None:
    """A connection (autocommit; callers begin their own transactions) to the log file at `path`,
    set up by `setup(con)` when `create` and this process has not set that file up yet (a page view's
    entry then costs one insert, not the schema script); None when the file does not exist and
    `create` is false."""
    path = Path(path)
    fresh = not path.exists()
    if not create and fresh:
        return None
    try:
        con = sqlite3.connect(str(path), timeout=10, isolation_level=None)
        if create and (fresh or str(path) not in _set_up):
            setup(con)
            _set_up.add(str(path))
    except sqlite3.Error as exc:
        raise UserError(f"cannot open the {what} {path} ({exc}): check that its folder exists and is writable, or set {env}") from None
    return con


def digest(prev_hash: str, values) -> str:
    """The hash of one row: its predecessor's hash and its fields, as canonical JSON."""
    body = json.dumps([prev_hash, *values], ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def triggers_sql(table: str, message: str) -> str:
    """The two triggers that make `table` append-only through SQL."""
    return "".join(
        f"create trigger if not exists {quote_ident(table + '_no_' + verb)} before {verb} on {quote_ident(table)}\n"
        f"begin select raise(abort, {quote_literal(message)}); end;\n" for verb in ("update", "delete"))


def quote_literal(text: str) -> str:
    """A constant SQL string (the triggers' message; SQLite's raise() takes no parameter)."""
    return "'" + text.replace("'", "''") + "'"


def last_hash(con: sqlite3.Connection, table: str, key: str) -> str:
    """The newest row's hash (call inside the appending transaction)."""
    row = con.execute(f"select hash from {quote_ident(table)} order by {quote_ident(key)} desc limit 1").fetchone()
    return row[0] if row and row[0] else GENESIS


def append(con: sqlite3.Connection, table: str, key: str, fields: list[str], values: list) -> int:
    """Insert one row chained to the last; the caller holds a write transaction (`begin immediate`)."""
    prev = last_hash(con, table, key)
    names = ", ".join(map(quote_ident, [*fields, "prev_hash", "hash"]))
    marks = ", ".join("?" * (len(fields) + 2))
    cur = con.execute(f"insert into {quote_ident(table)} ({names}) values ({marks})", [*values, prev, digest(prev, values)])
    return cur.lastrowid


def verify(con: sqlite3.Connection, table: str, key: str, fields: list[str]) -> tuple[int, str, list[str]]:
    """(rows, head hash, problems): the problems are one line each, empty when the chain holds."""
    problems: list[str] = []
    for verb in ("update", "delete"):
        found = con.execute("select 1 from sqlite_master where type = 'trigger' and name = ?",
                            [f"{table}_no_{verb}"]).fetchall()
        if not found:
            problems.append(f"the trigger that refuses {verb.upper()} on {table} is missing: it was dropped")
    prev, expected_id, count = GENESIS, 1, 0
    names = ", ".join(map(quote_ident, [key, *fields, "prev_hash", "hash"]))
    cur = con.execute(f"select {names} from {quote_ident(table)} order by {quote_ident(key)}")
    for row in cur:
        row_id, values, prev_hash, stored = row[0], list(row[1:-2]), row[-2], row[-1]
        count += 1
        if row_id != expected_id:
            problems.append(f"{table} rows {expected_id} to {row_id - 1} are missing: deleted")
        if prev_hash != prev:
            problems.append(f"{table} row {row_id} does not follow the row before it: a row was deleted or replaced")
        if stored != digest(prev_hash or "", values):
            problems.append(f"{table} row {row_id} was changed after it was written: its fields no longer give its hash")
        prev, expected_id = stored, row_id + 1
    seq = con.execute("select seq from sqlite_sequence where name = ?", [table]).fetchall()
    if seq and seq[0][0] >= expected_id:
        problems.append(f"{table} rows {expected_id} to {seq[0][0]} are missing: the last rows were deleted")
    return count, prev, problems
