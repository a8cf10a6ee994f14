"""Derived tables: a full rebuild against the incremental refresh of "one more day" (issue 20).

For each database given (default: the 200k-account scale demo and the default demo), on a private
copy: rebuild every derived table in full (timed per step); write one more day as the contract's CSV
files (the newest contacts, about --day-contacts of them, with their conversations and turns,
shifted forward by whole days past the newest contact, new ids; 30,000 per million accounts); import it with the real importer;
refresh incrementally with the keys it reports (timed per step); then rebuild in full again on the
same data (timed) and check that both give the same tables (row count and a hash of all rows).

Wall seconds and the process's CPU seconds are printed: on a shared 2-core machine wall time mostly
measures the neighbours.

With --quick the full rebuilds before and after are skipped (the database's derived tables are
taken as the full rebuild they are after `demo` or `refresh`; tests/test_incremental_refresh.py proves
incremental = full): what is left is the import and the incremental refresh, for the 1M book.
With --command the day is then imported again, on a fresh copy, by the command a user runs
(`python -m analysis ingest DAY --db FILE`: the version copy, the import, the refresh and the
publish, analysis.store), timed end to end against copying the database file alone (its floor).

With --floor, before the refresh: one search per table for the touched keys' rows, timed (the floor
under any incremental refresh of tables stored in day order).

    .venv/bin/python benchmarks/bench_refresh.py [--db FILE ...] [--work DIR] [--day-contacts 30000] [--quick] [--command] [--floor]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import incremental, store  # noqa: E402
from analysis.db import connect, get_meta, quote_ident  # noqa: E402
from analysis.ingest import find_sources, import_sources, plan  # noqa: E402
from analysis.pipeline import refresh  # noqa: E402
from analysis.schema import DERIVED, TABLES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DBS = ["/work/scale/demo1m.duckdb", "/work/scale/demo200k.duckdb", str(ROOT / "data" / "demo.duckdb")]
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%g%z"


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def scalar(con, sql: str, params=None):
    cur = con.cursor()
    try:
        return cur.execute(sql, params or []).fetchall()[0][0]
    finally:
        cur.close()


def timed_refresh(con, changed=None, model: str | None = None) -> tuple[dict[str, float], float, float]:
    w0, c0 = time.perf_counter(), cpu()
    steps = refresh(con, progress=False, changed=changed, sentiment_model=model)
    return steps, time.perf_counter() - w0, cpu() - c0


def write_day(con, out: Path, day_contacts: int) -> int:
    """One more day as CSV files in `out`: the newest `day_contacts` contacts and the conversations
    (with turns) started in that span, shifted by whole days past the newest contact, with new ids."""
    out.mkdir(parents=True, exist_ok=True)
    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")
        cur.execute("""create or replace temp table _span as
            select min(ts) as first_ts, max(ts) as last_ts from (select ts from contacts order by ts desc limit $n)""",
                    {"n": day_contacts})
        cur.execute("""create or replace temp table _shift as
            select to_days(cast(ceil(date_diff('second', first_ts, last_ts) / 86400.0 + 0.001) as integer)) as shift_by
            from _span""")
        cols = {name: ", ".join(quote_ident(c.name) for c in TABLES[name].columns) for name in ("contacts", "conversations", "turns")}
        queries = {
            "contacts": "select * replace (contact_id || '-n' as contact_id, ts + (select shift_by from _shift) as ts) "
                        "from contacts where ts >= (select first_ts from _span)",
            "conversations": "select * replace (conversation_id || '-n' as conversation_id, contact_id || '-n' as contact_id, "
                             "started_at + (select shift_by from _shift) as started_at) "
                             "from conversations where started_at >= (select first_ts from _span)",
            "turns": "select * replace (conversation_id || '-n' as conversation_id) from turns where conversation_id in "
                     "(select conversation_id from conversations where started_at >= (select first_ts from _span))",
        }
        for name, query in queries.items():
            path = out / f"{name}.csv"
            # the file name is ours (a folder of this benchmark), not a user's value
            cur.execute(f"copy (select {cols[name]} from ({query})) to '{path}' (header, timestampformat '{TS_FORMAT}')")
        return cur.execute("select count(*) from contacts where ts >= (select first_ts from _span)").fetchall()[0][0]
    finally:
        cur.close()


# The tables an incremental refresh must search for the touched keys' rows (to read them, or to delete
# them before the new rows go in), and the key it searches by. They are stored in day order (a date
# filter skips row groups), so a search by account or conversation reads the whole column.
SEARCHED = {
    "contacts": "account_id", "payments": "account_id", "conversations": "account_id", "turns": "conversation_id",
    "breaches": "account_id", "risk_signals": "account_id", "turn_sentiment": "conversation_id",
    "conversation_sentiment": "conversation_id", "qa_results": "conversation_id", "qa_hits": "conversation_id",
    "vulnerability_flags": "conversation_id", "breach_facts": "account_id", "payment_facts": "account_id",
    "outbound_facts": "account_id",
}


def search_floor(con, changed) -> None:
    """The floor under an incremental refresh on this storage: one semi-join search per table for the
    touched accounts' (or conversations') rows, each timed alone; the refresh does at least this."""
    cur = con.cursor()
    try:
        cur.execute("create or replace temp table _floor_accounts as select unnest($1::varchar[]) as account_id",
                    [sorted(changed.values("account_id"))])
        cur.execute("create or replace temp table _floor_conversations as select conversation_id from conversations "
                    "where account_id in (select account_id from _floor_accounts)")
        total, parts = 0.0, []
        for table, key in SEARCHED.items():
            keys = "_floor_accounts" if key == "account_id" else "_floor_conversations"
            t0 = time.perf_counter()
            k = quote_ident(key)
            n = cur.execute(f"select count(*) from {quote_ident(table)} where {k} in (select {k} from {keys})").fetchall()[0][0]
            seconds = time.perf_counter() - t0
            total += seconds
            parts.append(f"{table} {seconds:.2f} ({n:,})")
        print(f"search floor:           {total:6.1f} s wall, one search per table for the touched keys' rows: " + "  ".join(parts))
    finally:
        cur.close()


def fingerprint(con) -> dict[str, tuple[int, int]]:
    """Per derived table: rows and the sum of a hash of every row (order does not matter)."""
    out = {}
    for name in DERIVED:
        t = quote_ident(name)
        out[name] = (scalar(con, f"select count(*) from {t}"), scalar(con, f"select coalesce(sum(hash(x)::hugeint), 0)::varchar from {t} as x"))
    return out


def pinned_model(con) -> str | None:
    """'vader' when the book's sentiment scores are VADER's and the configured pipeline model is another
    (the demo books are built with --sentiment-model vader; since issue 23 the configured model is the
    transformer): the refresh then keeps VADER, as it would keep a book's own model, instead of rescoring
    every text of the book in full. None: the configured model scored the book."""
    from analysis.sentiment import DEFAULT_MODEL, read_config

    stored = get_meta(con, "sentiment_model") or ""
    configured = read_config().get("pipeline", {}).get("model", DEFAULT_MODEL)
    return "vader" if stored.startswith("vader") and configured != "vader" else None


# The ingest command with the sentiment configuration in the file named first (the pinned model).
COMMAND_WITH_CONFIG = ("import sys; from pathlib import Path; import analysis.sentiment as s; "
                       "s.CONFIG = Path(sys.argv.pop(1)); from analysis.__main__ import main; sys.exit(main())")


def command(copy: Path, work: Path, day: Path, model: str | None = None) -> None:
    """The ingest command on the day's files, end to end, on `copy` (the database before the day, its
    derived tables a full rebuild); and the bare copy of the file. `model`: the sentiment model to
    configure for it (pinned_model), through a configuration file of its own."""
    db = copy
    w0 = time.perf_counter()
    floor = work / f"{db.stem}_copy.duckdb"
    shutil.copyfile(copy, floor)
    copy_s = time.perf_counter() - w0
    floor.unlink()
    w0 = time.perf_counter()
    run = [sys.executable, "-m", "analysis"]
    if model is not None:
        config = work / "sentiment.toml"
        config.write_text(f'[pipeline]\nmodel = "{model}"\n', encoding="utf-8")
        run = [sys.executable, "-c", COMMAND_WITH_CONFIG, str(config)]
    done = subprocess.run([*run, "ingest", str(day), "--db", str(copy)], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - w0
    steps = "  ".join(line.strip().removeprefix("derived ") for line in done.stderr.splitlines()
                      if line.startswith("  derived "))
    print(f"ingest command:         {wall:6.1f} s wall (exit {done.returncode})   {steps}")
    print(f"  copying the {os.path.getsize(copy) / 1e9:.2f} GB file alone: {copy_s:.1f} s "
          f"(every write starts with this copy: analysis.store)")
    if done.returncode:
        print("  " + done.stderr.strip().splitlines()[-1])
    remove_database(copy)


def bench(db: Path, work: Path, day_contacts: int | None, quick: bool = False, with_command: bool = False,
          floor: bool = False) -> None:
    name = db.stem
    copy = work / f"{name}.duckdb"
    print(f"\n== {db} -> {copy}", flush=True)
    for leftover in (copy, Path(f"{copy}.wal")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(os.path.realpath(db), copy)
    con = connect(copy)
    con.execute("set memory_limit = '4GB'")
    accounts = scalar(con, "select count(*) from accounts")
    contacts = scalar(con, "select count(*) from contacts")
    print(f"accounts {accounts:,}, contacts {contacts:,}, turns {scalar(con, 'select count(*) from turns'):,}")
    if day_contacts is None:
        day_contacts = 30000 if accounts >= 200000 else max(accounts * 30 // 1000, 100)
    model = pinned_model(con)
    if model is not None:
        print(f"sentiment model kept: {model} (the book's scores are {get_meta(con, 'sentiment_model')}; "
              "the configured model would rescore every text in full)")

    marked = all(get_meta(con, incremental.meta_key(step)) == str(incremental.data_import_id(con))
                 for step in ("breaches", "risk_signals", "conversations", "aggregates"))
    if not quick or not marked:  # (a database whose derived tables are not marked as a full rebuild of its data)
        steps, wall, cpus = timed_refresh(con, model=model)
        print(f"full rebuild (before):  {wall:6.1f} s wall  {cpus:6.1f} s CPU   " + "  ".join(f"{k} {v:.1f}" for k, v in steps.items()))
    base = work / f"{name}_cmd.duckdb"  # the database before the day, for the command
    if with_command:
        con.close()
        for leftover in (base, Path(f"{base}.wal")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(copy, base)
        con = connect(copy)
        con.execute("set memory_limit = '4GB'")

    day = work / f"day_{name}"
    shutil.rmtree(day, ignore_errors=True)
    n_day = write_day(con, day, day_contacts)
    con.close()
    # The day goes in as the ingest command puts it (analysis.ingest.import_directory): into a new
    # version copied from `copy` (analysis.store), whose previous version the aggregates step reads to
    # take the touched accounts' old share out of contact_daily. (An import into an open connection
    # has no previous version: contact_daily is then rebuilt in full, which is not the command's path.)
    w0 = time.perf_counter()
    with store.writing(copy) as con:
        print(f"new version (the copy of the file every write starts with): {time.perf_counter() - w0:6.1f} s wall")
        previous = store.current(copy)
        w0, c0 = time.perf_counter(), cpu()
        files, _ = find_sources(day)
        result = import_sources(con, plan(files))
        changed = replace(result.changed, previous=str(previous))
        print(f"import of one more day: {time.perf_counter() - w0:6.1f} s wall  {cpu() - c0:6.1f} s CPU   "
              f"{n_day:,} contacts, {result.loaded:,} rows loaded, {result.quarantined:,} quarantined; "
              f"{len(changed.values('account_id')):,} accounts, {len(changed.values('conversation_id')):,} conversations touched")
        if floor:
            search_floor(con, changed)
        inc_steps, inc_wall, inc_cpu = timed_refresh(con, changed, model)
        modes = {k: get_meta(con, f"derived_mode_{k}", "full: no incremental path") for k in inc_steps}
        modes["aggregates"] += f", contact_daily {get_meta(con, 'contact_daily_mode')}"
        w0 = time.perf_counter()
        con.execute("checkpoint")
        checkpoint_s = time.perf_counter() - w0
        print(f"incremental refresh:    {inc_wall:6.1f} s wall  {inc_cpu:6.1f} s CPU   "
              + "  ".join(f"{k} {v:.1f} ({modes[k]})" for k, v in inc_steps.items())
              + f"; then its checkpoint {checkpoint_s:.1f} s (the command's publish does it)")
        if not quick:
            incremental_fp = fingerprint(con)
            full_steps, full_wall, full_cpu = timed_refresh(con, model=model)
            print(f"full rebuild (after):   {full_wall:6.1f} s wall  {full_cpu:6.1f} s CPU   "
                  + "  ".join(f"{k} {v:.1f}" for k, v in full_steps.items()))
            full_fp = fingerprint(con)
            same = incremental_fp == full_fp
            print(f"ratio full/incremental: {full_wall / inc_wall:.1f}x wall, {full_cpu / max(inc_cpu, 1e-9):.1f}x CPU; "
                  f"tables equal: {same}")
            if not same:
                for t in DERIVED:
                    if incremental_fp[t] != full_fp[t]:
                        print(f"  DIFFERS {t}: incremental {incremental_fp[t]} full {full_fp[t]}")
    remove_database(copy)
    if with_command:
        command(base, work, day, model)
    shutil.rmtree(day, ignore_errors=True)


def remove_database(path: Path) -> None:
    """Delete a database made here: the file or link, its log, and the versions and lock analysis.store made."""
    shutil.rmtree(versions := path.parent / f".{path.name}.versions", ignore_errors=True)
    for leftover in (path, Path(f"{path}.wal"), path.parent / f".{path.name}.lock", versions):
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", action="append", help="database file (repeatable; default: 1M if present, 200k, default demo)")
    ap.add_argument("--work", default="/work/scale/refresh", help="folder for the copies (default /work/scale/refresh)")
    ap.add_argument("--day-contacts", type=int, default=None,
                    help="contacts in the day imported (default: 30,000 per million accounts, the issue's day, at least 30,000 "
                         "from 200k accounts up: a harder day than the book's own)")
    ap.add_argument("--quick", action="store_true", help="skip the full rebuilds before and after (see above)")
    ap.add_argument("--command", action="store_true", help="also time the ingest command end to end on a fresh copy")
    ap.add_argument("--floor", action="store_true", help="time one search per table for the touched keys' rows (the "
                    "floor under an incremental refresh on day-ordered tables) before refreshing")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    dbs = [Path(p) for p in (args.db or DEFAULT_DBS) if Path(p).exists()]
    for db in dbs:
        bench(db, work, args.day_contacts, args.quick, args.command, args.floor)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
