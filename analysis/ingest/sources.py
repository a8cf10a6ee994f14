"""The files of an import: finding a directory's table files, checking each one's header before the
database is opened, and reading a file as rows of text (the path always a bound parameter)."""
from __future__ import annotations

import csv
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

# DuckDB's CSV reader, told the contract's dialect and the file's columns instead of sniffing them
# (`auto_detect = false`): header row, comma, double quotes (doubled to escape), UTF-8, every value
# as text so that typing happens in our SQL. The columns ($columns, bound) are named by position
# (`column0`, ...), from the header as `read_header` parsed it: the sniffer refused a whole file for
# one unclosed quote ("Error when sniffing file") and renamed duplicate names behind our back.
CSV_OPTIONS = (
    "header = true, auto_detect = false, columns = $columns, delim = ',', quote = '\"', escape = '\"', "
    "encoding = 'utf-8', store_rejects = true, rejects_table = '_ingest_rejects', rejects_scan = '_ingest_rejects_scan'"
)
SCAN_CHUNK = 16 << 20  # bytes read at a time when a file is scanned in Python


@dataclass
class Source:
    """One input file, checked: which contract column comes from which column of the file."""

    table: Table
    path: Path
    kind: str  # csv | parquet
    columns: dict[str, str]  # contract column -> column name in the file (CSV: `column<i>`, by position)
    file_columns: list[str]  # every column of the file, in file order (for the raw text)
    has_nul: bool = False  # a NUL byte somewhere in the file: the rows holding one are quarantined (checks.py)
    read_path: Path | None = None  # the file DuckDB reads, when not `path` (quotes.py: broken quotes set aside)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def reading(self) -> Path:
        return self.read_path or self.path

    def params(self) -> dict:
        """The bound parameters of `reader`'s scan."""
        if self.kind == "csv":
            return {"path": str(self.reading), "columns": {c: "VARCHAR" for c in self.file_columns}}
        return {"path": str(self.reading)}


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


def read_header(path: Path) -> tuple[list[str], bool]:
    """A CSV file's header (its first line, parsed as CSV) and whether the file holds a NUL byte
    anywhere (one pass over the file at disk speed: `bytes.find`)."""
    with open(path, "rb") as fh:
        first = fh.readline()
        has_nul = b"\0" in first
        while not has_nul and (chunk := fh.read(SCAN_CHUNK)):
            has_nul = b"\0" in chunk
    line = first.split(b"\n")[0].split(b"\r")[0].removeprefix(b"\xef\xbb\xbf")
    if not line.strip():
        raise UserError(f"cannot read {path}: line 1 is empty; the header row must be the first line of the file")
    if b"\0" in line:
        raise UserError(f"cannot read {path}: the header row (line 1) holds a NUL byte; export the file again as text")
    try:
        return next(csv.reader([line.decode("utf-8")], strict=True)), has_nul
    except UnicodeDecodeError:
        raise UserError(f"cannot read {path}: the header row (line 1) is not UTF-8 text; save the file as UTF-8") from None
    except csv.Error as exc:
        raise UserError(f"cannot read {path}: the header row (line 1) is not valid CSV ({exc}); "
                        "check its quotes, then import again") from None


def contract_columns(path: Path, spec: Table, names: list[str], keys: list[str]) -> dict[str, str]:
    """{contract column: key of the file's column} from the header's names (compared trimmed and
    lower-cased), refusing a contract column named twice: which one to read would be a guess.
    A repeated name the contract does not know is ignored like every extra column."""
    known = {c.name for c in spec.columns}
    columns: dict[str, str] = {}
    for name, key in zip(names, keys):
        wanted = name.strip().lower()
        if wanted not in known:
            continue
        if wanted in columns:
            raise UserError(f"{path}: the header names column '{wanted}' twice; keep one of the two, then import again")
        columns[wanted] = key
    for required in spec.required_columns:
        if required not in columns:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise UserError(f"{path}: required column '{required}' is missing (the file has: {shown}); "
                            f"add it or rename the header, then import again")
    return columns


def inspect_source(con, table: str, path: Path) -> Source:
    """Read a file's header (or Parquet schema) and check that it has the required columns, once each."""
    kind = SUFFIXES[path.suffix.lower()]
    spec = TABLES[table]
    try:
        if kind == "csv":
            if path.stat().st_size == 0:
                raise UserError(f"cannot read {path}: the file is empty (it needs at least the header row)")
            names, has_nul = read_header(path)
            keys = [f"column{i}" for i in range(len(names))]
            return Source(spec, path, kind, contract_columns(path, spec, names, keys), keys, has_nul=has_nul)
        described = con.execute("describe select * from read_parquet($path)", {"path": str(path)}).fetchall()
        import pyarrow.parquet as pq  # the names as written: DuckDB renames a repeated one (name_1)

        names = pq.read_schema(path).names
    except duckdb.Error as exc:
        raise UserError(f"cannot read {path}: {first_line(exc)}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or first_line(exc)}") from None
    keys = [row[0] for row in described]
    return Source(spec, path, kind, contract_columns(path, spec, names, keys), keys)


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
    The path is the bound parameter $path (and a CSV's columns $columns: `Source.params`).

    `numbered` adds `_rec`, the 0-based position among the rows DuckDB parsed (`row_number() over
    ()`, a streaming window). That window runs on one thread, and so does every operator after
    it in the pipeline: typing 3M contacts behind it took ~4 s on one core. The typing query
    therefore reads without it and takes the position from the rank by `rowid` in the table it creates
    (DuckDB keeps insertion order, `preserve_insertion_order`, through scans and projections);
    only the re-read for the raw text of bad rows numbers its rows.
    """
    if source.kind == "csv":  # $columns: Source.params
        options = CSV_OPTIONS.replace("'_ingest_rejects'", lit(rejects)).replace("'_ingest_rejects_scan'", lit(rejects + "_scan"))
        return f"(select {'row_number() over () - 1 as _rec, ' if numbered else ''}* from read_csv($path, {options}))"
    cast = ", ".join(f"cast({quote_ident(c)} as varchar) as {quote_ident(c)}" for c in source.file_columns)
    return f"(select {'row_number() over () - 1 as _rec, ' if numbered else ''}{cast} from read_parquet($path))"


def run_reading(con, source: Source, sql: str, params: dict) -> None:
    """Run a statement that reads the file; a file damaged past what the plan checked is a user error."""
    try:
        con.execute(sql, {**source.params(), **params})
    except duckdb.Error as exc:
        if not isinstance(exc, (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException)):
            raise
        raise UserError(f"cannot read {source.path}: {first_line(exc)}; nothing was imported") from None
