"""The house rules (STYLE.md), checked over the whole tree rather than module by module.

- every file in queries/ (subfolders too) opens with a header comment that has a `-- Grain:` line;
- the SQL passes sqlfluff with the repo's .sqlfluff (dialect duckdb, `$name` parameters);
- analysis/ and dashboard/ build no SQL with f-strings, `.format` or `%`, except identifiers that go
  through the one quoting helper, `analysis.db.quote_ident`;
- analysis/ never imports streamlit and never reads the wall clock (in Python or in a query).
  time.perf_counter, time.monotonic and time.process_time are allowed: they measure a duration
  (progress bars, benchmarks) and never reach a result; what matters is that no figure depends on
  when the code runs.
"""
from __future__ import annotations

import ast
import os
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"


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


def _lint(paths: list[str]) -> dict[str, list[str]]:
    """sqlfluff with the repo's .sqlfluff: {file: ["L12 P5 LT02 message", ...]} for files with violations."""
    from sqlfluff.core import FluffConfig, Linter

    linter = Linter(config=FluffConfig.from_root(extra_config_path=str(ROOT / ".sqlfluff")))
    # Two processes: parsing dominates (about 0.2 s a file with the duckdb grammar) and halves with two.
    result = linter.lint_paths(tuple(paths), processes=min(2, os.cpu_count() or 1))
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
    found = _lint([str(QUERIES)])
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


def _is_identifier_text(node: ast.AST) -> bool:
    """Text made only of constants and quote_ident(...) calls: `quote_ident(x)`, `db.quote_ident(x)`,
    `'r.' + quote_ident(c)`, `', '.join(quote_ident(c) for c in cols)`, `', '.join(map(quote_ident, cols))`."""
    if isinstance(node, ast.FormattedValue):
        return _is_identifier_text(node.value)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return all(_is_identifier_text(v) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_identifier_text(node.left) and _is_identifier_text(node.right)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == QUOTING_HELPER:
            return True
        if name == "join" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant) \
                and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                return _is_identifier_text(arg.elt)
            if isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "map" and arg.args:
                helper = arg.args[0]
                return getattr(helper, "id", getattr(helper, "attr", "")) == QUOTING_HELPER
    return False


def _literal_text(node: ast.AST) -> str:
    """The constant parts of a string expression (what an f-string, .format or % is made of)."""
    parts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return " ".join(parts)


def _built_string(node: ast.AST) -> str | None:
    """How a string expression is assembled from values: 'f-string', '.format' or '%', else None.
    An f-string whose every value is quote_ident(...) counts as plain text."""
    if isinstance(node, ast.JoinedStr):
        values = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        return "f-string" if values and not all(_is_identifier_text(v) for v in values) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
        return ".format"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
            and isinstance(node.left.value, str):
        return "%"
    return None


def _sql_built_from_strings(path: Path) -> list[str]:
    """f-strings, .format and % that make SQL: passed to execute()/sql()/... or holding SQL words."""
    found = []  # (line, message)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # an f-string inside an f-string is reported once
            nested.update(id(v) for v in ast.walk(node) if v is not node and isinstance(v, ast.JoinedStr))
    for node in ast.walk(tree):
        if id(node) in nested:
            continue
        how = _built_string(node)
        if how and SQL_WORDS.search(_literal_text(node)):
            found.append((node.lineno, f"{_rel(path)}:{node.lineno}: SQL built with {how}"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_SINKS:
            for arg in node.args[:1]:
                how = _built_string(arg)
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
