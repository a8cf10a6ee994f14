"""`python -m analysis scorecard --db FILE --month YYYY-MM --out FILE.csv|FILE.pdf [--timezone ZONE]`."""
from __future__ import annotations

import sys
from pathlib import Path

from analysis.errors import UserError
from analysis.scorecard.metrics import DEFAULT_RULES, breach_rule_set, check_tz, month_values, parse_month, scorecard
from analysis.scorecard.render import csv_text, pdf_bytes


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file")
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
    con = connect(args.db, read_only=True)
    try:
        # SPEC section 3: the default rules' breaches, found now by the engine when the stored audit
        # was made with another rule set (read-only: nothing is written to the database).
        if out.suffix.lower() == ".pdf":
            data = pdf_bytes(scorecard(con, args.month, tz, DEFAULT_RULES), args.month, tz)
            _write_atomic(out, data)
        else:
            _write_atomic(out, csv_text(month_values(con, args.month, tz, DEFAULT_RULES)).encode("utf-8"))
        source = breach_rule_set(con)
    finally:
        con.close()
    if not source["default"]:
        stored = f"was made with rule set {source['label'] or 'unknown'}" if source["stored"] else "is missing"
        print(f"note: the stored compliance audit {stored}; the breach metrics count the default rules' "
              f"breaches, found now (`python -m analysis refresh --db {args.db}` stores them)", file=sys.stderr)
    return 0


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file so that a failure never leaves half a file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}; choose another --out") from None
