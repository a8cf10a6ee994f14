"""Import speed: 3 million contact rows (+ their accounts) as CSV and as Parquet, into a new database.

First the command a user runs, end to end in a subprocess (`python -m analysis ingest DIR --db FILE`:
import and derived tables), for the default shape and a larger one (`--big-contacts`, 0 to skip),
each beside DuckDB storing the same CSV files with no checks in the same run (the floor: `create
table as select * from read_csv(...)`, types sniffed, no key), with the ratios command / floor and
import / floor (issue 20's target: the command within 2.5x of the floor). The import part is the
time the command itself prints (`import N: ... in X s`, analysis.ingest.import_sources).

Then, in this process, rows per second of the import alone (read, type and validate, quarantine,
upsert, commit; no derived tables) for CSV and Parquet, and a re-import of the CSV into the same
database (every key exists: see DECISIONS "Upsert").

Besides wall time it prints CPU time: on a shared machine wall time mostly measures the
neighbours, while CPU time / cores is what the import would take with the machine to itself.

    .venv/bin/python benchmarks/bench_ingest.py [--contacts 3000000] [--accounts 100000]
                                                [--big-contacts 10000000] [--big-accounts 300000]
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
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


ROOT = Path(__file__).resolve().parent.parent


def generate(out: Path, n_contacts: int, n_accounts: int, seed: int = 7, kinds=("csv", "parquet")) -> None:
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
        if kind not in kinds:
            continue
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


def cpu_seconds(who=resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def command(directory: Path, db: Path) -> tuple[float, float, float]:
    """`python -m analysis ingest DIR --db FILE` in a subprocess, into a new database: (wall s of the
    whole command, CPU s of it, the import part's seconds as the command prints them)."""
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    cpu0, t0 = cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "analysis", "ingest", str(directory), "--db", str(db), "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu0
    if done.returncode:
        raise SystemExit(f"ingest failed: {done.stderr.strip()}")
    found = re.search(r"quarantined in ([0-9.]+)s", done.stdout)
    return wall, cpu, float(found.group(1)) if found else float("nan")


def end_to_end(tmp: Path, label: str, n_contacts: int, n_accounts: int, kinds=("csv",)) -> Path:
    """Generate a shape, then the command beside the floor, with the ratios."""
    directory = tmp / label
    directory.mkdir()
    t0 = time.perf_counter()
    generate(directory, n_contacts, n_accounts, kinds=kinds)
    print(f"{label}: generated {n_contacts:,} contacts and {n_accounts:,} accounts in {time.perf_counter() - t0:.1f}s "
          f"(contacts.csv {(directory / 'csv' / 'contacts.csv').stat().st_size / 1e6:.0f} MB)")
    wall, cpu, imported = command(directory / "csv", tmp / "cmd.duckdb")
    (_, rows, floor_wall, floor_cpu), _keyed = floor(directory / "csv", tmp / "floor.duckdb")
    print(f"  ingest command, end to end  {wall:6.2f}s wall {cpu:6.2f} CPU-s; of which the import {imported:5.1f}s "
          f"(the rest: start-up, derived tables) (load average {os.getloadavg()[0]:.1f})")
    print(f"  DuckDB floor (no checks)    {floor_wall:6.2f}s wall {floor_cpu:6.2f} CPU-s for {rows:,} rows; "
          f"with the contacts key {_keyed[2]:.2f}s wall {_keyed[3]:.2f} CPU-s")
    print(f"  ratios to the floor: command {wall / floor_wall:.1f}x wall ({cpu / floor_cpu:.1f}x CPU), "
          f"import {imported / floor_wall:.1f}x wall (target for the command: 2.5x)")
    return directory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=3_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--big-contacts", type=int, default=10_000_000, help="the larger shape's contacts (0: skip it)")
    parser.add_argument("--big-accounts", type=int, default=300_000)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        default = end_to_end(tmp, "default", args.contacts, args.accounts, kinds=("csv", "parquet"))
        if args.big_contacts:
            big = end_to_end(tmp, "larger", args.big_contacts, args.big_accounts)
            for path in big.rglob("*.*"):  # room for the rest
                path.unlink()
        print(f"default: the import alone, in this process ({args.contacts:,} contacts):")
        for kind in ("csv", "parquet", "csv"):
            db = tmp / f"{kind}.duckdb"
            again = db.exists()
            cpu0 = cpu_seconds()
            result = import_directory(default / kind, db, refresh=False)
            cpu = cpu_seconds() - cpu0
            rows = result.read
            label = f"{kind} re-import (same keys)" if again else kind
            contacts = next(f for f in result.files if f.table == "contacts")
            print(f"{label:22s} {rows:>10,} rows in {result.seconds:5.2f}s wall = {rows / result.seconds:>10,.0f} rows/s; "
                  f"{cpu:5.2f} CPU-s = {rows / (cpu / cores):>10,.0f} rows/s on {cores} idle cores "
                  f"(contacts loaded {contacts.loaded:,}, quarantined {contacts.quarantined:,}; load average {os.getloadavg()[0]:.1f})")
        print("for reference, no checks, quarantine or upsert (the import's floor):")
        for kind in ("csv", "parquet"):
            for label, rows, wall, cpu in floor(default / kind, tmp / "floor.duckdb"):
                print(f"{label:31s} {rows:>10,} rows in {wall:5.2f}s wall = {rows / wall:>10,.0f} rows/s; "
                      f"{cpu:5.2f} CPU-s (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
