"""`--input DIR` for the DuckDB engine: a Parquet (or CSV) directory audited or scored without an import.

The files go through the import itself (`analysis.ingest`: every check of SPEC section 1, bad rows
quarantined) into a database in a temporary folder, which the command then reads as it reads any
database, and which is removed afterwards. So `--engine duckdb --input DIR` gives what `ingest DIR`
followed by `--db` gives, and rows the import would quarantine are reported, not silently used.
"""
from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from analysis.errors import UserError


def add_source_arguments(parser, db_help: str = "database file (built by `demo` or `ingest`)") -> None:
    """`--db FILE` or `--input DIR` (one of them), and `--engine duckdb|spark`."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help=db_help)
    source.add_argument("--input", metavar="DIR",
                        help="directory of the SPEC section 1 tables as DIR/<table>.parquet (a file or a folder of parts; "
                             "any URI the cluster reads with --engine spark), read without an import")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="duckdb (default, this machine) or spark (spark-submit's session, SPARK_REMOTE, or local); "
                             "spark needs --input")


def check_engine(args) -> None:
    if args.engine == "spark" and not args.input:
        raise UserError("--engine spark reads Parquet: give --input DIR (`python -m analysis export --db FILE --out DIR` writes it)")


@contextmanager
def imported(input_dir: str):
    """The path of a temporary database holding `input_dir` imported (no derived tables); removed after."""
    from analysis.ingest.load import import_directory

    if "://" in str(input_dir):
        raise UserError(f"--input {input_dir}: the DuckDB engine reads local folders; use --engine spark for a cluster URI")
    if not Path(input_dir).is_dir():
        raise UserError(f"--input {input_dir} is not a directory: give the folder holding accounts.parquet, contacts.parquet, ...")
    with tempfile.TemporaryDirectory(prefix="analysis-input-") as tmp:
        db = Path(tmp) / "input.duckdb"
        result = import_directory(input_dir, db, refresh=False)
        if result.quarantined:
            print(f"note: {result.quarantined:,} rows of {input_dir} break the import contract and are left out "
                  f"(`python -m analysis ingest {input_dir} --db FILE` keeps them in its quarantine table with the reasons)",
                  file=sys.stderr)
        yield db
