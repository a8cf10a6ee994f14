"""Connections and the query files in `queries/`."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import duckdb

from analysis.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
DEFAULT_DB = ROOT / "data" / "demo.duckdb"


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a database file; read-only opening of a missing file is a user error."""
    path = Path(path)
    if read_only and not path.exists():
        raise UserError(f"database {path} does not exist: build it with `python -m analysis demo --db {path}` or import your data with `python -m analysis ingest DIR --db {path}`")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise UserError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from None
    con.execute("set TimeZone = 'UTC'")
    return con


@lru_cache(maxsize=None)
def sql_text(stem: str) -> str:
    """The text of `queries/<stem>.sql`."""
    path = QUERIES / f"{stem}.sql"
    return path.read_text(encoding="utf-8")


def query_df(con, stem: str, params: dict | list | None = None):
    """Run a query file on its own cursor and return a pandas DataFrame."""
    cur = con.cursor()
    try:
        return cur.execute(sql_text(stem), params or {}).df() if params else cur.execute(sql_text(stem)).df()
    finally:
        cur.close()


def query_rows(con, stem: str, params: dict | list | None = None) -> list[tuple]:
    """Run a query file on its own cursor and return all rows."""
    cur = con.cursor()
    try:
        return cur.execute(sql_text(stem), params).fetchall() if params else cur.execute(sql_text(stem)).fetchall()
    finally:
        cur.close()


def rows(con, sql: str, params: dict | list | None = None) -> list[tuple]:
    """Run inline SQL (for small schema-level statements) on its own cursor."""
    cur = con.cursor()
    try:
        return cur.execute(sql, params).fetchall() if params else cur.execute(sql).fetchall()
    finally:
        cur.close()


def table_exists(con, name: str) -> bool:
    return bool(rows(con, "select 1 from information_schema.tables where table_name = ?", [name]))


def get_meta(con, key: str, default: str | None = None) -> str | None:
    if not table_exists(con, "meta"):
        return default
    found = rows(con, "select value from meta where key = ?", [key])
    return found[0][0] if found else default


def set_meta(con, key: str, value: str) -> None:
    con.execute("insert or replace into meta values (?, ?)", [key, value])
