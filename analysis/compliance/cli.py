"""`python -m analysis audit --db FILE --out FILE.csv [--rules FILE]`: write every breach to CSV.

Also `--engine duckdb --input DIR` (the Parquet or CSV tables of DIR imported into a temporary
database first, analysis.inputs) and `--engine spark --input DIR` (the same audit on Spark,
analysis.spark.audit, from DIR/<table>.parquet): the same file, byte for byte.

Columns (SPEC section 4): contact_id, account_id, rule_id, ts, local_ts, evidence, explanation.
`ts` is ISO 8601 UTC with `Z`; `local_ts` the account's wall time without offset; `evidence` JSON.
DuckDB writes the file itself (`COPY ... TO`, all threads), from the engine's statement through a
temporary table (which also gives the counts per rule): no DataFrame, no Python per row. The text of
each field is made in SQL (queries/audit_csv.sql) the way the command wrote it with pandas before,
byte for byte. The file is written next to its destination and renamed into place, so a failed run
leaves no half-written file. Prints the number of breaches per rule (every rule, zeros included).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from analysis.compliance.engine import breach_statement
from analysis.compliance.rules import RuleSet, load_rules
from analysis.db import connect, quote_ident, sql_text, table_exists
from analysis.errors import UserError
from analysis.inputs import add_source_arguments, check_engine, imported

# DuckDB writes each field's text as queries/audit_csv.sql made it (quote '': no quoting of its own),
# a header of the column names, nulls as nothing, lines ending in \n (DuckDB's COPY ... TO, through
# the relation's to_csv rather than by pasting the query's text into a statement).
CSV_OPTIONS = {"sep": ",", "na_rep": "", "header": True, "quotechar": ""}


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--out", required=True, help="CSV file to write the breaches to")
    parser.add_argument("--rules", default=None, help="rules file (TOML); default config/rules.toml")


def check_out_path(out: Path) -> None:
    if out.is_dir():
        raise UserError(f"--out {out} is a directory: give a file name such as {out / 'breaches.csv'}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"--out {out}: directory {parent} does not exist; create it or choose another path")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UserError(f"--out {out} is not writable: choose a path you can write to")


def write_breaches(con, rules: RuleSet, db: Path, out: Path) -> dict[str, int]:
    """Audit `rules` on `con` and write the breaches to `out` (atomically); the count per rule id.

    A DuckDB error in the audit is reported against the database; one in writing, or a failed
    rename, against `out`. Either way the temporary file is removed and `out` is left as it was.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent if str(out.parent) else ".")
    os.close(fd)  # DuckDB writes the file anew, so it is made owner-only again below, as mkstemp made it
    cur = con.cursor()
    written = False
    try:
        try:
            query, params, temp_tables = breach_statement(cur, rules)
            cur.execute("create temp table audit_breaches as " + query, params)
            for table in temp_tables:
                cur.execute("drop table if exists " + quote_ident(table))
            # on this cursor: the temp table is its own (analysis.db.rows would open another)
            counts = dict(cur.execute("select rule_id, count(*) from audit_breaches group by rule_id").fetchall())
        except duckdb.Error as exc:
            raise UserError(f"audit of {db} failed: {str(exc).splitlines()[0]}") from None
        try:
            cur.sql(sql_text("audit_csv")).to_csv(tmp, **CSV_OPTIONS)
        except duckdb.Error as exc:
            raise UserError(f"cannot write {out}: {str(exc).splitlines()[0]}") from None
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
        written = True
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        cur.close()
        if not written:
            Path(tmp).unlink(missing_ok=True)
    return counts


def run(args) -> int:
    check_engine(args)
    rules = load_rules(args.rules)
    out = Path(args.out)
    check_out_path(out)
    if args.engine == "spark":
        counts = run_spark(args.input, rules, out)
    elif args.input:
        with imported(args.input) as db:
            counts = run_duckdb(db, rules, out)
    else:
        counts = run_duckdb(Path(args.db), rules, out)
    width = max(len(r) for r in rules.ids)
    print(f"rule set: {rules.label}")
    for rule_id in rules.ids:
        print(f"{rule_id:<{width}}  {counts.get(rule_id, 0):>9,}")
    print(f"{'total':<{width}}  {sum(counts.values()):>9,}  breaches written to {out}")
    return 0


def run_duckdb(db: Path, rules: RuleSet, out: Path) -> dict[str, int]:
    if not db.is_file():
        raise UserError(f"database {db} does not exist: build it with `python -m analysis demo --db {db}` or import data with `python -m analysis ingest DIR --db {db}`")
    con = connect(db, read_only=True)
    try:
        missing = [t for t in ("accounts", "contacts", "consents", "preferences") if not table_exists(con, t)]
        if missing:
            raise UserError(f"database {db} has no {missing[0]} table: it is not a database of this product; build it with `python -m analysis demo` or `ingest`")
        return write_breaches(con, rules, db, out)
    finally:
        con.close()


def run_spark(input_dir: str, rules: RuleSet, out: Path) -> dict[str, int]:
    """The audit on Spark (analysis.spark.audit) of the Parquet tables in `input_dir`."""
    from analysis.spark.session import require_spark, session

    require_spark()
    from analysis.spark import audit
    from analysis.spark.tables import read_tables, table_paths

    table_paths(input_dir)  # a missing folder or accounts.parquet is told before Spark starts
    spark = session()
    read_tables(spark, input_dir)
    return audit.write_breaches(spark, rules, out)
