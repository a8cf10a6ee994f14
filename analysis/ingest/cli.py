"""The command line of `python -m analysis ingest DIR --db FILE`."""
from __future__ import annotations

from analysis.ingest.load import ImportResult, import_directory


def add_arguments(parser) -> None:
    parser.add_argument("dir", help="directory of table files: accounts.csv (required), contacts.csv, ... (CSV or Parquet)")
    parser.add_argument("--db", required=True, help="database file (created when missing)")
    parser.add_argument("--assume-timezone", metavar="ZONE",
                        help="IANA zone of timestamps written without UTC offset (otherwise such rows are quarantined)")
    parser.add_argument("--derive-phone-zones", action="store_true",
                        help="fill an empty phone_timezone from the account's phone column (the zone of its area code, "
                             "libphonenumber); off by default: the contract ignores a phone column, and the zone changes "
                             "which contacts breach inconvenient_time")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def format_table(result: ImportResult) -> str:
    rows = [("file", "read", "loaded", "quarantined")]
    rows += [(f.file, f"{f.read:,}", f"{f.loaded:,}", f"{f.quarantined:,}") for f in result.files]
    rows.append(("total", f"{result.read:,}", f"{result.loaded:,}", f"{result.quarantined:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(lines)


def run(args) -> int:
    progress = not args.no_progress
    result = import_directory(args.dir, args.db, assume_timezone=args.assume_timezone,
                              derive_phone_zones=args.derive_phone_zones, progress=progress)
    print(format_table(result))
    tail = f"import {result.import_id}: {result.loaded:,} rows loaded, {result.quarantined:,} quarantined in {result.seconds:.1f}s"
    if result.quarantined:
        tail += " (reasons in the quarantine table and on the Data page)"
    print(tail)
    if result.ignored:
        print(f"ignored (not a table of the contract): {', '.join(result.ignored)}")
    return 0
