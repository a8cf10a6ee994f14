"""Import speed: 3 million contact rows (+ their accounts) as CSV and as Parquet, into a new database.

Prints rows per second of the import itself (read, type and validate, quarantine, upsert, commit);
the derived tables of `analysis.pipeline` are not recomputed here (they have their own benchmarks).
Then re-imports the CSV into the same database (every key exists: the table is rebuilt, see DECISIONS "Upsert"),
and, for reference, times DuckDB storing the same files with no checks at all (the import's floor).

Besides wall time it prints the process's CPU time: on a shared machine wall time mostly measures
the neighbours, while CPU time / cores is what the import would take with the machine to itself.

    .venv/bin/python benchmarks/bench_ingest.py [--contacts 3000000] [--accounts 100000]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.ingest import import_directory  # noqa: E402
from analysis.schema import CALL_OUTCOMES, CHANNELS  # noqa: E402

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]


def generate(out: Path, n_contacts: int, n_accounts: int, seed: int = 7) -> None:
    """accounts and contacts tables in the contract, written by DuckDB as CSV and Parquet."""
    rng = np.random.default_rng(seed)
    accounts = pa.table({
        "account_id": [f"A{i:08d}" for i in range(n_accounts)],
        "consumer_id": [f"C{i:08d}" for i in rng.integers(0, n_accounts, n_accounts)],
        "placed_date": np.datetime64("2025-01-01") + rng.integers(0, 365, n_accounts).astype("timedelta64[D]"),
        "placed_balance": np.round(rng.uniform(50, 9000, n_accounts), 2),
        "timezone": np.array(ZONES)[rng.integers(0, len(ZONES), n_accounts)],
        "phone": [f"+1{a}{b:07d}" for a, b in zip(rng.integers(201, 990, n_accounts), rng.integers(2_000_000, 9_999_999, n_accounts))],
        "state": np.array(["MA", "NY", "TX", "CA"])[rng.integers(0, 4, n_accounts)],
        "vulnerable": rng.random(n_accounts) < 0.03,
    })
    seconds = rng.integers(0, 365 * 86400, n_contacts)
    channel = np.array(CHANNELS)[rng.choice(len(CHANNELS), n_contacts, p=[0.6, 0.15, 0.15, 0.05, 0.05])]
    outcome = np.where(channel == "call", np.array(CALL_OUTCOMES)[rng.integers(0, len(CALL_OUTCOMES), n_contacts)], "sent")
    contacts = pa.table({
        "contact_id": np.char.add("K", np.arange(n_contacts).astype(str)),
        "account_id": np.char.add("A", np.char.zfill(rng.integers(0, n_accounts, n_contacts).astype(str), 8)),
        "epoch_s": seconds + 1_767_225_600,  # from 2026-01-01
        "channel": channel,
        "direction": np.where(rng.random(n_contacts) < 0.9, "outbound", "inbound"),
        "outcome": outcome,
        "agent_id": np.char.add("AG", rng.integers(0, 400, n_contacts).astype(str)),
        "duration_s": rng.integers(0, 900, n_contacts),
    })
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("accounts_src", accounts)
    con.register("contacts_src", contacts)
    contacts_sql = ("select contact_id, account_id, strftime(make_timestamp(epoch_s * 1000000), '%Y-%m-%dT%H:%M:%SZ') as ts, "
                    "channel, direction, outcome, agent_id, duration_s from contacts_src")
    for kind, opts in (("csv", "(header, delimiter ',')"), ("parquet", "(format parquet)")):
        (out / kind).mkdir()
        con.execute(f"copy accounts_src to '{out / kind / ('accounts.' + kind)}' {opts}")
        con.execute(f"copy ({contacts_sql}) to '{out / kind / ('contacts.' + kind)}' {opts}")
    con.close()


def floor(directory: Path, db: Path) -> list[tuple[str, int, float, float]]:
    """What DuckDB alone takes to store the same files with no checks at all: `create table as
    select * from read_csv/read_parquet` (types sniffed), then the same plus the contacts' primary
    key built at commit. The import cannot beat these: it reads, types, validates and keys the same
    rows. Returns (label, rows, wall s, CPU s)."""
    out = []
    for keyed in (False, True):
        if db.exists():
            db.unlink()
        con = duckdb.connect(str(db))
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        con.begin()
        rows = 0
        for table in ("accounts", "contacts"):
            path = next(directory.glob(table + ".*"))
            reader = "read_csv" if path.suffix == ".csv" else "read_parquet"
            con.execute(f"create table {table} as select * from {reader}(?)", [str(path)])
            rows += con.execute(f"select count(*) from {table}").fetchall()[0][0]
        if keyed:
            con.execute("alter table contacts add primary key (contact_id)")
        con.commit()
        con.close()
        out.append((f"{directory.name}: DuckDB bare load{' + key' if keyed else ''}", rows,
                    time.perf_counter() - t0, cpu_seconds() - cpu0))
    db.unlink()
    return out


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=3_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        generate(tmp, args.contacts, args.accounts)
        print(f"generated {args.contacts:,} contacts and {args.accounts:,} accounts in {time.perf_counter() - t0:.1f}s "
              f"(contacts.csv {(tmp / 'csv' / 'contacts.csv').stat().st_size / 1e6:.0f} MB)")
        for kind in ("csv", "parquet", "csv"):
            db = tmp / f"{kind}.duckdb"
            again = db.exists()
            cpu0 = cpu_seconds()
            result = import_directory(tmp / kind, db, refresh=False)
            cpu = cpu_seconds() - cpu0
            rows = result.read
            label = f"{kind} re-import (same keys)" if again else kind
            contacts = next(f for f in result.files if f.table == "contacts")
            print(f"{label:22s} {rows:>10,} rows in {result.seconds:5.2f}s wall = {rows / result.seconds:>10,.0f} rows/s; "
                  f"{cpu:5.2f} CPU-s = {rows / (cpu / cores):>10,.0f} rows/s on {cores} idle cores "
                  f"(contacts loaded {contacts.loaded:,}, quarantined {contacts.quarantined:,}; load average {os.getloadavg()[0]:.1f})")
        print("for reference, no checks, quarantine or upsert (the import's floor):")
        for kind in ("csv", "parquet"):
            for label, rows, wall, cpu in floor(tmp / kind, tmp / "floor.duckdb"):
                print(f"{label:31s} {rows:>10,} rows in {wall:5.2f}s wall = {rows / wall:>10,.0f} rows/s; "
                      f"{cpu:5.2f} CPU-s (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
