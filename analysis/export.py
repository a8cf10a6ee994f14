"""`python -m analysis export --db FILE --out DIR`: the SPEC section 1 tables as Parquet, one file each.

The layout `--input DIR` reads (`audit`/`scorecard --engine spark|duckdb`): `DIR/<table>.parquet`
with the contract's columns only, typed (timestamps as UTC instants, amounts as DECIMAL(18,2), dates,
booleans). A table the database lacks is not written. Each file is written beside its destination and
renamed into place; a failed export leaves no half-written file.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from analysis.db import connect, quote_ident, table_exists
from analysis.errors import UserError
from analysis.schema import TABLES


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file (built by `demo` or `ingest`)")
    parser.add_argument("--out", required=True, help="directory to write <table>.parquet files into (created if missing)")


def stored_columns(con, table: str) -> list[str]:
    have = {r[0] for r in con.cursor().execute(
        "select column_name from information_schema.columns where table_name = ?", [table]).fetchall()}
    return [c.name for c in TABLES[table].columns if c.name in have]


def export_tables(db: str | Path, out: str | Path) -> dict[str, int]:
    """Write every contract table of `db` to `out/<table>.parquet`; rows written per table."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file: give a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out}: {exc.strerror or exc}") from None
    con = connect(db, read_only=True)
    written = {}
    try:
        cur = con.cursor()
        cur.execute("set TimeZone = 'UTC'")
        for name in TABLES:
            if not table_exists(con, name):
                continue
            cols = ", ".join(map(quote_ident, stored_columns(con, name)))
            key = ", ".join(map(quote_ident, TABLES[name].key))
            target = out / f"{name}.parquet"
            tmp = out / f".{name}.parquet.tmp"
            try:
                cur.sql(f"select {cols} from {quote_ident(name)} order by {key}").to_parquet(str(tmp))
                os.replace(tmp, target)
            except (duckdb.Error, OSError) as exc:
                tmp.unlink(missing_ok=True)
                raise UserError(f"cannot write {target}: {str(exc).splitlines()[0]}") from None
            written[name] = cur.execute(f"select count(*) from {quote_ident(name)}").fetchall()[0][0]
        cur.close()
    finally:
        con.close()
    return written


def run(args) -> int:
    written = export_tables(args.db, args.out)
    for name, n in written.items():
        print(f"{name + '.parquet':<22} {n:>12,} rows")
    print(f"written to {args.out}")
    return 0
