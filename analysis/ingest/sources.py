"""The files of an import: finding a directory's table files, checking each one's header before the
database is opened, and reading a file as rows of text (the path always a bound parameter)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from analysis.db import quote_ident
from analysis.errors import UserError
from analysis.ingest.sql import lit
from analysis.schema import TABLES, Table

# Tables in load order: accounts first, because every other table's account_id is checked against it.
LOAD_ORDER = ["accounts", "agents"] + [t for t in TABLES if t not in ("accounts", "agents")]
SUFFIXES = {".csv": "csv", ".parquet": "parquet"}

# DuckDB's CSV reader, told the contract's dialect instead of sniffing it: header row, comma,
# double quotes (doubled to escape), UTF-8, every value as text so that typing happens in our SQL.
CSV_OPTIONS = (
    "header = true, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', all_varchar = true, "
    "store_rejects = true, rejects_table = '_ingest_rejects', rejects_scan = '_ingest_rejects_scan'"
)


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


def first_line(exc: Exception) -> str:
    """The first line of an error's message, for a one-line user error."""
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
        raise UserError(f"cannot read {path}: {first_line(exc)}") from None
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
# Reading a file inside the import
# --------------------------------------------------------------------------------------------

def reader(source: Source, rejects: str = "_ingest_rejects", numbered: bool = False) -> str:
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
        options = CSV_OPTIONS.replace("'_ingest_rejects'", lit(rejects)).replace("'_ingest_rejects_scan'", lit(rejects + "_scan"))
        return f"(select {'row_number() over () - 1 as _rec, ' if numbered else ''}* from read_csv($path, {options}))"
    cast = ", ".join(f"cast({quote_ident(c)} as varchar) as {quote_ident(c)}" for c in source.file_columns)
    return f"(select {'row_number() over () - 1 as _rec, ' if numbered else ''}{cast} from read_parquet($path))"


def run_reading(con, source: Source, sql: str, params: dict) -> None:
    """Run a statement that reads the file; a file damaged past what the plan checked is a user error."""
    try:
        con.execute(sql, {"path": str(source.path), **params})
    except duckdb.Error as exc:
        if not isinstance(exc, (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException)):
            raise
        raise UserError(f"cannot read {source.path}: {first_line(exc)}; nothing was imported") from None
