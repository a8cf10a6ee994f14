"""`python -m analysis scorecard --db FILE | --input DIR [--engine duckdb|spark] --month YYYY-MM
--out FILE.csv|FILE.pdf [--timezone ZONE]`.

Three sources, one output: `--db` (a database), `--input DIR` on DuckDB (the Parquet directory
imported into a temporary database, `analysis.inputs.imported`) and `--input DIR --engine spark`
(`analysis.spark.scorecard`). Each gives `analysis.scorecard.metrics` the per-month frames of the same
query files; the metrics, the CSV and the PDF are made from them by the same Python.
"""
from __future__ import annotations

import sys
from pathlib import Path

from analysis.errors import UserError
from analysis.inputs import add_source_arguments, check_engine, imported
from analysis.scorecard.metrics import DEFAULT_RULES, breach_rule_set, check_tz, month_values, parse_month, scorecard
from analysis.scorecard.render import csv_text, pdf_bytes


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--month", required=True, help="calendar month, YYYY-MM")
    parser.add_argument("--out", required=True, help="output file: .csv for metric,value; .pdf for the report")
    parser.add_argument("--timezone", default="UTC", help="reporting time zone that defines the month (IANA name, default UTC)")


def run(args) -> int:
    from analysis.db import connect

    out = Path(args.out)
    if not out.parent.exists():
        raise UserError(f"output folder {out.parent} does not exist: create it or choose another --out")
    parse_month(args.month)
    tz = check_tz(args.timezone)
    check_engine(args)
    if args.engine == "spark":
        from analysis.spark.scorecard import spark_source

        _write(spark_source(args.input), args.month, tz, out)
        return 0
    if args.input:
        with imported(args.input) as db:
            con = connect(db, read_only=True)
            try:
                _write(con, args.month, tz, out)
            finally:
                con.close()
        return 0
    con = connect(args.db, read_only=True)
    try:
        # SPEC section 3: the default rules' breaches, found now by the engine when the stored audit
        # was made with another rule set (read-only: nothing is written to the database).
        _write(con, args.month, tz, out)
        source = breach_rule_set(con)
    finally:
        con.close()
    if not source["default"]:
        stored = f"was made with rule set {source['label'] or 'unknown'}" if source["stored"] else "is missing"
        print(f"note: the stored compliance audit {stored}; the breach metrics count the default rules' "
              f"breaches, found now (`python -m analysis refresh --db {args.db}` stores them)", file=sys.stderr)
    return 0


def _write(source, month: str, tz: str, out: Path) -> None:
    """The month's CSV (metric,value) or PDF from `source` (a DuckDB connection or a Spark source)."""
    if out.suffix.lower() == ".pdf":
        _write_atomic(out, pdf_bytes(scorecard(source, month, tz, DEFAULT_RULES), month, tz))
    else:
        _write_atomic(out, csv_text(month_values(source, month, tz, DEFAULT_RULES)).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file so that a failure never leaves half a file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}; choose another --out") from None
