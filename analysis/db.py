"""Connections, the query files in `queries/`, and the one way to run them.

Every query runs on its own cursor (`cursor(con)`), which carries the semantic layer: the
business definitions in `queries/semantic/` (NPS bands, complaint facts, placed calls, the
shared filter predicate, ...) created as temporary macros. DuckDB keeps temporary objects per
connection and a read-only database accepts nothing else, so the layer is created with each cursor
rather than stored in the file: it always matches the code. A cursor made for a query gets only the
definitions that query calls (and theirs), since each costs about a millisecond to create.

- `query_df` / `query_rows` run a query file by its stem and bind the parameters the file uses,
  ignoring the rest (DuckDB refuses unused ones), so callers pass one dict of everything they know.
- `create_table` makes a table from a query file; `quote_ident` is the only way an identifier
  reaches SQL text; values are always bound.
- `ratio` is the one safe division: an empty or zero denominator gives None, never 0.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analysis import store
from analysis.errors import UserError

if TYPE_CHECKING:  # pandas is imported where a frame is made: a command that makes none (audit) starts 1 s sooner
    import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
SEMANTIC = QUERIES / "semantic"
DEFAULT_DB = ROOT / "data" / "demo.duckdb"


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a database file; read-only opening of a missing file is a user error.

    A read-only connection opens the current version of `path` (analysis.store) and keeps it, however
    many versions are published while it is open. Writers use `analysis.store.writing`, not this.
    """
    path = Path(path)
    target = store.current(path) if read_only else path
    if read_only and target is None:
        raise UserError(f"database {path} does not exist: build it with `python -m analysis demo --db {path}` or import your data with `python -m analysis ingest DIR --db {path}`")
    for attempt in (1, 2):
        try:
            con = duckdb.connect(str(target), read_only=read_only)
            break
        except duckdb.Error as exc:
            # A version superseded (and deleted) between finding and opening it: open the new one.
            newer = store.current(path) if read_only else None
            if attempt == 1 and newer is not None and newer != target:
                target = newer
                continue
            raise UserError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from None
    con.execute("set TimeZone = 'UTC'")
    return con


@lru_cache(maxsize=None)
def sql_text(stem: str) -> str:
    """The text of `queries/<stem>.sql` (`semantic/<name>` for a file of the layer)."""
    path = QUERIES / f"{stem}.sql"
    return path.read_text(encoding="utf-8")


_COMMENT_OR_STRING = re.compile(r"--[^\n]*|'(?:[^']|'')*'")
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=None)
def parameters(sql: str) -> frozenset[str]:
    """The `$name` parameters a statement uses (comments and string literals are not read)."""
    return frozenset(_PARAMETER.findall(_COMMENT_OR_STRING.sub(" ", sql)))


def bind(sql: str, params: dict | None) -> dict:
    """The subset of `params` that `sql` uses; a parameter it uses but `params` lacks is an error."""
    used = parameters(sql)
    params = params or {}
    missing = used - params.keys()
    if missing:
        raise KeyError(f"query parameters not given: {', '.join(sorted(missing))}")
    return {k: params[k] for k in used}


# --- the semantic layer -------------------------------------------------------------------------

@lru_cache(maxsize=None)
def macro_statement(stem: str) -> str:
    """`create or replace temp macro ... as table <query>` for a query file written as a table macro:
    its first line `-- Macro: name(p_a, p_b)` gives the name and parameters, which the query reads
    as plain names (no `$`)."""
    text = sql_text(stem)
    first = text.splitlines()[0]
    if not first.startswith("-- Macro:"):
        raise ValueError(f"queries/{stem}.sql does not open with a `-- Macro: name(params)` line")
    return f"create or replace temp macro {first.split(':', 1)[1].strip()} as table\n{text}"


@lru_cache(maxsize=1)
def _layer() -> tuple[tuple[str, str, frozenset[str]], ...]:
    """(name, create statement, the layer's names it calls) of every object of the semantic layer, each
    after those it calls (DuckDB binds a macro when it is created): the scalar macros of
    `queries/semantic/macros.sql` (statements ending with `;` at a line end) and every other file
    there, each one table macro (`macro_statement`)."""
    found: dict[str, str] = {}
    for stmt in sql_text("semantic/macros").split(";\n"):
        body = "\n".join(line for line in stmt.splitlines() if not line.lstrip().startswith("--")).strip()
        if body:
            found[body.split("(", 1)[0].split()[-1]] = body
    for path in sorted(SEMANTIC.glob("*.sql")):
        if path.stem != "macros":
            found[path.stem] = macro_statement(f"semantic/{path.stem}")
    calls = {name: _names_used(stmt, tuple(n for n in found if n != name)) for name, stmt in found.items()}
    ordered: list[str] = []

    def place(name: str) -> None:
        if name not in ordered:
            for dep in sorted(calls[name]):
                place(dep)
            ordered.append(name)

    for name in found:
        place(name)
    return tuple((name, found[name], calls[name]) for name in ordered)


def _names_used(sql: str, names: tuple[str, ...]) -> frozenset[str]:
    """Which of `names` the SQL calls (`name(`), comments and strings aside."""
    code = _COMMENT_OR_STRING.sub(" ", sql)
    return frozenset(n for n in names if re.search(rf"\b{n}\s*\(", code))


@lru_cache(maxsize=1024)
def _needed(sql: str | None) -> tuple[str, ...]:
    """The create statements a statement needs: the layer's objects it calls, and theirs in turn
    (all of them when `sql` is None), in dependency order."""
    layer = _layer()
    if sql is None:
        return tuple(stmt for _, stmt, _ in layer)
    deps = {name: used for name, _, used in layer}
    want = set(_names_used(sql, tuple(deps)))
    todo = list(want)
    while todo:
        for dep in deps[todo.pop()] - want:
            want.add(dep)
            todo.append(dep)
    return tuple(stmt for name, stmt, _ in layer if name in want)


def install_layer(cur, sql: str | None = None) -> None:
    """Create the semantic layer's macros on a cursor: those `sql` calls (with what they call), or all.
    A table macro whose source tables this database lacks is left out (a query that needs it then
    names the missing table)."""
    for stmt in _needed(sql):
        try:
            cur.execute(stmt)
        except duckdb.CatalogException:
            pass


def install_macro(cur, stem: str) -> None:
    """Create the table macro of a query file (`-- Macro: ...`, e.g. a rule query) on a cursor, after
    the semantic layer it calls."""
    statement = macro_statement(stem)
    install_layer(cur, statement)
    cur.execute(statement)


def cursor(con, sql: str | None = None):
    """A new cursor of `con` with the semantic layer installed: the part `sql` needs, or all of it.
    (Creating an object costs about a millisecond, so a query pays only for the definitions it reads.)"""
    cur = con.cursor()
    install_layer(cur, sql)
    return cur


# --- running queries ----------------------------------------------------------------------------

def query_df(con, stem: str, params: dict | None = None, frames: dict | None = None) -> pd.DataFrame:
    """Run a query file on its own cursor (with the semantic layer) and return a pandas DataFrame.
    `frames` are DataFrames the query reads by name, registered on that cursor only."""
    return sql_df(con, sql_text(stem), params, frames)


def query_rows(con, stem: str, params: dict | None = None) -> list[tuple]:
    """Run a query file on its own cursor (with the semantic layer) and return all rows."""
    sql = sql_text(stem)
    cur = cursor(con, sql)
    try:
        return _execute(cur, sql, bind(sql, params)).fetchall()
    finally:
        cur.close()


def sql_df(con, sql: str, params: dict | None = None, frames: dict | None = None) -> pd.DataFrame:
    """Run SQL text (a query file's) on its own cursor with the semantic layer: a DataFrame."""
    cur = cursor(con, sql)
    try:
        for name, frame in (frames or {}).items():
            cur.register(name, frame)
        return _execute(cur, sql, bind(sql, params)).df()
    finally:
        cur.close()


def rows(con, sql: str, params: dict | list | None = None) -> list[tuple]:
    """Run a small inline statement (catalog look-ups, meta) on its own plain cursor: all rows.
    A list binds positional `?` parameters as given; a dict binds the `$names` the statement uses."""
    cur = con.cursor()
    try:
        return _execute(cur, sql, params if isinstance(params, list) else bind(sql, params)).fetchall()
    finally:
        cur.close()


def _execute(cur, sql: str, params):
    return cur.execute(sql, params) if params else cur.execute(sql)


def create_table(con, name: str, stem: str, params: dict | None = None, *, temp: bool = False,
                 here: bool = False) -> None:
    """`create or replace [temp] table <name> as <queries/stem.sql>`, the file's parameters bound.

    It runs on a cursor of its own, unless `temp` or `here`: then on `con` itself, a cursor that the
    caller keeps (a temp table, or a DataFrame registered there, lives on that cursor only), with the
    semantic layer the query needs created on it first."""
    sql = sql_text(stem)
    statement = f"create or replace {'temp table' if temp else 'table'} {quote_ident(name)} as\n{sql}"
    if temp or here:
        install_layer(con, sql)
        _execute(con, statement, bind(sql, params))
        return
    cur = cursor(con, sql)
    try:
        _execute(cur, statement, bind(sql, params))
    finally:
        cur.close()


def quote_ident(name: str) -> str:
    """An identifier (table or column name) quoted for SQL text: the one way a name enters SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def ratio(num, den, scale: float = 1.0):
    """scale x num / den as a float, or None when the denominator is missing, NaN or zero."""
    import pandas as pd

    if den is None or pd.isna(den) or float(den) == 0:
        return None
    return scale * float(num) / float(den)


def ratio_column(num: pd.Series, den: pd.Series, scale: float = 1.0) -> pd.Series:
    """`ratio` element-wise over two aligned columns (float64; None becomes NaN)."""
    import pandas as pd

    return pd.Series([ratio(n, d, scale) for n, d in zip(num, den)], index=num.index, dtype="float64")


# --- catalog and meta ---------------------------------------------------------------------------

def table_exists(con, name: str) -> bool:
    return bool(rows(con, "select 1 from information_schema.tables where table_name = ?", [name]))


def get_meta(con, key: str, default: str | None = None) -> str | None:
    if not table_exists(con, "meta"):
        return default
    found = rows(con, "select value from meta where key = ?", [key])
    return found[0][0] if found else default


def set_meta(con, key: str, value: str) -> None:
    con.execute("insert or replace into meta values (?, ?)", [key, value])
