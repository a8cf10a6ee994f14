"""The project's DuckDB queries as Spark SQL: one source of truth, transpiled with sqlglot.

`spark_sql(stem)` reads `queries/<stem>.sql` (or, where a query cannot be made portable, the Spark
variant kept beside it as `queries/spark/<stem>.sql`, Spark SQL with the same `$name` parameters) and:

1. expands the semantic layer (`queries/semantic/`), which Spark has no macros for: each scalar
   macro of `macros.sql` is inlined at its calls with its arguments in place of its parameters, and
   each table macro (a file opening with `-- Macro: name(params)`) becomes a subquery;
2. rewrites what sqlglot's DuckDB -> Spark mapping cannot know or does not map (`rewrite`):
   - `timezone(tz, x)` means two things in DuckDB by the type of x: an instant (timestamptz) gives
     its wall-clock time in tz (Spark `from_utc_timestamp`), a wall-clock time (timestamp) gives the
     instant it is in tz (Spark `to_utc_timestamp`). A wall-clock time here is what the queries make
     as one: a cast to timestamp, `generate_series` output, or either plus an interval (`_naive`);
     every other value is an instant (the contract's timestamps are instants, read in a UTC session);
   - `time_bucket(interval, ts)` -> the instant rounded down to the interval on microseconds since
     the epoch (DuckDB's origin, 2000-01-03, lies on every bucket of a whole number of minutes);
   - `epoch_us` -> `unix_micros`; `len` of a list -> `size`; `isodow` -> `weekday + 1` (sqlglot writes
     `dayofweek % 7 + 1`, which gives Sunday 2 in Spark); `quantile_cont` -> `percentile` (exact,
     interpolated, as DuckDB's); `generate_series(...) as g (m)` in FROM -> a subquery exploding
     `sequence(...)`;
3. writes Spark SQL with sqlglot; `$name` parameters become Spark named parameter markers `:name`,
   bound by `run` through `spark.sql(args=...)`: a value never enters the SQL text.

`run(spark, stem, params)` runs one and returns a pandas DataFrame with DuckDB's column types
(dates as datetime64, decimals as float, counts as int64), so the Python after the SQL is shared.
"""
from __future__ import annotations

import re
from functools import lru_cache

from analysis.db import QUERIES, SEMANTIC, sql_text

SPARK_QUERIES = QUERIES / "spark"
_MACRO = re.compile(r"create\s+or\s+replace\s+temp\s+macro\s+(\w+)\s*\(([^)]*)\)\s+as\s+(.*)$", re.S | re.I)
_INTERVAL_US = {"second": 1_000_000, "minute": 60_000_000, "hour": 3_600_000_000, "day": 86_400_000_000}


def _sqlglot():
    try:
        import sqlglot
    except ImportError:
        from analysis.errors import UserError
        from analysis.spark.session import INSTALL

        raise UserError(f"--engine spark needs sqlglot, which is not installed: run `{INSTALL}`") from None
    return sqlglot


def _uncommented(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


@lru_cache(maxsize=1)
def _scalar_macros() -> dict:
    """name -> (parameter names, body expression) of every macro in queries/semantic/macros.sql."""
    sqlglot = _sqlglot()
    found = {}
    for stmt in sql_text("semantic/macros").split(";\n"):
        body = _uncommented(stmt).strip().rstrip(";")
        match = _MACRO.match(body)
        if match:
            params = [p.strip().lower() for p in match.group(2).split(",") if p.strip()]
            found[match.group(1).lower()] = (params, sqlglot.parse_one(match.group(3), read="duckdb"))
    return found


@lru_cache(maxsize=1)
def _table_macros() -> dict:
    """name -> (parameter names, query) of every table macro of the semantic layer (`-- Macro:` files)."""
    sqlglot = _sqlglot()
    found = {}
    for path in sorted(SEMANTIC.glob("*.sql")):
        if path.stem == "macros":
            continue
        text = sql_text(f"semantic/{path.stem}")
        first = text.splitlines()[0]
        if not first.startswith("-- Macro:"):
            continue
        signature = first.split(":", 1)[1].strip()
        name, params = signature.split("(", 1)
        params = [p.strip().lower() for p in params.rstrip(")").split(",") if p.strip()]
        found[name.strip().lower()] = (params, sqlglot.parse_one(text, read="duckdb"))
    return found


def _substitute(body, params: list[str], args: list):
    """A copy of `body` with each unqualified column named like a parameter replaced by its argument."""
    from sqlglot import exp

    values = dict(zip(params, args))

    def swap(node):
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in values:
            return exp.Paren(this=values[node.name.lower()].copy())
        return node

    return body.copy().transform(swap)


def _own_ctes(query, prefix: str):
    """The table macro's query with its CTEs renamed `<macro>__<name>`: sqlglot's Spark output moves every
    CTE to the top of the statement, where a macro's `final` would meet the query's own."""
    from sqlglot import exp

    names = {cte.alias.lower() for cte in query.find_all(exp.CTE)}
    if not names:
        return query

    def rename(node):
        if isinstance(node, exp.CTE) and node.alias.lower() in names:
            node.set("alias", exp.TableAlias(this=exp.to_identifier(f"{prefix}__{node.alias.lower()}")))
        elif isinstance(node, exp.Table) and not node.db and isinstance(node.this, exp.Identifier) \
                and node.name.lower() in names:
            alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name.lower()))
            return exp.Table(this=exp.to_identifier(f"{prefix}__{node.name.lower()}"), alias=alias)
        return node

    return query.transform(rename)


def _unparen(node):
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node


def expand(tree):
    """The tree with every call of the semantic layer's macros replaced by its definition."""
    from sqlglot import exp

    scalars, tables = _scalar_macros(), _table_macros()
    for _ in range(50):  # macros call macros: until none is left (the layer is acyclic)
        changed = False

        def swap(node):
            nonlocal changed
            if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous) \
                    and node.this.name.lower() in tables:
                params, query = tables[node.this.name.lower()]
                changed = True
                alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.this.name.lower()))
                body = _own_ctes(_substitute(query, params, node.this.expressions), node.this.name.lower())
                return exp.Subquery(this=body, alias=alias)
            if isinstance(node, exp.Anonymous) and node.name.lower() in scalars:
                params, body = scalars[node.name.lower()]
                if len(params) != len(node.expressions):
                    raise ValueError(f"macro {node.name} takes {len(params)} arguments, not {len(node.expressions)}")
                changed = True
                return exp.Paren(this=_substitute(body, params, node.expressions))
            return node

        tree = tree.transform(swap)
        if not changed:
            return tree
    raise ValueError("the semantic layer's macros call each other without end")


def _call_end(text: str, open_at: int) -> int:
    """The index just past the parenthesis that closes the one at `open_at` (strings and comments skipped)."""
    depth, i = 0, open_at
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            i = text.index(ch, i + 1)
        elif text.startswith("--", i):
            i = text.index("\n", i)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unclosed call at {text[open_at - 20:open_at + 20]!r}")


def inline_macros(text: str) -> str:
    """A Spark variant's text with each call of a scalar macro of the semantic layer (e.g. `rule_selects`)
    replaced by that macro's definition, expanded and transpiled as `expand` and `rewrite` do for the
    DuckDB queries: a variant written by hand still takes each business definition from its one home.
    The call's arguments are Spark SQL (`:name` markers, columns, casts); the rest of the text is kept as
    written, so what the variant chose to write (its date patterns, its quoting) is not re-printed."""
    sqlglot = _sqlglot()
    names = _scalar_macros()
    call = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\s*\(", re.I)
    out, at = [], 0
    code = _code_mask(text)
    for match in call.finditer(text):
        if match.start() < at or not code[match.start()]:
            continue
        end = _call_end(text, match.end() - 1)
        tree = rewrite(expand(sqlglot.parse_one("select " + text[match.start():end], read="spark")))
        out += [text[at:match.start()], "(", tree.expressions[0].sql(dialect="spark"), ")"]
        at = end
    return "".join(out) + text[at:]


# Spark SQL's comments and string literals (single or double quoted, backslash escapes): not code.
_COMMENT_OR_STRING = re.compile(r"--[^\n]*|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_MARKER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _code_mask(text: str) -> list[bool]:
    """Per character: True where it is SQL code, False inside a comment or a string literal."""
    mask = [True] * len(text)
    for found in _COMMENT_OR_STRING.finditer(text):
        mask[found.start():found.end()] = [False] * (found.end() - found.start())
    return mask


def markers(text: str) -> frozenset[str]:
    """The `:name` parameter markers of a Spark SQL text (comments and string literals are not read)."""
    return frozenset(_MARKER.findall(_COMMENT_OR_STRING.sub(" ", text)))


def bind_markers(used: frozenset[str], params: dict | None) -> dict:
    """The values of the markers `used`, from `params` (bound, never pasted); a missing one is an error."""
    missing = used - (params or {}).keys()
    if missing:
        raise KeyError(f"query parameters not given: {', '.join(sorted(missing))}")
    return {k: params[k] for k in used}


def _series_columns(tree) -> set[tuple[str, str]]:
    """(table alias, column) of every `generate_series(...) as g (m)`: wall-clock times, not instants."""
    from sqlglot import exp

    found = set()
    for table in tree.find_all(exp.Table):
        alias = table.args.get("alias")
        if isinstance(table.this, exp.GenerateSeries) and alias is not None:
            found |= {(alias.name.lower(), c.name.lower()) for c in alias.columns}
    return found


def _naive(node, series: set) -> bool:
    """Whether an expression is a wall-clock time (DuckDB timestamp) rather than an instant."""
    from sqlglot import exp

    node = _unparen(node)
    if isinstance(node, exp.Cast):
        return node.to.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)
    if isinstance(node, (exp.Add, exp.Sub)):
        return _naive(node.this, series)
    if isinstance(node, exp.Column):
        return (node.table.lower(), node.name.lower()) in series
    return False


def _interval_us(interval) -> int:
    from sqlglot import exp

    if not isinstance(interval, exp.Interval):
        raise ValueError(f"time_bucket needs a literal interval, not {interval.sql()}")
    unit = interval.text("unit").lower().rstrip("s")
    return int(interval.this.name) * _INTERVAL_US[unit]


def rewrite(tree):
    """DuckDB functions whose Spark meaning sqlglot cannot know or does not map (module docstring)."""
    from sqlglot import exp

    series = _series_columns(tree)

    def fn(name, *args):
        return exp.Anonymous(this=name, expressions=list(args))

    def swap(node):
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name == "timezone" and len(node.expressions) == 2:
                zone, value = node.expressions
                return fn("to_utc_timestamp" if _naive(value, series) else "from_utc_timestamp", value, zone)
            if name == "epoch_us":
                return fn("unix_micros", *node.expressions)
        if isinstance(node, exp.DateBin):
            us = exp.Literal.number(_interval_us(node.this))
            micros = fn("unix_micros", node.expression)
            return fn("timestamp_micros", exp.Sub(this=micros, expression=fn("pmod", micros.copy(), us)))
        if isinstance(node, exp.Length) and _is_list(_unparen(node.this)):
            return fn("size", node.this)
        if isinstance(node, exp.DayOfWeekIso):
            return exp.Paren(this=exp.Add(this=fn("weekday", node.this), expression=exp.Literal.number(1)))
        if isinstance(node, exp.PercentileCont) and node.expression is not None:
            return fn("percentile", node.this, node.expression)
        if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
            alias = node.args["alias"]
            g = node.this
            column = alias.columns[0].name if alias.columns else "generate_series"
            inner = exp.select(exp.alias_(exp.Explode(this=fn("sequence", g.args["start"], g.args["end"], g.args["step"])),
                                          column)).subquery(alias.name)
            return inner
        return node

    for _ in range(20):  # a replaced node's arguments are not visited by the same pass: until it holds
        done = tree.transform(swap)
        if done == tree:
            return done
        tree = done
    raise ValueError("rewriting for Spark did not settle")


def _is_list(node) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Array) or (isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.ARRAY)


def source_text(stem: str) -> tuple[str, bool]:
    """(SQL text, is a Spark variant): queries/spark/<stem>.sql when there is one, else queries/<stem>.sql."""
    variant = SPARK_QUERIES / f"{stem}.sql"
    if variant.exists():
        return variant.read_text(encoding="utf-8"), True
    return sql_text(stem), False


@lru_cache(maxsize=None)
def _compiled(stem: str) -> tuple[str, frozenset[str]]:
    sqlglot = _sqlglot()
    from sqlglot import exp

    text, variant = source_text(stem)
    if variant:  # Spark SQL as written; its `$name` parameters (sqlglot: ${name}) become `:name` markers
        tree = sqlglot.parse_one(text, read="spark").transform(
            lambda node: exp.Placeholder(this=node.name) if isinstance(node, exp.Parameter) else node)
    else:
        tree = rewrite(expand(sqlglot.parse_one(text, read="duckdb")))
    names = frozenset(p.name for p in tree.find_all(exp.Placeholder))
    return tree.sql(dialect="spark"), names


def spark_sql(stem: str) -> str:
    """The Spark SQL of query `stem`: its Spark variant as written, or the DuckDB query transpiled."""
    return _compiled(stem)[0]


def spark_args(stem: str, params: dict | None) -> dict:
    """The parameters query `stem` uses (`:name` markers), from `params` (bound, never pasted)."""
    return bind_markers(_compiled(stem)[1], params)


def run(spark, stem: str, params: dict | None = None):
    """Run query `stem` on Spark: a pandas DataFrame typed as DuckDB's `.df()` types it."""
    import pandas as pd

    sql = spark_sql(stem)
    frame = spark.sql(sql, args=spark_args(stem, params))
    fields = frame.schema.fields
    rows = frame.collect()
    data = {}
    for i, field in enumerate(fields):
        values = [r[i] for r in rows]
        kind = field.dataType.typeName()
        if kind == "date":
            data[field.name] = pd.to_datetime(pd.Series(values, dtype="object"))
        elif kind == "decimal" or kind in ("double", "float"):
            data[field.name] = pd.Series([None if v is None else float(v) for v in values], dtype="float64")
        elif kind in ("long", "integer", "short", "byte") and None not in values:
            data[field.name] = pd.Series(values, dtype="int64")
        else:
            data[field.name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data, columns=[f.name for f in fields])

