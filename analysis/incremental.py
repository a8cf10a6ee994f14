"""Incremental refresh of the derived tables: recompute only the keys an import touched.

Each derived step (analysis.pipeline.STEPS) partitions its work by a key: breaches by account,
risk signals by consumer, conversation tables by conversation (QA also by account). After an import
whose `analysis.changes.Changes` names the touched keys, a step deletes the derived rows of those
keys and inserts them again, computed by the *same* queries as a full rebuild over all the rows of
those keys. The queries read the contract's tables by their plain names, so the step runs them on a
cursor where temporary tables of the same names (`shadow`) hold only the rows of the keys: DuckDB
resolves a plain name to a temporary object before the database's own table.

A step may refresh incrementally only when its stored tables are exactly a full rebuild of the data
before this import: meta `derived_import_<step>` holds the import number (import_log) its tables
reflect, and it must be the import just before this one (`can_increment`). Otherwise, or when the
step's configuration changed (rule set, model, setting), the step rebuilds in full.
"""
from __future__ import annotations

from analysis.db import bind, get_meta, install_layer, quote_ident, rows, set_meta, sql_text

# When an import touches more than this share of the accounts, a full rebuild is the cheaper way
# (the incremental path reads every touched key's rows through a semi-join, then deletes and appends).
FULL_SHARE = 0.25


def data_import_id(con) -> int:
    """The number of the latest import in import_log (0 when none: a demo build)."""
    return rows(con, "select coalesce(max(import_id), 0) from import_log")[0][0]


def meta_key(step: str) -> str:
    return f"derived_import_{step}"


def can_increment(con, step: str, changed) -> bool:
    """Whether `step`'s tables are a full rebuild of the data just before the import `changed` names,
    with the columns this code declares (a database made by an older version is rebuilt in full)."""
    return (changed is not None and get_meta(con, meta_key(step)) == str(changed.import_id - 1)
            and declared_columns(con, step))


def declared_columns(con, step: str) -> bool:
    """Whether every table `step` builds has exactly the columns analysis.schema.DERIVED declares."""
    from analysis.schema import DERIVED

    for d in DERIVED.values():
        if d.step == step:
            stored = rows(con, "select column_name from information_schema.columns where table_name = ? "
                               "and table_schema = 'main' and table_catalog = current_database() order by ordinal_position", [d.name])
            if [c for c, _ in d.columns] != [r[0] for r in stored]:
                return False
    return True


def mark(con, step: str, mode: str) -> None:
    """Record that `step`'s tables now reflect the data as of the latest import, and how they were
    refreshed (`mode`: 'full' or 'incremental'; meta `derived_mode_<step>`)."""
    set_meta(con, meta_key(step), str(data_import_id(con)))
    set_meta(con, f"derived_mode_{step}", mode)


def too_many(con, accounts: int) -> bool:
    """Whether `accounts` touched accounts make a full rebuild cheaper than an incremental one."""
    total = rows(con, "select count(*) from accounts")[0][0]
    return accounts > FULL_SHARE * total


def database_name(cur) -> str:
    return rows(cur, "select current_database()")[0][0]


def main_table(cur, table: str) -> str:
    """The fully qualified name of a table of the database (not a temporary view shadowing it)."""
    return f"{quote_ident(database_name(cur))}.main.{quote_ident(table)}"


def key_table(cur, name: str, column: str, values) -> None:
    """A temporary table `name(column varchar)` on `cur` holding `values` (distinct)."""
    import pandas as pd  # here: the commands that never refresh (audit) need no pandas

    frame = pd.DataFrame({column: pd.Series(sorted(set(values)), dtype="object")})
    cur.register("_incremental_keys", frame)
    cur.execute(f"create or replace temp table {quote_ident(name)} as "
                f"select distinct cast({quote_ident(column)} as varchar) as {quote_ident(column)} from _incremental_keys")
    cur.unregister("_incremental_keys")


def shadow(cur, table: str, column: str, keys: str, database: str | None = None, source: str | None = None,
           into: str | None = None) -> None:
    """A temporary table `table` (or `into`) on `cur`: the database's table (or that of the attached
    `database`, or the temp table `source` holding a superset of the rows wanted) restricted to the rows
    whose `column` is in the temp table `keys` (of the same column name). A table, not a view: the
    queries read a table several times, and each read of a view would scan the whole of the database's
    table. Each shadow of a database table reads all of it (tables are stored in day order, not by
    key): a step that needs several subsets of one table searches it once `into` a superset and takes
    them from there (`source`)."""
    origin = quote_ident(source) if source else f"{quote_ident(database or database_name(cur))}.main.{quote_ident(table)}"
    cur.execute(f"create or replace temp table {quote_ident(into or table)} as "
                f"select * from {origin} "
                f"where {quote_ident(column)} in (select {quote_ident(column)} from {quote_ident(keys)})")


def run_rows(cur, stem: str, params: dict | None = None) -> list[tuple]:
    """Run a query file on this very cursor (its temporary tables included): all rows."""
    sql = sql_text(stem)
    install_layer(cur, sql)
    return cur.execute(sql, bind(sql, params)).fetchall()
