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
   as its table a rebuild of the table with the primary key built last: `rebuild_sql`; a table
   without a key index, contacts, deletes the replaced rows and appends, and on a first import keeps
   the checked table itself as the table: `load._adopt_checked`), the others go to `quarantine`
   with their line number and raw text (the file is read again for that, only when it has bad rows).
Before any of that, every file's header is checked without touching the database, so a missing
required column or an unreadable file fails before the database is opened for writing.

The SQL here is generated from `analysis.schema` (identifiers of the contract only, through
`analysis.db.quote_ident`); every value that comes from the user (file paths, the assumed zone) is a
bound parameter.

The modules:
- `sources`: finding the table files, checking their headers, reading a file as text;
- `checks`: the generated SQL that types each column and gives each row the rules it breaks;
- `phones`: `--derive-phone-zones`, an account's zone from its phone number;
- `load`: the transaction: storing valid rows (upsert or rebuild), numbering the import, logging it;
- `quarantine`: the bad rows with their physical line numbers and raw text;
- `cli`: the command's arguments and printed summary;
- `sql`: small SQL helpers (literals of our constants, scratch tables).
"""
from analysis.ingest.checks import LOCAL_INSTANT_MACROS, checked_sql, duplicates_exist_sql, duplicates_sql, unknown_accounts_sql
from analysis.ingest.cli import add_arguments, format_table, run
from analysis.ingest.load import FileResult, ImportResult, import_directory, import_sources, rebuild_sql, upsert_sql
from analysis.ingest.phones import derive_phone_zones, phone_zone
from analysis.ingest.quarantine import line_numbers
from analysis.ingest.sources import LOAD_ORDER, SUFFIXES, Source, check_zone, find_sources, inspect_source, plan

__all__ = [
    "LOAD_ORDER", "LOCAL_INSTANT_MACROS", "SUFFIXES", "FileResult", "ImportResult", "Source",
    "add_arguments", "check_zone", "checked_sql", "derive_phone_zones", "duplicates_exist_sql", "duplicates_sql", "find_sources",
    "format_table", "import_directory", "import_sources", "inspect_source", "line_numbers", "phone_zone",
    "plan", "rebuild_sql", "run", "unknown_accounts_sql", "upsert_sql",
]
