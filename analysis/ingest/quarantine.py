"""Quarantine: the rows of a file that break a rule and the rows DuckDB could not parse, each stored
with its physical line number and its raw text (the file is read a second time for that, only when
it has bad rows)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.db import quote_ident
from analysis.ingest.sources import Source, reader, run_reading
from analysis.ingest.sql import scalar, temp_table


FIELD_LIMIT = 1 << 30  # bytes of one CSV field for Python's csv module (its default, 131,072, raised an error)
BROKEN_QUOTE_REASON = ("malformed row: a quote on this line is left open (or followed by more text in its field); "
                       "this line is left out and reading resumes on the next line")

# --------------------------------------------------------------------------------------------
# Line numbers
# --------------------------------------------------------------------------------------------

def _count_newlines(path: Path) -> tuple[int, bool]:
    """Physical line breaks in a file and whether it ends with one (read in 16 MB chunks)."""
    count, last = 0, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(16 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count, last == b"\n"


def _record_lines(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """For every non-empty CSV record: DuckDB's line number for it and its first physical line.

    DuckDB numbers rows by line breaks outside quotes (blank lines included), so a record after a
    quoted field with line breaks has a smaller DuckDB number than its physical line. Only used for
    files where the two differ, found by counting line breaks.
    """
    import csv

    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))  # a value may be as long as DuckDB's line
    duck, phys = [], []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        records = 1
        start = reader.line_num + 1
        for row in reader:
            records += 1
            if row:
                duck.append(records)
                phys.append(start)
            start = reader.line_num + 1
    return np.asarray(duck, dtype=np.int64), np.asarray(phys, dtype=np.int64)


def line_numbers(source: Source, good_recs: np.ndarray, reject_lines: np.ndarray, staged: int) -> tuple[np.ndarray, np.ndarray]:
    """Physical line numbers (header = line 1) of quarantined good rows and of rejected rows.

    `good_recs` are 0-based positions among the rows DuckDB parsed, `reject_lines` DuckDB's line
    numbers of the rows it could not parse. For Parquet the "line" is the 1-based row number.
    """
    if source.kind == "parquet":
        return good_recs + 1, reject_lines
    rejects = np.sort(reject_lines)
    newlines, ends_with_newline = _count_newlines(source.reading)
    records = staged + len(rejects)
    # One record per line: rows DuckDB parsed fill the lines the rejected ones leave free.
    one_per_line = good_recs + 2 + np.searchsorted(rejects - 2 - np.arange(len(rejects)), good_recs, side="right")
    if newlines == records + (1 if ends_with_newline else 0):
        return one_per_line, rejects
    duck, phys = _record_lines(source.reading)
    good_phys = phys[~np.isin(duck, rejects)]
    if len(good_phys) != staged:  # the two readers disagree on the records: keep DuckDB's numbering
        return one_per_line, rejects
    reject_phys = phys[np.searchsorted(duck, rejects).clip(0, len(phys) - 1)] if len(phys) else rejects
    return good_phys[good_recs], reject_phys


# --------------------------------------------------------------------------------------------
# The quarantine rows
# --------------------------------------------------------------------------------------------

def _csv_field(expr: str) -> str:
    """A value written back as a CSV field (quoted when it needs to be), for the raw text."""
    return (f"case when {expr} is null then '' "
            f"when regexp_matches({expr}, '[\",\\r\\n]') then '\"' || replace({expr}, '\"', '\"\"') || '\"' "
            f"else {expr} end")


def _bad_rows(con) -> np.ndarray:
    """Positions (0-based, among the rows DuckDB parsed) of the checked rows that break a rule; their
    rowids are kept in `_ingest_bad`. A row's position is its rank by rowid (see checks.checked_sql)."""
    if not scalar(con, "select count(*) > 0 from _ingest_checked where reason is not null"):
        return np.empty(0, dtype=np.int64)
    con.execute("""
        create or replace temp table _ingest_bad as
        select row_id, rec
        from (select rowid as row_id, row_number() over (order by rowid) - 1 as rec, reason from _ingest_checked)
        where reason is not null""")
    return np.asarray(con.execute("select rec from _ingest_bad order by rec").fetchnumpy()["rec"], dtype=np.int64)


def _rejects_exist(con) -> bool:
    return scalar(con, "select count(*) > 0 from duckdb_tables() where table_name = '_ingest_rejects'")


def quote_rejected(con) -> bool:
    """Whether DuckDB met a quote it could not parse in the file just read (see quotes.py)."""
    return _rejects_exist(con) and scalar(con, "select count(*) > 0 from _ingest_rejects where error_type = 'UNQUOTED VALUE'")


def _reject_lines(con, source: Source) -> np.ndarray:
    """DuckDB's line numbers of the rows it could not parse (CSV only)."""
    rejects_exist = source.kind == "csv" and _rejects_exist(con)
    return np.asarray(con.execute("select distinct line from _ingest_rejects order by line").fetchnumpy()["line"]
                      if rejects_exist else [], dtype=np.int64)


def _quarantine_bad(con, source: Source, bad: np.ndarray, lines: np.ndarray, params: dict) -> None:
    temp_table(con, "_ingest_lines", {"rec": bad.tolist(), "line": lines.tolist()})
    # The raw text: the file is read a second time (only when it has bad rows), the same way.
    raw_text = " || ',' || ".join(_csv_field(f"r.{quote_ident(c)}") for c in source.file_columns)
    run_reading(con, source, f"""
                insert into quarantine
                select $import_id, $table, $file, l.line, {raw_text}, c.reason
                from _ingest_bad as b
                join _ingest_checked as c on c.rowid = b.row_id
                join _ingest_lines as l on l.rec = b.rec
                join {reader(source, "_ingest_reread", numbered=True)} as r on r._rec = b.rec""", params)


def _quarantine_rejects(con, reject_lines: np.ndarray, lines: np.ndarray, fields: int, params: dict) -> None:
    """DuckDB's rejects, one row per line, with its kinds of error in words (a short row has one
    reject per missing field)."""
    temp_table(con, "_ingest_reject_lines", {"duck_line": reject_lines.tolist(), "line": lines.tolist()})
    con.execute("""
                insert into quarantine
                select $import_id, $table, $file, l.line, min(j.csv_line),
                       'malformed row: ' || string_agg(distinct case j.error_type
                           when 'MISSING COLUMNS' then 'fewer fields than the header''s ' || $fields
                           when 'TOO MANY COLUMNS' then 'more fields than the header''s ' || $fields
                           when 'INVALID ENCODING' then 'not UTF-8 text (bytes of another encoding); save the file as UTF-8'
                           when 'UNQUOTED VALUE' then 'a quoted value followed by more text in its field'
                           else j.error_message end, '; ')
                from _ingest_rejects as j
                join _ingest_reject_lines as l on l.duck_line = j.line
                group by l.line""", {**params, "fields": fields})


def _quarantine_broken_quotes(con, broken: list[tuple[int, bytes]], params: dict) -> None:
    temp_table(con, "_ingest_reject_lines", {"line": [line for line, _ in broken],
                                             "raw": [text.decode("utf-8", "replace") for _, text in broken]})
    con.execute("insert into quarantine select $import_id, $table, $file, line, raw, $reason from _ingest_reject_lines",
                {**params, "reason": BROKEN_QUOTE_REASON})


def quarantine_rows(con, source: Source, import_id: int, staged: int, broken: list[tuple[int, bytes]]) -> tuple[int, int]:
    """Store the file's bad rows in `quarantine`: rows that break a rule, rows DuckDB could not
    parse, and the lines set aside for a broken quote (`broken`: line number and text, quotes.py).
    `staged` is the number of rows DuckDB parsed. Returns (rows not parsed, rows quarantined)."""
    bad = _bad_rows(con)
    reject_lines = _reject_lines(con, source)
    params = {"import_id": import_id, "table": source.table.name, "file": source.name}
    if len(bad) or len(reject_lines):
        good_lines, rej_lines = line_numbers(source, bad, reject_lines, staged)
        if len(bad):
            _quarantine_bad(con, source, bad, good_lines, params)
        if len(reject_lines):
            _quarantine_rejects(con, reject_lines, rej_lines, len(source.file_columns), params)
    if broken:
        _quarantine_broken_quotes(con, broken, params)
    unparsed = len(reject_lines) + len(broken)
    return unparsed, len(bad) + unparsed
