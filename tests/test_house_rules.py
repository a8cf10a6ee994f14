"""The house rules (STYLE.md), checked over the whole tree rather than module by module.

- every file in queries/ (subfolders too) opens with a header comment that has a `-- Grain:` line;
- the SQL passes sqlfluff with the repo's .sqlfluff (dialect duckdb, `$name` parameters);
- analysis/ and dashboard/ build no SQL with f-strings, `.format` or `%`, except identifiers that go
  through the one quoting helper, `analysis.db.quote_ident`, the names of bound parameters, the
  text of our own query files (`analysis.db.sql_text`) and the few fragments of SQL our code
  generates that OWN_SQL lists one by one, each with the reason it holds no value;
- analysis/ never imports streamlit and never reads the wall clock (in Python or in a query).
  time.perf_counter, time.monotonic and time.process_time are allowed: they measure a duration
  (progress bars, benchmarks) and never reach a result; what matters is that no figure depends on
  when the code runs.
"""
from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
SPARK_QUERIES = QUERIES / "spark"


def _query_files() -> list[Path]:
    return sorted(QUERIES.rglob("*.sql"))


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


# --- query headers -------------------------------------------------------------------------------


def _header(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[:next((i for i, line in enumerate(lines) if not line.startswith("--")), len(lines))]


def test_every_query_file_opens_with_a_header_comment_that_states_its_grain():
    # The grain ("one row per team x month") is what a reader and a golden-row test need first.
    files = _query_files()
    assert len(files) >= 75
    missing = [_rel(p) for p in files if not _header(p.read_text(encoding="utf-8"))]
    no_grain = [_rel(p) for p in files
                if not any(line.startswith("-- Grain:") for line in _header(p.read_text(encoding="utf-8")))]
    assert missing == [], f"no header comment: {missing}"
    assert no_grain == [], f"no '-- Grain:' line in the header: {no_grain}"


# --- sqlfluff ------------------------------------------------------------------------------------


def _lint(paths: list[str], config: Path = ROOT / ".sqlfluff") -> dict[str, list[str]]:
    """sqlfluff with the repo's .sqlfluff (or `config` on top of it: queries/spark/.sqlfluff, which only
    sets the dialect to sparksql and its `:name` parameters): {file: ["L12 P5 LT02 message", ...]} for
    files with violations."""
    from sqlfluff.core import FluffConfig, Linter

    # The templater is named here too: sqlfluff takes it only from the working directory's config or
    # this one, and queries/spark/.sqlfluff (a nested config) cannot set it.
    linter = Linter(config=FluffConfig.from_root(extra_config_path=str(config), overrides={"templater": "placeholder"}))
    # One process: sqlfluff's process pool, started from inside the test session (threads of DuckDB,
    # Streamlit and Playwright alive), once failed in its own locks ("cannot wait on un-acquired lock");
    # in process it is slower (about 20 s for queries/) but cannot fail that way.
    result = linter.lint_paths(tuple(paths), processes=1)
    found = {}
    for linted in result.as_records():
        if linted["violations"]:
            found[_rel(Path(linted["filepath"]).resolve())] = [
                f"L{v['start_line_no']} P{v['start_line_pos']} {v['code']} {v['description']}"
                for v in linted["violations"]]
    return found


def test_sqlfluff_reads_dollar_parameters_as_values_even_when_named_like_keywords(tmp_path):
    # `$end` and `$limit` would be keywords if the templater put the bare name in their place.
    sql = tmp_path / "params.sql"
    sql.write_text("-- Grain: one row per account.\nselect a.account_id\nfrom accounts as a\n"
                   "where a.placed_date between $start and $end and list_contains($teams, a.team)\n"
                   "order by a.account_id\nlimit $limit\n", encoding="utf-8")
    assert _lint([str(sql)]) == {}


def test_every_query_passes_sqlfluff_with_the_repo_config():
    started = time.perf_counter()
    # The Spark SQL variants (queries/spark/, issue 22) are linted as Spark SQL, everything else as DuckDB.
    found = _lint([str(p) for p in _query_files() if not p.is_relative_to(SPARK_QUERIES)])
    found |= _lint([str(SPARK_QUERIES)], SPARK_QUERIES / ".sqlfluff")
    report = "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in sorted(found.items()))
    assert found == {}, (f"sqlfluff found {sum(map(len, found.values()))} violations in {len(found)} files "
                         f"({time.perf_counter() - started:.0f} s):\n{report}")


# --- SQL built from strings ----------------------------------------------------------------------

SQL_SINKS = {"execute", "executemany", "sql", "query", "from_query", "sql_df", "rows", "_execute", "df"}
SQL_WORDS = re.compile(
    r"\b(select\b[\s\S]*\bfrom|insert\s+into|delete\s+from|update\s+\S+\s+set|create\s+(or\s+replace\s+)?"
    r"(temp\s+|temporary\s+)?(table|view|macro|index|schema)|drop\s+(table|view|macro)|alter\s+table|"
    r"copy\s*\(|copy\s+\S+\s+(to|from)|attach\s|detach\s|pragma\s|from\s+read_(csv|parquet|json))\b",
    re.IGNORECASE)
QUOTING_HELPER = "quote_ident"
QUERY_TEXT_HELPER = "sql_text"  # analysis.db.sql_text: the text of a file of queries/, SQL of our own

# SQL text of our own that is no identifier (an expression, a type name, a subquery the code
# generates), spliced where it is made. Each entry names the file, the function and the spliced
# expression as `ast.unparse` writes it, and says why it holds no value; the rule stays that values
# are bound. The check fails on an entry no longer needed, so the list cannot outgrow the code.
OWN_SQL = {
    ("analysis/chain.py", "append", "marks"): "one `?` placeholder per field: the values are bound",
    ("analysis/db.py", "macro_statement", "first.split(':', 1)[1].strip()"):
        "the `-- Macro: name(params)` signature on the first line of a query file",
    ("analysis/schema.py", "table_ddl", "SQL_TYPES[c.type]"): "a DuckDB type name of the contract",
    ("analysis/ingest/load.py", "rebuild_sql", "SQL_TYPES[c.type]"): "a DuckDB type name of the contract",
    ("analysis/ingest/load.py", "upsert_sql", "values"):
        "the stored value of each column (_stored_value): its quoted name or the contract's default",
    ("analysis/ingest/load.py", "rebuild_sql", "values"):
        "the stored value of each column (_stored_value): its quoted name or the contract's default",
    ("analysis/ingest/sources.py", "reader", "options"): "CSV_OPTIONS naming our own rejects tables (lit)",
    ("analysis/ingest/checks.py", "_typed", "raw"):
        "the column's raw text: a quoted column reference (s.\"name\") or null::varchar",
    ("analysis/ingest/checks.py", "checked_sql", "reader(source)"): "the scan of the file (sources.reader; path bound)",
    ("analysis/ingest/checks.py", "checked_sql", "''.join((', ' + c for c in after_typed))"):
        "the columns computed after typing (_cross_column_checks)",
    ("analysis/ingest/checks.py", "checked_sql", "', '.join(raw_cols + typed_cols)"):
        "each column's raw text and typed value (_column_checks: quoted names, our checks)",
    ("analysis/ingest/checks.py", "checked_sql", "reason"): "the reasons a row breaks the contract's rules",
    ("analysis/ingest/checks.py", "checked_sql", "replace"):
        "the stored value of each defaulted column (stored_value): the contract's default",
    ("analysis/ingest/checks.py", "duplicates_sql", "reason"):
        "our message (lit) naming the table's key columns",
    ("analysis/ingest/quarantine.py", "_quarantine_bad", "raw_text"):
        "each column of the file (quote_ident) written back as CSV text (_csv_field)",
    ("analysis/ingest/quarantine.py", "_quarantine_bad", "reader(source, '_ingest_reread', numbered=True)"):
        "the scan of the file (sources.reader; path bound)",
}
_PARAMETER_OPEN = re.compile(r"\$\w*$")  # literal text ending inside a `$name` parameter
_WORD = re.compile(r"\w*")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _parameter_names(node: ast.JoinedStr) -> set[int]:
    """The values of an f-string that only complete a bound parameter's name, `$q{i}_{name}`: a plain
    variable right inside a `$...` token names a parameter (the value itself is bound), never a value."""
    inside, found = False, set()
    for part in node.values:
        if isinstance(part, ast.Constant):
            inside = (inside and bool(_WORD.fullmatch(str(part.value)))) or bool(_PARAMETER_OPEN.search(str(part.value)))
        elif inside and isinstance(part.value, ast.Name) and part.conversion == -1 and part.format_spec is None:
            found.add(id(part))
        else:
            inside = False
    return found


class _Context:
    """What counts as identifier text at one place: the allowed expressions of OWN_SQL there and the
    local variables assigned once, from identifier text, in the enclosing function."""

    def __init__(self, own: frozenset[str] = frozenset(), names: frozenset[str] = frozenset()):
        self.own, self.names = own, names


def _is_identifier_text(node: ast.AST, ctx: _Context = _Context()) -> bool:
    """Text made only of constants, quote_ident(...) calls and SQL of our own: `quote_ident(x)`,
    `db.quote_ident(x)`, `'r.' + quote_ident(c)`, `', '.join(quote_ident(c) for c in cols)`,
    `', '.join(map(quote_ident, cols))`, `'a' if x else 'b'`, `sql_text(stem)` (a query file), a local
    variable assigned once from such text, `$q{i}` (a parameter's name) and the entries of OWN_SQL."""
    if ast.unparse(node) in ctx.own:
        return True
    if isinstance(node, ast.FormattedValue):
        return _is_identifier_text(node.value, ctx)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return node.id in ctx.names
    if isinstance(node, ast.JoinedStr):
        params = _parameter_names(node)
        return all(id(v) in params or _is_identifier_text(v, ctx) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_identifier_text(node.left, ctx) and _is_identifier_text(node.right, ctx)
    if isinstance(node, ast.IfExp):
        return _is_identifier_text(node.body, ctx) and _is_identifier_text(node.orelse, ctx)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in (QUOTING_HELPER, QUERY_TEXT_HELPER):
            return True
        if name == "join" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant) \
                and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                return _is_identifier_text(arg.elt, ctx)
            if isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "map" and arg.args:
                helper = arg.args[0]
                return getattr(helper, "id", getattr(helper, "attr", "")) == QUOTING_HELPER
    return False


def _scope_nodes(scope: ast.AST):
    """The nodes of a function (or module), not those of the functions nested in it."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))


def _identifier_names(scope: ast.AST, own: frozenset[str]) -> frozenset[str]:
    """Local variables bound once in `scope`, by `name = <identifier text>`: splicing one is splicing
    its text. A parameter, a loop variable or a name bound twice never counts."""
    bound: dict[str, int] = {}
    assigned: dict[str, ast.AST] = {}
    for node in _scope_nodes(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound[node.id] = bound.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            bound[node.arg] = bound.get(node.arg, 0) + 2
        elif isinstance(node, (ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom, ast.ExceptHandler)):
            others = getattr(node, "names", None) or [getattr(node, "name", None)]
            for other in others:
                name = getattr(other, "asname", None) or getattr(other, "name", other)
                if isinstance(name, str):
                    bound[name.split(".")[0]] = bound.get(name.split(".")[0], 0) + 2
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value
    names: set[str] = set()
    while True:  # a variable may be made of others
        more = {n for n, value in assigned.items() if n not in names and bound.get(n) == 1
                and _is_identifier_text(value, _Context(own, frozenset(names)))}
        if not more:
            return frozenset(names)
        names |= more


def _literal_text(node: ast.AST) -> str:
    """The constant parts of a string expression (what an f-string, .format or % is made of)."""
    parts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return " ".join(parts)


def _built_string(node: ast.AST, ctx: _Context = _Context()) -> str | None:
    """How a string expression is assembled from values: 'f-string', '.format' or '%', else None.
    An f-string whose every value is identifier text (see _is_identifier_text) counts as plain text."""
    if isinstance(node, ast.JoinedStr):
        params = _parameter_names(node)
        values = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        return "f-string" if values and not all(id(v) in params or _is_identifier_text(v, ctx) for v in values) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
        return ".format"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
            and isinstance(node.left.value, str):
        return "%"
    return None


def _sql_built_from_strings(path: Path, own_sql: dict | None = None) -> list[str]:
    """f-strings, .format and % that make SQL: passed to execute()/sql()/... or holding SQL words."""
    own_sql = OWN_SQL if own_sql is None else own_sql
    found = []  # (line, message)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # an f-string inside an f-string is reported once
            nested.update(id(v) for v in ast.walk(node) if v is not node and isinstance(v, ast.JoinedStr))
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, _SCOPES)]
    for scope in scopes:
        own = frozenset(expr for (file, function, expr) in own_sql
                        if file == _rel(path) and function == getattr(scope, "name", ""))
        ctx = _Context(own, _identifier_names(scope, own))
        for node in _scope_nodes(scope):
            if id(node) in nested:
                continue
            how = _built_string(node, ctx)
            if how and SQL_WORDS.search(_literal_text(node)):
                found.append((node.lineno, f"{_rel(path)}:{node.lineno}: SQL built with {how}"))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_SINKS:
                for arg in node.args[:1]:
                    how = _built_string(arg, ctx)
                    if how and not SQL_WORDS.search(_literal_text(arg)):  # not already reported above
                        found.append((arg.lineno, f"{_rel(path)}:{arg.lineno}: {how} passed to .{node.func.attr}()"))
    return [message for _, message in sorted(found)]


def test_no_sql_is_built_with_fstrings_format_or_percent_except_identifiers_through_quote_ident():
    # Values reach SQL as bound parameters ($name, ?); only identifiers are ever spliced, and only
    # through analysis.db.quote_ident, so one function decides how a name is quoted.
    files = _python_files("analysis", "dashboard")
    assert files
    offenders = [hit for path in files for hit in _sql_built_from_strings(path)]
    assert offenders == [], "\n".join(offenders)


def test_the_sql_string_check_catches_fstrings_format_and_percent_but_not_quoted_identifiers(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(con, table, name, x):\n"
        "    con.execute(f'select * from {table}')\n"              # 2: f-string SQL
        "    con.execute('delete from t where a = {}'.format(x))\n"  # 3: .format SQL
        "    q = 'select %s from t' % name\n"                        # 4: % SQL
        "    con.sql(f'{x}')\n"                                      # 5: an f-string sent to sql()
        "    con.execute(f'select * from {quote_ident(table)}')\n"   # fine: the quoting helper
        "    con.execute(f\"select {', '.join('r.' + quote_ident(c) for c in x)} from t as r\")\n"  # fine too
        "    con.execute(f\"select {', '.join('r.' + c for c in x)} from t as r\")\n"  # 8: not quoted
        "    con.execute('select * from t where a = $a', {'a': x})\n"  # fine: bound
        "    print(f'selected {x} rows from the file')\n"            # fine: not SQL
        "    return q\n", encoding="utf-8")
    assert _sql_built_from_strings(bad) == [
        "bad.py:2: SQL built with f-string", "bad.py:3: SQL built with .format",
        "bad.py:4: SQL built with %", "bad.py:5: f-string passed to .sql()", "bad.py:8: SQL built with f-string"]


def test_the_sql_string_check_follows_quoted_names_through_variables_and_parameter_names(tmp_path):
    code = tmp_path / "code.py"
    code.write_text(
        "def f(con, table, cols, x, stem):\n"
        "    name = quote_ident(table)\n"
        "    names = ', '.join(map(quote_ident, cols))\n"
        "    con.execute(f'select {names} from {name}')\n"                      # fine: each assigned once, quoted
        "    select = ', '.join(f'unnest(${c}) as {quote_ident(c)}' for c in cols)\n"
        "    con.execute(f'create temp table {name} as select {select}', {})\n"  # fine: $c names a parameter
        "    con.execute(f\"select * from {'a' if x else 'b'} where k = $k{x}\")\n"  # fine: constants, a name
        "    con.execute(f'create temp macro m() as table {sql_text(stem)}')\n"  # fine: a query file's text
        "    con.execute(f'select * from {table}')\n"                           # 9: a parameter
        "    again = quote_ident(x)\n"
        "    again = x\n"
        "    con.execute(f'select * from {again}')\n"                           # 12: bound twice
        "    con.execute(f'select * from t where a = ${x.y}')\n"                # 13: no plain name after $
        "    con.execute(f'select * from t where a = $a {x}')\n"                # 14: past the parameter
        "    own = x\n"
        "    con.execute(f'select * from t where {own}')\n"                     # 16: unless OWN_SQL lists it
        "    return names\n", encoding="utf-8")
    expected = ["code.py:9: SQL built with f-string", "code.py:12: SQL built with f-string",
                "code.py:13: SQL built with f-string", "code.py:14: SQL built with f-string"]
    assert _sql_built_from_strings(code) == expected + ["code.py:16: SQL built with f-string"]
    assert _sql_built_from_strings(code, {("code.py", "f", "own"): "a test"}) == expected
    assert _sql_built_from_strings(code, {("code.py", "g", "own"): "another function"}) == \
        expected + ["code.py:16: SQL built with f-string"]


@pytest.mark.parametrize("entry", sorted(OWN_SQL))
def test_every_own_sql_allowance_is_still_needed(entry):
    # Without the entry its file has an offender: an allowance outlives no code.
    path = ROOT / entry[0]
    assert path.exists(), entry
    without = {k: v for k, v in OWN_SQL.items() if k != entry}
    assert len(_sql_built_from_strings(path, without)) > len(_sql_built_from_strings(path)), entry


# --- analysis/: no streamlit, no wall clock ------------------------------------------------------

# Calls that read the wall clock, by the attribute called: datetime.now(), date.today(),
# pd.Timestamp.utcnow(), time.time(), ...; time.perf_counter/monotonic/process_time are durations.
CLOCK_ATTRIBUTES = {"now", "utcnow", "today"}
TIME_FUNCTIONS = {"time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime"}
CLOCK_STRINGS = {"now", "today"}  # pd.Timestamp("now"), pd.to_datetime("today"), np.datetime64("now")
SQL_CLOCK = re.compile(r"\b(current_timestamp|current_date|current_time|localtimestamp|now\s*\(|today\s*\(|"
                       r"get_current_timestamp|get_current_time|transaction_timestamp)", re.IGNORECASE)


def _streamlit_and_clock(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    from_time = set()  # names imported with `from time import time, ...`
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{_rel(path)}:{node.lineno}: imports {a.name}" for a in node.names
                      if a.name.split(".")[0] == "streamlit"]
        if isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] == "streamlit":
                found.append(f"{_rel(path)}:{node.lineno}: imports {node.module}")
            if node.module == "time":
                from_time |= {a.asname or a.name for a in node.names if a.name in TIME_FUNCTIONS}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else getattr(func.value, "attr", "")
            if func.attr in CLOCK_ATTRIBUTES or (owner == "time" and func.attr in TIME_FUNCTIONS):
                found.append(f"{_rel(path)}:{node.lineno}: {owner}.{func.attr}()")
                continue
        elif isinstance(func, ast.Name) and func.id in from_time:
            found.append(f"{_rel(path)}:{node.lineno}: {func.id}()")
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str) \
                and first.value.strip().lower() in CLOCK_STRINGS:
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "?")
            found.append(f"{_rel(path)}:{node.lineno}: {name}({first.value!r})")
    return found


def test_analysis_never_imports_streamlit_nor_reads_the_wall_clock():
    # analysis/ is a plain library: testable without a browser, and its figures depend on the data
    # and the arguments (as_of, date ranges), never on when it runs.
    files = _python_files("analysis")
    assert len(files) >= 20
    offenders = [hit for path in files for hit in _streamlit_and_clock(path)]
    assert offenders == [], "\n".join(offenders)


def test_no_query_reads_the_wall_clock():
    # The same promise in SQL: a query takes $as_of, $start, $end; comments may name the functions.
    offenders = []
    for path in _query_files():
        code = "\n".join(line.split("--")[0] for line in path.read_text(encoding="utf-8").splitlines())
        offenders += [f"{_rel(path)}: {m.group(0)}" for m in SQL_CLOCK.finditer(code)]
    assert offenders == []


def test_the_streamlit_and_clock_check_catches_each_way_in_and_allows_durations(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import streamlit as st\n"                               # 1
        "from streamlit.runtime import exists\n"                 # 2
        "from time import time as wall, perf_counter\n"
        "import time, datetime\n"
        "import pandas as pd\n"
        "a = datetime.datetime.now()\n"                          # 6
        "b = datetime.date.today()\n"                            # 7
        "c = time.time()\n"                                      # 8
        "d = wall()\n"                                           # 9
        "e = pd.Timestamp('now')\n"                              # 10
        "f = pd.Timestamp.utcnow()\n"                            # 11
        "g = time.perf_counter() + time.monotonic() + perf_counter()\n"
        "h = pd.Timestamp('2026-01-01')\n"
        "i = 'datetime.now() in a string is fine'\n", encoding="utf-8")
    assert _streamlit_and_clock(bad) == [
        "bad.py:1: imports streamlit", "bad.py:2: imports streamlit.runtime",
        "bad.py:6: datetime.now()", "bad.py:7: date.today()", "bad.py:8: time.time()", "bad.py:9: wall()",
        "bad.py:10: Timestamp('now')", "bad.py:11: Timestamp.utcnow()"]


@pytest.mark.parametrize("snippet", ["select now()", "where ts < current_date", "select today() as d"])
def test_the_sql_clock_pattern_catches_the_clock_functions(snippet):
    assert SQL_CLOCK.search(snippet)
