"""`python -m analysis audit --db FILE --out FILE.csv [--rules FILE]`: write every breach to CSV.

Columns (SPEC section 4): contact_id, account_id, rule_id, ts, local_ts, evidence, explanation.
`ts` is ISO 8601 UTC with `Z`; `local_ts` the account's wall time without offset; `evidence` JSON.
The file is written next to its destination and renamed into place, so a failed run leaves no
half-written file. Prints the number of breaches per rule (every rule, zeros included).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from analysis.compliance.engine import COLUMNS, find_breaches
from analysis.compliance.rules import load_rules
from analysis.db import connect, table_exists
from analysis.errors import UserError


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file (built by `demo` or `ingest`)")
    parser.add_argument("--out", required=True, help="CSV file to write the breaches to")
    parser.add_argument("--rules", default=None, help="rules file (TOML); default config/rules.toml")


def _iso(series: pd.Series, suffix: str) -> pd.Series:
    # Whole seconds print without a fraction; sub-second times keep their microseconds.
    text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.removesuffix(".000000")
    return text + suffix


def format_for_csv(breaches: pd.DataFrame) -> pd.DataFrame:
    out = breaches[COLUMNS].copy()
    out["ts"] = _iso(out["ts"].dt.tz_convert("UTC"), "Z")
    out["local_ts"] = _iso(out["local_ts"], "")
    return out


def check_out_path(out: Path) -> None:
    if out.is_dir():
        raise UserError(f"--out {out} is a directory: give a file name such as {out / 'breaches.csv'}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"--out {out}: directory {parent} does not exist; create it or choose another path")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UserError(f"--out {out} is not writable: choose a path you can write to")


def write_csv_atomic(frame: pd.DataFrame, out: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent if str(out.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args) -> int:
    rules = load_rules(args.rules)
    out = Path(args.out)
    check_out_path(out)
    db = Path(args.db)
    if not db.is_file():
        raise UserError(f"database {db} does not exist: build it with `python -m analysis demo --db {db}` or import data with `python -m analysis ingest DIR --db {db}`")
    con = connect(db, read_only=True)
    try:
        missing = [t for t in ("accounts", "contacts", "consents", "preferences") if not table_exists(con, t)]
        if missing:
            raise UserError(f"database {db} has no {missing[0]} table: it is not a database of this product; build it with `python -m analysis demo` or `ingest`")
        try:
            breaches = find_breaches(con, rules)
        except duckdb.Error as exc:
            raise UserError(f"audit of {db} failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    write_csv_atomic(format_for_csv(breaches), out)
    counts = breaches["rule_id"].value_counts()
    width = max(len(r) for r in rules.ids)
    print(f"rule set: {rules.label}")
    for rule_id in rules.ids:
        print(f"{rule_id:<{width}}  {int(counts.get(rule_id, 0)):>9,}")
    print(f"{'total':<{width}}  {len(breaches):>9,}  breaches written to {out}")
    return 0
