"""Small SQL helpers of the importer: literals of our own constants, one-value queries, and the
scratch tables (`_ingest_*`, temporary) an import makes and drops.

Every statement runs on the importing connection itself, not a cursor: a cursor does not see the
rows of the import's open transaction.
"""
from __future__ import annotations

from analysis.db import quote_ident


def lit(text: str) -> str:
    """A SQL string literal of a constant of ours (never a user value)."""
    return "'" + text.replace("'", "''") + "'"


def scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def temp_table(con, name: str, columns: dict[str, list]) -> None:
    """A temp table from Python lists of equal length (bound as LIST parameters, unnested in SQL)."""
    names = list(columns)
    select = ", ".join(f"unnest(${c}) as {quote_ident(c)}" for c in names)
    sql = f"create or replace temp table {quote_ident(name)} as select {select}"
    con.execute(sql, {c: list(v) for c, v in columns.items()})


def drop(con, *names: str) -> None:
    for name in names:
        con.execute("drop table if exists " + quote_ident(name))
