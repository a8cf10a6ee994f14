"""`python -m analysis ingest DIR --db FILE`: import a directory in the SPEC section 1 contract.

How it works, per file (all of it inside one transaction, so a failure leaves the database as it was):
1. One set-based query reads the file as text (`read_csv(all_varchar = true, store_rejects = true)`
   or `read_parquet`), types every column (`try_cast`, regular expressions, the zone list of
   `pg_timezone_names()`) and gives every row the list of rules it breaks; rows DuckDB cannot parse
   (wrong number of fields, bad UTF-8) land in its rejects table. It keeps file order, so a row's
   position in the file is its rank by `rowid` in the table it creates (rowids of a table made in a
   transaction start from a large base). Two updates follow: unknown account_ids, and
   duplicate keys (the first valid occurrence in the file is kept).
2. Valid rows replace the rows with the same key (INSERT OR REPLACE, or for a file at least as big
   as its table a rebuild of the table with the primary key built last: `rebuild_sql`), the others go to `quarantine`
   with their line number and raw text (the file is read again for that, only when it has bad rows).
Before any of that, every file's header is checked without touching the database, so a missing
required column or an unreadable file fails before the database is opened for writing.

The SQL here is generated from `analysis.schema` (identifiers of the contract only); every value that
comes from the user (file paths, the assumed zone) is a bound parameter.
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from analysis.db import connect, set_meta, sql_text
from analysis.errors import UserError
from analysis.schema import CALL_OUTCOMES, SQL_TYPES, TABLES, Column, Table, create_schema

# Tables in load order: accounts first, because every other table's account_id is checked against it.
LOAD_ORDER = ["accounts", "agents"] + [t for t in TABLES if t not in ("accounts", "agents")]
SUFFIXES = {".csv": "csv", ".parquet": "parquet"}
PROGRESS_MIN_BYTES = 20_000_000  # below this an import takes about a second: no bar

# DuckDB's CSV reader, told the contract's dialect instead of sniffing it: header row, comma,
# double quotes (doubled to escape), UTF-8, every value as text so that typing happens in our SQL.
CSV_OPTIONS = (
    "header = true, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', all_varchar = true, "
    "store_rejects = true, rejects_table = '_ingest_rejects', rejects_scan = '_ingest_rejects_scan'"
)

# Values of the contract's types, as regular expressions (matched allowing blanks around the value).
INT_RE = r"[+-]?[0-9]+"
AMOUNT_RE = r"[+-]?([0-9]+([.][0-9]{0,2})?|[.][0-9]{1,2})"
DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?"
TS_OFFSET_RE = _TIME + r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
TS_NAIVE_RE = _TIME
BOOL_TRUE = ("true", "1", "yes")
BOOL_FALSE = ("false", "0", "no")

TYPE_WORDS = {
    "int": "a whole number",
    "amount": "an amount with at most 2 decimal places",
    "date": "a date YYYY-MM-DD",
    "bool": "a boolean (true/false/1/0/yes/no)",
    "tz": "an IANA time zone name such as America/Chicago",
    "timestamp": "an ISO 8601 timestamp such as 2026-03-08T14:05:00Z",
}


@dataclass
class Source:
    """One input file, checked: which contract column comes from which column of the file."""

    table: Table
    path: Path
    kind: str  # csv | parquet
    columns: dict[str, str]  # contract column -> column name in the file
    file_columns: list[str]  # every column of the file, in file order (for the raw text)

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class FileResult:
    table: str
    file: str
    read: int
    loaded: int
    quarantined: int


@dataclass
class ImportResult:
    import_id: int
    files: list[FileResult] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)


# --------------------------------------------------------------------------------------------
# Finding and checking the files (no database involved)
# --------------------------------------------------------------------------------------------

def find_sources(directory: str | Path) -> tuple[dict[str, Path], list[str]]:
    """The table files of a directory ({table: path}) and the names of the files it ignores."""
    directory = Path(directory)
    if not directory.exists():
        raise UserError(f"{directory} does not exist: give the directory that holds accounts.csv and the other table files")
    if not directory.is_dir():
        raise UserError(f"{directory} is not a directory: give the directory that holds accounts.csv and the other table files")
    found: dict[str, Path] = {}
    ignored = []
    for path in sorted(directory.iterdir()):
        table, suffix = path.stem.lower(), path.suffix.lower()
        if not path.is_file() or path.name.startswith("."):
            continue
        if table not in TABLES or suffix not in SUFFIXES:
            ignored.append(path.name)
            continue
        if table in found:
            raise UserError(f"{directory} has both {found[table].name} and {path.name}: keep one file per table")
        found[table] = path
    if not found:
        raise UserError(f"{directory} has no table files: expected files named after the tables ({', '.join(n + '.csv' for n in LOAD_ORDER[:3])}, ...) as CSV or Parquet")
    return found, ignored


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def inspect_source(con, table: str, path: Path) -> Source:
    """Read a file's header (or Parquet schema) and check that it has the required columns."""
    kind = SUFFIXES[path.suffix.lower()]
    reader = f"read_csv($path, {CSV_OPTIONS})" if kind == "csv" else "read_parquet($path)"
    try:
        if kind == "csv" and path.stat().st_size == 0:
            raise UserError(f"cannot read {path}: the file is empty (it needs at least the header row)")
        described = con.execute("describe select * from " + reader, {"path": str(path)}).fetchall()
    except duckdb.Error as exc:
        raise UserError(f"cannot read {path}: {_first_line(exc)}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    file_columns = [row[0] for row in described]
    spec = TABLES[table]
    columns: dict[str, str] = {}
    for name in file_columns:
        key = name.strip().lower()
        if key in {c.name for c in spec.columns} and key not in columns:
            columns[key] = name
    for required in spec.required_columns:
        if required not in columns:
            shown = ", ".join(file_columns[:12]) + (", ..." if len(file_columns) > 12 else "")
            raise UserError(f"{path}: required column '{required}' is missing (the file has: {shown}); "
                            f"add it or rename the header, then import again")
    return Source(spec, path, kind, columns, file_columns)


def plan(files: dict[str, Path]) -> list[Source]:
    """Check every file's columns before the database is touched; the sources in load order."""
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        return [inspect_source(con, t, files[t]) for t in LOAD_ORDER if t in files]
    finally:
        con.close()


def check_zone(zone: str | None) -> str | None:
    """A zone name given on the command line must be one DuckDB knows (it does the conversion)."""
    if zone is None:
        return None
    con = duckdb.connect()
    try:
        known = con.execute("select 1 from pg_timezone_names() where name = ?", [zone]).fetchall()
    finally:
        con.close()
    if not known:
        raise UserError(f"--assume-timezone {zone!r} is not an IANA time zone name; use one such as America/New_York")
    return zone


# --------------------------------------------------------------------------------------------
# SQL generated from the schema
# --------------------------------------------------------------------------------------------

def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """A SQL string literal of a constant of ours (never a user value)."""
    return "'" + text.replace("'", "''") + "'"


def _one_of(expr: str, values) -> str:
    """expr is one of our constants. An OR chain: DuckDB plans `IN (...)` as a join, which evaluates
    its key for every row and so defeats the lazy CASE branches below."""
    return "(" + " or ".join(f"{expr} = {_lit(v)}" for v in values) + ")"


def _typed(col: Column, raw: str, assume_tz: bool) -> str:
    """Expression giving the typed value of a column from its raw text (NULL when missing or bad).

    Written for speed on millions of rows: the exact, common form is tested first and `trim`/`lower`
    (slow: they are Unicode-aware) only run on the rows that fail it; casts accept surrounding blanks.
    """
    t = f"trim({raw})"
    if col.enum:
        return _enum(raw, col.enum)
    if col.type == "str":
        # kept exactly as given (turn text, ids); a blank value is a missing one
        return f"nullif(upper({t}), '')" if col.name == "state" else f"case when ascii({raw}) > 32 then {raw} when {t} <> '' then {raw} end"
    if col.type in ("int", "amount", "date"):
        pattern = {"int": INT_RE, "amount": AMOUNT_RE, "date": DATE_RE}[col.type]
        return f"case when regexp_full_match({raw}, {_lit(_padded(pattern))}) then try_cast({raw} as {SQL_TYPES[col.type]}) end"
    if col.type == "bool":
        return (f"case when {_one_of(raw, BOOL_TRUE)} then true when {_one_of(raw, BOOL_FALSE)} then false "
                f"when {_one_of(f'lower({t})', BOOL_TRUE)} then true when {_one_of(f'lower({t})', BOOL_FALSE)} then false end")
    if col.type == "tz":
        return f"case when {raw} in (select name from _ingest_zones) then {raw} when {t} in (select name from _ingest_zones) then {t} end"
    if col.type == "timestamp":
        with_offset = f"when regexp_full_match({raw}, {_lit(_padded(TS_OFFSET_RE))}) then try_cast({raw} as timestamptz)"
        if not assume_tz:
            return f"case {with_offset} end"
        # naive wall time in the assumed zone: see LOCAL_INSTANT_MACROS
        return (f"case {with_offset} when regexp_full_match({raw}, {_lit(_padded(TS_NAIVE_RE))}) "
                f"then _ingest_local_instant(try_cast({raw} as timestamp), $zone) end")
    raise ValueError(col.type)


def _enum(raw: str, values) -> str:
    """An enum value: exact first, else trimmed and lower-cased."""
    return (f"case when {_one_of(raw, values)} then {raw} "
            f"when {_one_of(f'lower(trim({raw}))', values)} then lower(trim({raw})) end")


def _padded(pattern: str) -> str:
    return r"\s*(" + pattern + r")\s*"


def _ok(col: Column, raw: str, typed: str, present: bool) -> list[str]:
    """Cheap conditions that hold for a valid value: the reasons are only worked out for rows failing one."""
    if not present:
        return []
    if col.required:
        out = [f"{typed} is not null"]
    elif col.type == "str" and not col.enum:
        out = []  # free text: anything goes
    else:
        out = [f"({raw} is null or {typed} is not null)"]
    if col.min_value is not None:
        out.append(f"coalesce({typed} {'>' if col.min_exclusive else '>='} {col.min_value:g}, true)")
    if col.max_value is not None:
        out.append(f"coalesce({typed} <= {col.max_value:g}, true)")
    return out


def _reasons(table: Table, col: Column, raw: str, typed: str, present: bool, assume_tz: bool) -> list[str]:
    """Expressions giving a reason text when the column breaks a rule, else NULL."""
    name = col.name
    missing = f"({raw} is null or trim({raw}) = '')"
    out = []
    if not present:
        return out
    if col.required:
        out.append(f"case when {missing} then {_lit(name + ': required value missing')} end")
    if table.name == "contacts" and name == "outcome":
        return out  # checked with the channel, below
    if col.enum:
        out.append(f"case when not {missing} and {typed} is null then {_lit(name + ': must be one of ' + ', '.join(col.enum))} end")
    elif col.type == "timestamp":
        t = f"trim({raw})"
        naive = f"(regexp_full_match({t}, {_lit(TS_NAIVE_RE)}) and try_cast({t} as timestamp) is not null)"
        if assume_tz:
            out.append(f"case when not {missing} and {typed} is null and {naive} "
                       f"then {_lit(name + ': local time that does not exist in the assumed zone (skipped by a daylight-saving change)')} end")
        else:
            out.append(f"case when not {missing} and {naive} "
                       f"then {_lit(name + ': timestamp without UTC offset; add Z or +hh:mm, or name its zone with --assume-timezone')} end")
        out.append(f"case when not {missing} and {typed} is null and not {naive} then {_lit(name + ': not ' + TYPE_WORDS['timestamp'])} end")
    elif col.type in TYPE_WORDS:
        out.append(f"case when not {missing} and {typed} is null then {_lit(name + ': not ' + TYPE_WORDS[col.type])} end")
    if col.min_value is not None:
        op, word = (">", "greater than") if col.min_exclusive else (">=", "at least")
        out.append(f"case when not ({typed} {op} {col.min_value:g}) then {_lit(f'{name}: must be {word} {col.min_value:g}')} end")
    if col.max_value is not None:
        out.append(f"case when {typed} > {col.max_value:g} then {_lit(f'{name}: must be at most {col.max_value:g}')} end")
    return out


def checked_sql(source: Source, assume_tz: bool) -> str:
    """The query typing every column of the staged file and listing the rules each row breaks."""
    table = source.table
    raw_cols, typed_cols, oks, reasons, after_typed = [], [], [], [], []
    for col in table.columns:
        present = col.name in source.columns
        if present:
            raw_cols.append(f"s.{_q(source.columns[col.name])} as {_q('raw_' + col.name)}")
        typed = _typed(col, f"s.{_q(source.columns[col.name])}" if present else "null::varchar", assume_tz)
        typed_cols.append(f"{typed} as {_q(col.name)}")
        oks += _ok(col, f"t.{_q('raw_' + col.name)}", f"t.{_q(col.name)}", present)
        reasons += _reasons(table, col, f"t.{_q('raw_' + col.name)}", f"t.{_q(col.name)}", present, assume_tz)
    if table.name == "contacts":
        # outcome: for calls one of the call outcomes (typed like an enum), for other channels free text
        # (typed only on call rows, from the typed channel: on the others it is never read, and the
        # enum's lower/trim fallback on their free text was a tenth of the query)
        raw = _q("raw_outcome") if "outcome" in source.columns else "null::varchar"
        after_typed.append(f"case when channel = 'call' then {_enum(raw, CALL_OUTCOMES)} end as outcome_call")
        oks.append("(t.channel <> 'call' or t.outcome_call is not null)")
        reasons.append(f"case when t.channel = 'call' and t.outcome is null then 'outcome: required for calls' "
                       f"when t.channel = 'call' and t.outcome_call is null "
                       f"then {_lit('outcome: must be one of ' + ', '.join(CALL_OUTCOMES) + ' for calls')} end")
    if "nps_or_csat" in table.extra_checks:
        # "at least one" is about both being empty; a bad value has its own reason
        given = [f"nullif(trim(t.{_q('raw_' + c)}), '') is null" for c in ("nps", "csat") if c in source.columns]
        oks.append("(t.nps is not null or t.csat is not null)")
        reasons.append(f"case when {' and '.join(given) or 'true'} then 'nps or csat: at least one is required' end")
    if "resolved_after_received" in table.extra_checks:
        oks.append("coalesce(t.resolved_at >= t.received_at, true)")
        reasons.append("case when t.resolved_at < t.received_at then 'resolved_at: before received_at' end")
    ok = " and ".join(oks) or "true"
    reason = f"case when {ok} then null else nullif(concat_ws('; ', {', '.join(reasons)}), '') end" if reasons else "null::varchar"
    raw_names = ", ".join(_q("raw_" + c) for c in source.columns)
    # Projections of the file's scan only (no join, no window): DuckDB keeps file order in the
    # table it creates, so a row's rank by `rowid` is its position among the rows it parsed (see _reader).
    return f"""
create or replace temp table _ingest_checked as
with staged as (
    select * from {_reader(source)}
),

typed as (
    select *{''.join(', ' + c for c in after_typed)}
    from (select {', '.join(raw_cols + typed_cols)} from staged as s)
),

final as (
    select t.* exclude ({raw_names}), {reason} as reason
    from typed as t
)

select * from final"""


def unknown_accounts_sql(table: Table) -> str | None:
    """Rows whose account_id is not in accounts get that reason too (after the others, as the last
    rule checked). An UPDATE after the typing query rather than a join inside it: a join there
    could reorder rows, and the typing query must keep file order (see checked_sql)."""
    if not table.references_account:
        return None
    reason = "account_id: unknown account"
    return f"""
update _ingest_checked as c
set reason = case when c.reason is null then {_lit(reason)} else c.reason || {_lit('; ' + reason)} end
where c.account_id is not null
    and not exists (select 1 from accounts as known where known.account_id = c.account_id)"""


def _stored_value(table: Table, col: Column) -> str:
    """The value stored: defaults of the contract applied."""
    name = _q(col.name)
    if table.name == "accounts" and col.name == "vulnerable":
        return f"coalesce({name}, false)"
    if table.name == "complaints" and col.name == "source":
        return f"coalesce({name}, 'consumer')"
    if table.name == "contacts" and col.name == "outcome":
        return ("case when channel = 'call' then outcome_call "
                "else coalesce(outcome, case direction when 'outbound' then 'sent' else 'received' end) end")
    return name


def duplicates_sql(table: Table) -> str:
    """Duplicate keys within the file: the first valid row of a key loads, later ones are quarantined."""
    key_cols = ", ".join(_q(k) for k in table.key)
    key_match = " and ".join(f"c.{_q(k)} = d.{_q(k)}" for k in table.key)
    reason = _lit("duplicate key (" + ", ".join(table.key) + "): an earlier row of this file has the same; the first is kept")
    return f"""
update _ingest_checked as c
set reason = {reason}
from (
    select {key_cols}, min(rowid) as first_rec
    from _ingest_checked where reason is null
    group by {key_cols} having count(*) > 1
) as d
where {key_match} and c.reason is null and c.rowid > d.first_rec"""


def upsert_sql(table: Table) -> str:
    """Valid rows replace the stored rows with the same key (keys are unique within the file by now).

    INSERT OR REPLACE, not delete + insert: deleting and re-adding a million keys of the primary
    key's index made the commit ~20 times slower (DuckDB 2.0, measured with benchmarks/bench_ingest.py).
    """
    cols = ", ".join(_q(c.name) for c in table.columns)
    values = ", ".join(_stored_value(table, c) for c in table.columns)
    return f"insert or replace into {_q(table.name)} ({cols}) select {values} from _ingest_checked where reason is null"


def rebuild_sql(table: Table, keep_stored: bool) -> list[str]:
    """Statements refilling a table with its primary key built last: the stored rows whose key the
    file does not have (`keep_stored`; none when the table is empty), then the file's valid rows.

    Inserting row by row into the primary key's index (INSERT OR REPLACE, or a plain INSERT) was
    about half of an import's CPU time; DuckDB builds the index of a filled table in one sorted
    pass (`alter table ... add primary key`): for 3M contacts ~2 CPU-seconds less on a first
    import and ~4 on a re-import (benchmarks/bench_ingest.py). The table is recreated unkeyed inside
    the import's transaction; afterwards its DDL and constraints are those of `schema.table_ddl`
    (same columns, same primary key) and it holds the same rows the upsert would leave. Keys are
    unique and not null by now (required columns, duplicates quarantined), so the key cannot fail.
    """
    name = _q(table.name)
    cols = ", ".join(_q(c.name) for c in table.columns)
    values = ", ".join(_stored_value(table, c) for c in table.columns)
    columns = ", ".join(f"{_q(c.name)} {SQL_TYPES[c.type]}" for c in table.columns)
    key_match = " and ".join(f"c.{_q(k)} = o.{_q(k)}" for k in table.key)
    if not keep_stored:
        replace = [f"drop table {name}", f"create table {name} ({columns})"]
    else:  # the stored table, renamed, is read once for the kept rows and then dropped
        replace = [f"alter table {name} rename to _ingest_old", f"create table {name} ({columns})",
                   f"""insert into {name} ({cols})
                       select {cols} from _ingest_old as o
                       where not exists (select 1 from _ingest_checked as c where c.reason is null and {key_match})""",
                   "drop table _ingest_old"]
    return replace + [
        f"insert into {name} ({cols}) select {values} from _ingest_checked where reason is null",
        f"alter table {name} add primary key ({', '.join(_q(k) for k in table.key)})",
    ]


def _rebuild_pays(con, table: Table, loaded: int) -> bool:
    """Whether rebuilding costs less than INSERT OR REPLACE: a rebuild rewrites the kept rows (stored
    keys the file lacks) besides the file's, and one row written plus its share of the sorted key
    costs about half of one INSERT OR REPLACE through the index. So: an empty table (first import),
    or kept rows at most half the file's valid rows (a full re-import). 3M contacts measured:
    re-import of the same keys 12.9 CPU-s upserting vs 8.6 rebuilding; 3M new keys into a table
    of 3M 9.7 upserting vs 11.1 rebuilding (benchmarks/bench_ingest.py and by hand)."""
    name = _q(table.name)
    stored = _scalar(con, f"select count(*) from {name}")
    if stored == 0:
        return True
    if stored > loaded * 1.5:  # kept >= stored - loaded > loaded / 2 whatever the overlap
        return False
    key_match = " and ".join(f"c.{_q(k)} = o.{_q(k)}" for k in table.key)
    replaced = _scalar(con, f"select count(*) from {name} as o where exists "
                            f"(select 1 from _ingest_checked as c where c.reason is null and {key_match})")
    return stored - replaced <= loaded / 2


def _rebuildable(con, table: Table) -> bool:
    """The stored table is exactly the contract's (columns in order, types) with no index of its own,
    so recreating it from `rebuild_sql` changes nothing but the rows."""
    stored = con.execute("select column_name, data_type from duckdb_columns() "
                         "where schema_name = 'main' and table_name = $t and database_name = current_database() "
                         "order by column_index", {"t": table.name}).fetchall()
    spelled = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}  # as duckdb_columns() writes it
    wanted = [(c.name, spelled.get(SQL_TYPES[c.type], SQL_TYPES[c.type])) for c in table.columns]
    indexes = _scalar(con, "select count(*) from duckdb_indexes() where table_name = $t and database_name = current_database()",
                      {"t": table.name})
    return stored == wanted and indexes == 0


def _drop(con, *names: str) -> None:
    for name in names:
        con.execute("drop table if exists " + _q(name))


# A naive wall time in a zone -> the instant. ICU's timezone() maps a nonexistent wall time (DST gap)
# forward and an ambiguous one (DST overlap) to its later instant. We keep the earlier instant of an
# ambiguous time (Python's zoneinfo fold=0) and return NULL for a nonexistent one (quarantined).
# `earlier` reads the wall time with the offset in force 6 hours before `later`.
LOCAL_INSTANT_MACROS = [
    "create or replace temp macro _ingest_later(local_ts, zone) as timezone(zone, local_ts)",
    """create or replace temp macro _ingest_earlier(local_ts, zone) as timezone('UTC', local_ts - (
        timezone(zone, _ingest_later(local_ts, zone) - interval 6 hour)
        - (_ingest_later(local_ts, zone) - interval 6 hour)::timestamp))""",
    """create or replace temp macro _ingest_local_instant(local_ts, zone) as case
        when _ingest_earlier(local_ts, zone) < _ingest_later(local_ts, zone)
             and timezone(zone, _ingest_earlier(local_ts, zone)) = local_ts then _ingest_earlier(local_ts, zone)
        when timezone(zone, _ingest_later(local_ts, zone)) = local_ts then _ingest_later(local_ts, zone)
    end""",
]


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
    newlines, ends_with_newline = _count_newlines(source.path)
    records = staged + len(rejects)
    # One record per line: rows DuckDB parsed fill the lines the rejected ones leave free.
    one_per_line = good_recs + 2 + np.searchsorted(rejects - 2 - np.arange(len(rejects)), good_recs, side="right")
    if newlines == records + (1 if ends_with_newline else 0):
        return one_per_line, rejects
    duck, phys = _record_lines(source.path)
    good_phys = phys[~np.isin(duck, rejects)]
    if len(good_phys) != staged:  # the two readers disagree on the records: keep DuckDB's numbering
        return one_per_line, rejects
    reject_phys = phys[np.searchsorted(duck, rejects).clip(0, len(phys) - 1)] if len(phys) else rejects
    return good_phys[good_recs], reject_phys


# --------------------------------------------------------------------------------------------
# Phone zones
# --------------------------------------------------------------------------------------------

_NOT_DIGIT = re.compile(r"[^0-9+]")
_NANP = re.compile(r"(?:\+1|1)?([2-9][0-9]{9})")  # a North American number, digits only: read without parsing


def phone_zone(number: str) -> str | None:
    """The one IANA zone of a phone number's area code, or None when libphonenumber gives none or several.

    The zone comes from libphonenumber's prefix data for geographic numbers
    (`time_zones_for_geographical_number`): the SPEC's phone zone is the area code's, so a number
    whose subscriber part the library would call invalid still gets its area code's zone; toll-free
    and other non-geographic prefixes map to many zones and get none. National numbers are read as US.
    """
    import phonenumbers  # imported here, not at module import: most commands never need it
    import phonenumbers.timezone

    nanp = _NANP.fullmatch(_NOT_DIGIT.sub("", number))
    if nanp:  # the common case, 10x faster than phonenumbers.parse
        parsed = phonenumbers.PhoneNumber(country_code=1, national_number=int(nanp.group(1)))
    else:
        try:
            parsed = phonenumbers.parse(number, "US")
        except phonenumbers.NumberParseException:
            return None
    zones = phonenumbers.timezone.time_zones_for_geographical_number(parsed)
    if len(zones) != 1 or zones[0] == phonenumbers.timezone.UNKNOWN_TIMEZONE:
        return None
    return zones[0]


def _nanp_prefix_digits() -> int:
    """National digits of a North American number that libphonenumber's zone data looks at (6: area
    code and exchange); its zone is a function of them, so one lookup serves every number sharing them."""
    from phonenumbers.tzdata import TIMEZONE_DATA

    return max(len(prefix) for prefix in TIMEZONE_DATA if prefix.startswith("1")) - 1


def derive_phone_zones(con) -> int:
    """Fill phone_timezone of staged valid accounts that have a phone but no zone; distinct numbers looked up.

    North American numbers (the bulk) are grouped in SQL by area code and exchange, one library
    lookup per group; any other number is parsed by the library one distinct number at a time.
    """
    con.execute(r"""
        create or replace temp table _ingest_phones as
        select distinct phone,
               regexp_extract(regexp_replace(phone, '[^0-9+]', '', 'g'), '^(\+1|1)?([2-9][0-9]{9})$', 2) as nanp
        from _ingest_checked
        where reason is null and phone_timezone is null and phone is not null""")
    digits = _nanp_prefix_digits()
    prefixes = [r[0] for r in con.execute("select distinct left(nanp, $n) from _ingest_phones where nanp <> ''", {"n": digits}).fetchall()]
    others = [r[0] for r in con.execute("select phone from _ingest_phones where nanp = ''").fetchall()]
    known = {r[0] for r in con.execute("select name from _ingest_zones").fetchall()}
    # a zone DuckDB cannot convert with would break the contact rules: keep only names it knows
    zoned_prefixes = [(p, z) for p in prefixes if (z := phone_zone("+1" + p.ljust(10, "0"))) in known]
    zoned_numbers = [(n, z) for n in others if (z := phone_zone(n)) in known]
    _temp_table(con, "_ingest_zone_by_prefix", {"prefix": [p for p, _ in zoned_prefixes], "zone": [z for _, z in zoned_prefixes]})
    _temp_table(con, "_ingest_zone_by_number", {"phone": [n for n, _ in zoned_numbers], "zone": [z for _, z in zoned_numbers]})
    con.execute("""
        update _ingest_checked as c set phone_timezone = z.zone
        from (
            select p.phone, coalesce(k.zone, o.zone) as zone
            from _ingest_phones as p
            left join _ingest_zone_by_prefix as k on p.nanp <> '' and k.prefix = left(p.nanp, $n)
            left join _ingest_zone_by_number as o on o.phone = p.phone
        ) as z
        where c.reason is null and c.phone_timezone is null and c.phone = z.phone and z.zone is not null""", {"n": digits})
    filled = _scalar(con, "select count(*) from _ingest_checked where reason is null and phone_timezone is not null")
    _drop(con, "_ingest_phones", "_ingest_zone_by_prefix", "_ingest_zone_by_number")
    return filled


# --------------------------------------------------------------------------------------------
# The import
# --------------------------------------------------------------------------------------------

def _scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def _temp_table(con, name: str, columns: dict[str, list]) -> None:
    """A temp table from Python lists of equal length (bound as LIST parameters, unnested in SQL)."""
    names = list(columns)
    select = ", ".join(f"unnest(${c}) as {_q(c)}" for c in names)
    sql = f"create or replace temp table {_q(name)} as select {select}"
    con.execute(sql, {c: list(v) for c, v in columns.items()})


def _csv_field(expr: str) -> str:
    """A value written back as a CSV field (quoted when it needs to be), for the raw text."""
    return (f"case when {expr} is null then '' "
            f"when regexp_matches({expr}, '[\",\\r\\n]') then '\"' || replace({expr}, '\"', '\"\"') || '\"' "
            f"else {expr} end")


def _reader(source: Source, rejects: str = "_ingest_rejects", numbered: bool = False) -> str:
    """The file as rows of text, in file order; rows DuckDB cannot parse land in the `rejects` table.
    The path is the bound parameter $path.

    `numbered` adds `_rec`, the 0-based position among the rows DuckDB parsed (`row_number() over
    ()`, a streaming window). That window runs on one thread, and so does every operator after
    it in the pipeline: typing 3M contacts behind it took ~4 s on one core. The typing query
    therefore reads without it and takes the position from the rank by `rowid` in the table it creates
    (DuckDB keeps insertion order, `preserve_insertion_order`, through scans and projections);
    only the re-read for the raw text of bad rows numbers its rows.
    """
    if source.kind == "csv":
        options = CSV_OPTIONS.replace("'_ingest_rejects'", _lit(rejects)).replace("'_ingest_rejects_scan'", _lit(rejects + "_scan"))
        return f"(select {'row_number() over () - 1 as _rec, ' if numbered else ''}* from read_csv($path, {options}))"
    cast = ", ".join(f"cast({_q(c)} as varchar) as {_q(c)}" for c in source.file_columns)
    return f"(select {'row_number() over () - 1 as _rec, ' if numbered else ''}{cast} from read_parquet($path))"


def _run_reading(con, source: Source, sql: str, params: dict) -> None:
    """Run a statement that reads the file; a file damaged past what the plan checked is a user error."""
    try:
        con.execute(sql, {"path": str(source.path), **params})
    except duckdb.Error as exc:
        if not isinstance(exc, (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException)):
            raise
        raise UserError(f"cannot read {source.path}: {_first_line(exc)}; nothing was imported") from None


def _load_file(con, source: Source, import_id: int, assume_tz: str | None, phone_zones: bool, step) -> FileResult:
    table = source.table
    _drop(con, "_ingest_rejects", "_ingest_rejects_scan", "_ingest_reread", "_ingest_reread_scan", "_ingest_bad")
    sql = checked_sql(source, assume_tz is not None)
    _run_reading(con, source, sql, {"zone": assume_tz} if "$zone" in sql else {})
    step(0.7)
    staged = _scalar(con, "select count(*) from _ingest_checked")

    unknown = unknown_accounts_sql(table)
    if unknown:
        con.execute(unknown)
    con.execute(duplicates_sql(table))
    step(0.1)
    if table.name == "accounts" and phone_zones:
        derive_phone_zones(con)

    loaded = _scalar(con, "select count(*) from _ingest_checked where reason is null")
    if loaded and _rebuildable(con, table) and _rebuild_pays(con, table, loaded):
        for statement in rebuild_sql(table, keep_stored=_scalar(con, f"select count(*) > 0 from {_q(table.name)}")):
            con.execute(statement)
    else:
        con.execute(upsert_sql(table))

    # Quarantine: rows that break a rule, then rows DuckDB could not parse.
    # A row's position in the file (among the rows DuckDB parsed) is its rank by rowid (checked_sql).
    bad = np.empty(0, dtype=np.int64)
    if _scalar(con, "select count(*) > 0 from _ingest_checked where reason is not null"):
        con.execute("""
            create or replace temp table _ingest_bad as
            select row_id, rec
            from (select rowid as row_id, row_number() over (order by rowid) - 1 as rec, reason from _ingest_checked)
            where reason is not null""")
        bad = np.asarray(con.execute("select rec from _ingest_bad order by rec").fetchnumpy()["rec"], dtype=np.int64)
    rejects_exist = source.kind == "csv" and _scalar(
        con, "select count(*) from duckdb_tables() where table_name = '_ingest_rejects'")
    reject_lines = np.asarray(con.execute("select distinct line from _ingest_rejects order by line").fetchnumpy()["line"]
                              if rejects_exist else [], dtype=np.int64)
    if len(bad) or len(reject_lines):
        good_lines, rej_lines = line_numbers(source, bad, reject_lines, staged)
        if len(bad):
            _temp_table(con, "_ingest_lines", {"rec": bad.tolist(), "line": good_lines.tolist()})
            # The raw text: the file is read a second time (only when it has bad rows), the same way.
            raw_text = " || ',' || ".join(_csv_field(f"r.{_q(c)}") for c in source.file_columns)
            _run_reading(con, source, f"""
                insert into quarantine
                select $import_id, $table, $file, l.line, {raw_text}, c.reason
                from _ingest_bad as b
                join _ingest_checked as c on c.rowid = b.row_id
                join _ingest_lines as l on l.rec = b.rec
                join {_reader(source, "_ingest_reread", numbered=True)} as r on r._rec = b.rec""", {"import_id": import_id, "table": table.name, "file": source.name})
        if len(reject_lines):
            _temp_table(con, "_ingest_reject_lines", {"duck_line": reject_lines.tolist(), "line": rej_lines.tolist()})
            con.execute("""
                insert into quarantine
                select $import_id, $table, $file, l.line, first(j.csv_line),
                       'malformed row: ' || string_agg(distinct j.error_message, '; ')
                from _ingest_rejects as j
                join _ingest_reject_lines as l on l.duck_line = j.line
                group by l.line""", {"import_id": import_id, "table": table.name, "file": source.name})
    quarantined = len(bad) + len(reject_lines)
    step(0.2)
    return FileResult(table.name, source.name, staged + len(reject_lines), loaded, quarantined)


def import_sources(con, sources: list[Source], *, source_label: str = "", assume_timezone: str | None = None,
                   derive_phone_zones: bool = False, progress: bool = False) -> ImportResult:
    """Import checked sources (see `plan`) into an open read-write database, all or nothing.

    Runs in one transaction: on any error the database is rolled back and the error re-raised.
    `derive_phone_zones`: fill an account's empty phone_timezone from its `phone` (see
    derive_phone_zones); off by default, since the contract ignores columns it does not name.
    The derived tables are the caller's to recompute afterwards (`analysis.pipeline.refresh`): its
    steps read through their own cursors, which do not see this transaction's rows.
    """
    from tqdm import tqdm

    check_zone(assume_timezone)
    t0 = time.perf_counter()
    sizes = {s.path: max(s.path.stat().st_size, 1) for s in sources}
    total = sum(sizes.values())
    bar = tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr, desc="import",
               disable=not progress or total < PROGRESS_MIN_BYTES, leave=False)
    con.execute("set enable_progress_bar = false")
    con.execute("set TimeZone = 'UTC'")  # the zone arithmetic below reads timestamptz::timestamp as UTC
    con.execute("set preserve_insertion_order = true")  # rowid = file position (checked_sql); DuckDB's default
    con.begin()
    try:
        create_schema(con)
        if "accounts" not in {s.table.name for s in sources} and not _scalar(con, "select count(*) from accounts"):
            raise UserError("accounts.csv (or accounts.parquet) is required: the database has no accounts yet")
        con.execute("create or replace temp table _ingest_zones as select name from pg_timezone_names()")
        if assume_timezone:
            for macro in LOCAL_INSTANT_MACROS:
                con.execute(macro)
        import_id = _scalar(con, "select coalesce(max(import_id), 0) + 1 from (select import_id from import_log union all select import_id from quarantine)")
        result = ImportResult(import_id)
        for source in sources:
            bar.set_description(source.name)
            started = time.perf_counter() - t0  # elapsed timing only
            size = sizes[source.path]
            file_result = _load_file(con, source, import_id, assume_timezone, derive_phone_zones,
                                     lambda share: bar.update(int(size * share)))
            finished = time.perf_counter() - t0
            # Times: DuckDB's now() is the start of this transaction; add the elapsed time measured here.
            con.execute("""
                insert into import_log
                select $import_id, now() + to_microseconds($started_us), now() + to_microseconds($finished_us),
                       $source, $table, $file, $read, $loaded, $quarantined""",
                        {"import_id": import_id, "started_us": int(started * 1e6), "finished_us": int(finished * 1e6),
                         "source": source_label or str(source.path.parent), "table": source.table.name,
                         "file": source.name, "read": file_result.read, "loaded": file_result.loaded,
                         "quarantined": file_result.quarantined})
            result.files.append(file_result)
        as_of = con.execute(sql_text("ingest_data_as_of")).fetchall()[0][0]
        if as_of:
            set_meta(con, "data_as_of", as_of)
        _drop(con, "_ingest_checked", "_ingest_bad", "_ingest_zones", "_ingest_lines", "_ingest_reject_lines", "_ingest_rejects",
              "_ingest_rejects_scan", "_ingest_reread", "_ingest_reread_scan")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        bar.close()
    result.seconds = time.perf_counter() - t0
    return result


def import_directory(directory: str | Path, db_path: str | Path, *, assume_timezone: str | None = None,
                     derive_phone_zones: bool = False,
                     progress: bool = False, refresh: bool = True) -> ImportResult:
    """Import every table file of a directory into a database file (created when missing).

    Every check that needs no database runs first; a failure after that rolls the transaction back,
    and a database file this call created is removed again, so the database is as it was.
    """
    db_path = Path(db_path)
    if not db_path.parent.exists():
        raise UserError(f"the folder of --db {db_path} does not exist: create {db_path.parent} first")
    if db_path.is_dir():
        raise UserError(f"--db {db_path} is a directory: give a database file name such as {db_path / 'collections.duckdb'}")
    check_zone(assume_timezone)
    files, ignored = find_sources(directory)
    sources = plan(files)
    existed = db_path.exists()
    if not existed and "accounts" not in files:
        raise UserError(f"{directory} has no accounts.csv (or accounts.parquet), and {db_path} holds no accounts yet: accounts are required")
    con = connect(db_path)
    try:
        result = import_sources(con, sources, source_label=str(Path(directory).resolve()),
                                assume_timezone=assume_timezone, derive_phone_zones=derive_phone_zones, progress=progress)
    except BaseException:
        con.close()
        if not existed:
            for leftover in (db_path, Path(str(db_path) + ".wal")):
                if leftover.exists():
                    leftover.unlink()
        raise
    result.ignored = ignored
    try:
        if refresh:  # after the commit: the import stands even if a derived step fails (rerun: refresh)
            from analysis.pipeline import refresh as refresh_derived

            refresh_derived(con, progress=progress)
    finally:
        con.close()
    return result


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("dir", help="directory of table files: accounts.csv (required), contacts.csv, ... (CSV or Parquet)")
    parser.add_argument("--db", required=True, help="database file (created when missing)")
    parser.add_argument("--assume-timezone", metavar="ZONE",
                        help="IANA zone of timestamps written without UTC offset (otherwise such rows are quarantined)")
    parser.add_argument("--derive-phone-zones", action="store_true",
                        help="fill an empty phone_timezone from the account's phone column (the zone of its area code, "
                             "libphonenumber); off by default: the contract ignores a phone column, and the zone changes "
                             "which contacts breach inconvenient_time")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def format_table(result: ImportResult) -> str:
    rows = [("file", "read", "loaded", "quarantined")]
    rows += [(f.file, f"{f.read:,}", f"{f.loaded:,}", f"{f.quarantined:,}") for f in result.files]
    rows.append(("total", f"{result.read:,}", f"{result.loaded:,}", f"{result.quarantined:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(lines)


def run(args) -> int:
    progress = not args.no_progress
    result = import_directory(args.dir, args.db, assume_timezone=args.assume_timezone,
                              derive_phone_zones=args.derive_phone_zones, progress=progress)
    print(format_table(result))
    tail = f"import {result.import_id}: {result.loaded:,} rows loaded, {result.quarantined:,} quarantined in {result.seconds:.1f}s"
    if result.quarantined:
        tail += " (reasons in the quarantine table and on the Data page)"
    print(tail)
    if result.ignored:
        print(f"ignored (not a table of the contract): {', '.join(result.ignored)}")
    return 0
