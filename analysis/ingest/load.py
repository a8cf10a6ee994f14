"""Loading checked files into the database, all of them in one transaction: each file's rows are
checked (`checks`), the valid ones stored (INSERT OR REPLACE, or a rebuild of the table), the others
quarantined (`quarantine`), and the file logged in `import_log` under the import's number."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from analysis import store
from analysis.changes import Changes
from analysis.changes import collect as collect_changes
from analysis.changes import note as note_changes
from analysis.db import quote_ident, set_meta, sql_text
from analysis.errors import UserError
from analysis.ingest.checks import LOCAL_INSTANT_MACROS, checked_sql, duplicates_exist_sql, duplicates_sql, unknown_accounts_sql
from analysis.ingest.checks import stored_value as _stored_value
from analysis.ingest.phones import derive_phone_zones
from analysis.ingest.quarantine import quarantine_rows, quote_rejected
from analysis.ingest.quotes import broken_quote_lines, emptied_copy
from analysis.ingest.sources import Source, check_zone, find_sources, plan, run_reading
from analysis.ingest.sql import drop, scalar
from analysis.schema import SQL_TYPES, Table, create_schema

PROGRESS_MIN_BYTES = 20_000_000  # below this an import takes about a second: no bar

# Scratch tables of a file (dropped before each file) and of the whole import (dropped at the end).
FILE_SCRATCH = ("_ingest_rejects", "_ingest_rejects_scan", "_ingest_reread", "_ingest_reread_scan", "_ingest_bad")
IMPORT_SCRATCH = ("_ingest_checked", "_ingest_bad", "_ingest_zones", "_ingest_lines", "_ingest_reject_lines", "_ingest_rejects",
                  "_ingest_rejects_scan", "_ingest_reread", "_ingest_reread_scan")


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
    # The keys this import added or replaced (analysis.changes; set by import_sources): pass it to
    # analysis.pipeline.refresh(con, changed=result.changed) to refresh only what it touched.
    changed: Changes | None = None

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
# Storing the valid rows
# --------------------------------------------------------------------------------------------

def upsert_sql(table: Table, keyed: bool = True) -> list[str]:
    """Valid rows replace the stored rows with the same key (keys are unique within the file by now).

    `keyed` (the stored table has its primary key): INSERT OR REPLACE, not delete + insert: deleting
    and re-adding a million keys of the primary key's index made the commit ~20 times slower (DuckDB
    2.0, measured with benchmarks/bench_ingest.py). A table without a key index (`Table.key_index`,
    contacts) has no index to keep: the stored rows with a key of the file are deleted (a hash join
    of the stored keys against the file's) and the file's rows appended.
    """
    name = quote_ident(table.name)
    cols = ", ".join(quote_ident(c.name) for c in table.columns)
    values = ", ".join(_stored_value(table, c) for c in table.columns)
    if keyed:
        return [f"insert or replace into {name} ({cols}) select {values} from _ingest_checked where reason is null"]
    key_match = " and ".join(f"c.{quote_ident(k)} = o.{quote_ident(k)}" for k in table.key)
    return [f"delete from {name} as o where exists (select 1 from _ingest_checked as c where c.reason is null and {key_match})",
            f"insert into {name} ({cols}) select {values} from _ingest_checked where reason is null"]


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
    name = quote_ident(table.name)
    cols = ", ".join(quote_ident(c.name) for c in table.columns)
    values = ", ".join(_stored_value(table, c) for c in table.columns)
    columns = ", ".join(f"{quote_ident(c.name)} {SQL_TYPES[c.type]}" for c in table.columns)
    key_match = " and ".join(f"c.{quote_ident(k)} = o.{quote_ident(k)}" for k in table.key)
    if not keep_stored:
        replace = [f"drop table {name}", f"create table {name} ({columns})"]
    else:  # the stored table, renamed, is read once for the kept rows and then dropped
        replace = [f"alter table {name} rename to _ingest_old", f"create table {name} ({columns})",
                   f"""insert into {name} ({cols})
                       select {cols} from _ingest_old as o
                       where not exists (select 1 from _ingest_checked as c where c.reason is null and {key_match})""",
                   "drop table _ingest_old"]
    insert = [f"insert into {name} ({cols}) select {values} from _ingest_checked where reason is null"]
    if not table.key_index:  # e.g. contacts: no key index to build (see upsert_sql)
        return replace + insert
    return replace + insert + [f"alter table {name} add primary key ({', '.join(quote_ident(k) for k in table.key)})"]


def _rebuild_pays(con, table: Table, loaded: int) -> bool:
    """Whether rebuilding costs less than INSERT OR REPLACE: a rebuild rewrites the kept rows (stored
    keys the file lacks) besides the file's, and one row written plus its share of the sorted key
    costs about half of one INSERT OR REPLACE through the index. So: an empty table (first import),
    or kept rows at most half the file's valid rows (a full re-import). 3M contacts measured:
    re-import of the same keys 12.9 CPU-s upserting vs 8.6 rebuilding; 3M new keys into a table
    of 3M 9.7 upserting vs 11.1 rebuilding (benchmarks/bench_ingest.py and by hand)."""
    name = quote_ident(table.name)
    stored = scalar(con, f"select count(*) from {name}")
    if stored == 0:
        return True
    if stored > loaded * 1.5:  # kept >= stored - loaded > loaded / 2 whatever the overlap
        return False
    key_match = " and ".join(f"c.{quote_ident(k)} = o.{quote_ident(k)}" for k in table.key)
    replaced = scalar(con, f"select count(*) from {name} as o where exists "
                           f"(select 1 from _ingest_checked as c where c.reason is null and {key_match})")
    return stored - replaced <= loaded / 2


def _columns(con, name: str) -> list[tuple[str, str]]:
    """(column, type) of a table of the database, in order, types spelled as the contract's."""
    stored = con.execute("select column_name, data_type from duckdb_columns() "
                         "where schema_name = 'main' and table_name = $t and database_name = current_database() "
                         "order by column_index", {"t": name}).fetchall()
    spelled = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}  # as duckdb_columns() writes it
    return [(c, spelled.get(t, t)) for c, t in stored]


def _rebuildable(con, table: Table) -> bool:
    """The stored table is exactly the contract's (columns in order, types) with no index of its own,
    so recreating it from `rebuild_sql` changes nothing but the rows."""
    indexes = scalar(con, "select count(*) from duckdb_indexes() where table_name = $t and database_name = current_database()",
                     {"t": table.name})
    return _columns(con, table.name) == [(c.name, SQL_TYPES[c.type]) for c in table.columns] and indexes == 0


def _write_once(con, table: Table) -> bool:
    """Whether the file's checked rows can become the table itself (`checked_sql(temp=False)`, then
    `_adopt_checked`): a table without a key index (contacts), stored empty, exactly the contract's.
    The rows are then written to the database once instead of staged in a temporary table and
    copied: 3M contacts, peak memory 724 -> 495 MB; CPU time within the noise of a loaded machine."""
    return (not table.key_index and not _keyed(con, table) and _rebuildable(con, table)
            and not scalar(con, f"select count(*) > 0 from (select 1 from {quote_ident(table.name)} limit 1)"))


def _adopt_checked(con, table: Table, quarantined: bool) -> bool:
    """The checked rows (a table of the database) become `table`: bad rows deleted, helper columns
    dropped, the empty stored table replaced by it (DuckDB drops a column without rewriting the
    others). False, changing nothing, when its columns are not exactly the contract's."""
    wanted = [(c.name, SQL_TYPES[c.type]) for c in table.columns]
    have = _columns(con, "_ingest_checked")
    if have[:len(wanted)] != wanted:
        return False
    if quarantined:
        con.execute("delete from _ingest_checked where reason is not null")
    for column, _ in have[len(wanted):]:
        con.execute("alter table _ingest_checked drop column " + quote_ident(column))
    con.execute("drop table " + quote_ident(table.name))
    con.execute("alter table _ingest_checked rename to " + quote_ident(table.name))
    return True


def _keyed(con, table: Table) -> bool:
    """Whether the stored table has a primary key (a database made before `Table.key_index` was
    False for it still has one, until a rebuild recreates the table as schema.table_ddl makes it)."""
    return scalar(con, "select count(*) > 0 from duckdb_constraints() where table_name = $t and database_name = current_database() "
                       "and schema_name = 'main' and constraint_type = 'PRIMARY KEY'", {"t": table.name})


def _store(con, table: Table, loaded: int) -> None:
    """The `loaded` valid rows into their table: rebuilt when that pays, else an upsert.

    A table without a key index is only rebuilt to drop a primary key it still has (see _keyed):
    without an index, deleting the replaced rows and appending the file's never writes more."""
    if not loaded:
        return
    keyed = _keyed(con, table)
    if (keyed or table.key_index) and _rebuildable(con, table) and _rebuild_pays(con, table, loaded):
        for statement in rebuild_sql(table, keep_stored=scalar(con, f"select count(*) > 0 from {quote_ident(table.name)}")):
            con.execute(statement)
    else:
        for statement in upsert_sql(table, keyed):
            con.execute(statement)


# --------------------------------------------------------------------------------------------
# One file, then the whole import
# --------------------------------------------------------------------------------------------

def _load_file(con, source: Source, import_id: int, assume_tz: str | None, phone_zones: bool, step) -> FileResult:
    table = source.table
    drop(con, *FILE_SCRATCH)
    write_once = _write_once(con, table)
    if write_once:
        drop(con, "_ingest_checked")  # the previous file's (temporary): the name must resolve to this one
    sql = checked_sql(source, assume_tz is not None, temp=not write_once)
    source, broken = _read_checked(con, source, sql, {"zone": assume_tz} if "$zone" in sql else {})
    try:
        return _check_and_store(con, source, import_id, phone_zones, step, write_once, broken)
    finally:
        if source.read_path:
            source.read_path.unlink(missing_ok=True)


def _read_checked(con, source: Source, sql: str, params: dict) -> tuple[Source, list[tuple[int, bytes]]]:
    """Run the typing query over the file. When DuckDB met a quote it could not parse, the lines of
    broken quotes are set aside and a copy of the file without them is read instead (quotes.py):
    the source then reads that copy (its `read_path`, the caller's to delete)."""
    run_reading(con, source, sql, params)
    if source.kind != "csv" or not quote_rejected(con):
        return source, []
    broken = broken_quote_lines(source.path, len(source.file_columns))
    if not broken:
        return source, []
    source = replace(source, read_path=emptied_copy(source.path, [line for line, _ in broken]))
    try:
        drop(con, *FILE_SCRATCH)
        run_reading(con, source, sql, params)
    except BaseException:
        source.read_path.unlink(missing_ok=True)
        raise
    return source, broken


def _check_and_store(con, source: Source, import_id: int, phone_zones: bool, step, write_once: bool,
                     broken: list[tuple[int, bytes]]) -> FileResult:
    table = source.table
    step(0.7)
    staged = scalar(con, "select count(*) from _ingest_checked")

    unknown = unknown_accounts_sql(table)
    if unknown:
        con.execute(unknown)
    if scalar(con, duplicates_exist_sql(table)):
        con.execute(duplicates_sql(table))
    step(0.1)
    if table.name == "accounts" and phone_zones:
        derive_phone_zones(con)

    loaded = scalar(con, "select count(*) from _ingest_checked where reason is null")
    note_changes(con, table)  # refresh helper: the keys these rows touch, before they replace stored ones
    rejected, quarantined = quarantine_rows(con, source, import_id, staged, broken)
    if not (write_once and _adopt_checked(con, table, quarantined > rejected)):
        _store(con, table, loaded)
        if write_once:
            drop(con, "_ingest_checked")
    step(0.2)
    return FileResult(table.name, source.name, staged + rejected, loaded, quarantined)


def _begin_import(con, sources: list[Source], assume_timezone: str | None) -> int:
    """Inside the transaction: the schema, what every file's checks read, and the new import's number
    (one more than any in import_log or quarantine)."""
    create_schema(con)
    if "accounts" not in {s.table.name for s in sources} and not scalar(con, "select count(*) from accounts"):
        raise UserError("accounts.csv (or accounts.parquet) is required: the database has no accounts yet")
    con.execute("create or replace temp table _ingest_zones as select name from pg_timezone_names()")
    if assume_timezone:
        for macro in LOCAL_INSTANT_MACROS:
            con.execute(macro)
    return scalar(con, "select coalesce(max(import_id), 0) + 1 from (select import_id from import_log union all select import_id from quarantine)")


def _log_file(con, import_id: int, source: Source, source_label: str, counts: FileResult, started: float, finished: float) -> None:
    """The file's line of import_log. Times: DuckDB's now() is the start of this transaction; the
    elapsed seconds measured here are added to it."""
    con.execute("""
        insert into import_log
        select $import_id, now() + to_microseconds($started_us), now() + to_microseconds($finished_us),
               $source, $table, $file, $read, $loaded, $quarantined""",
                {"import_id": import_id, "started_us": int(started * 1e6), "finished_us": int(finished * 1e6),
                 "source": source_label or str(source.path.parent), "table": source.table.name,
                 "file": source.name, "read": counts.read, "loaded": counts.loaded,
                 "quarantined": counts.quarantined})


def _end_import(con) -> None:
    """The data's as-of time for the pages, and the scratch tables dropped."""
    as_of = con.execute(sql_text("ingest_data_as_of")).fetchall()[0][0]
    if as_of:
        set_meta(con, "data_as_of", as_of)
    set_meta(con, "source", "import")  # a firm's data, even in a demo's file: the demo users stop working
    drop(con, *IMPORT_SCRATCH)


def import_sources(con, sources: list[Source], *, source_label: str = "", assume_timezone: str | None = None,
                   derive_phone_zones: bool = False, progress: bool = False) -> ImportResult:
    """Import checked sources (see `plan`) into an open read-write database, all or nothing.

    Runs in one transaction: on any error the database is rolled back and the error re-raised.
    `derive_phone_zones`: fill an account's empty phone_timezone from its `phone` (see
    phones.derive_phone_zones); off by default, since the contract ignores columns it does not name.
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
    con.execute("set TimeZone = 'UTC'")  # the zone arithmetic of the checks reads timestamptz::timestamp as UTC
    con.execute("set preserve_insertion_order = true")  # rowid = file position (checked_sql); DuckDB's default
    con.begin()
    try:
        result = ImportResult(_begin_import(con, sources, assume_timezone))
        for source in sources:
            bar.set_description(source.name)
            started = time.perf_counter() - t0  # elapsed timing only
            size = sizes[source.path]
            file_result = _load_file(con, source, result.import_id, assume_timezone, derive_phone_zones,
                                     lambda share: bar.update(int(size * share)))
            _log_file(con, result.import_id, source, source_label, file_result, started, time.perf_counter() - t0)
            result.files.append(file_result)
        result.changed = collect_changes(con, result.import_id)  # refresh helper: for the incremental refresh
        _end_import(con)
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

    Every check that needs no database runs first. The import and the derived tables it changes are
    then written into a new version of the database (analysis.store), published in one step when
    both are done: readers see the import whole or not at all, and a failure anywhere leaves the
    database as it was (a database this call would have created is not created).
    """
    db_path = store.check_path(db_path)
    check_zone(assume_timezone)
    files, ignored = find_sources(directory)
    sources = plan(files)
    if store.current(db_path) is None and "accounts" not in files:
        raise UserError(f"{directory} has no accounts.csv (or accounts.parquet), and {db_path} holds no accounts yet: accounts are required")
    with store.writing(db_path) as con:
        previous = store.current(db_path)  # the version this one was copied from (not yet replaced)
        result = import_sources(con, sources, source_label=str(Path(directory).resolve()),
                                assume_timezone=assume_timezone, derive_phone_zones=derive_phone_zones, progress=progress)
        result.ignored = ignored
        if previous is not None and result.changed is not None:
            result.changed = replace(result.changed, previous=str(previous))
        if refresh:
            from analysis.pipeline import refresh as refresh_derived

            refresh_derived(con, progress=progress, changed=result.changed)  # only what the import touched
    return result
