"""What the access log costs a page run: appending an entry, and the sign-in limit's look-up.

Every page view that changes the URL appends one chained entry (a SQLite write), and every sign-in
attempt first counts the name's and the client's recent failures. Both are timed on a new, empty log
(the baseline of the same run) and on a log already holding `--entries` entries of a busy year
(page views of many users, with failures sprinkled in), so the growth of the log shows.
`verify` (what `verify-logs` and the Data page do) is timed over the whole full log too.

    .venv/bin/python benchmarks/bench_accesslog.py [--entries 1000000] [--repeat 200]
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis import accesslog, chain  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def fill(path: Path, entries: int) -> None:
    """`entries` chained entries over a year: 500 users' page views, one in fifty a failed sign-in."""
    rng = random.Random(0)
    with sqlite3.connect(path, isolation_level=None) as con:
        accesslog._setup(con)
        con.execute("begin")
        prev = chain.GENESIS
        for i in range(entries):
            at = (T0 + timedelta(seconds=i * 31_536_000 / entries)).isoformat(timespec="microseconds")
            failed = rng.random() < 0.02
            values = [at, "sign_in_failed" if failed else "page_view", f"user{rng.randrange(500)}",
                      f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
                      json.dumps({} if failed else {"page": "scorecard", "filters": {"team": ["North"]}})]
            digest = chain.digest(prev, values)
            con.execute("insert into access_log (at, event, username, client, detail, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?)",
                        [*values, prev, digest])
            prev = digest
        con.execute("commit")


def timed(repeat: int, func) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=200)
    args = p.parse_args(argv)
    now = T0 + timedelta(days=365)
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = Path(tmp) / "empty.sqlite", Path(tmp) / "full.sqlite"
        t0 = time.perf_counter()
        fill(full, args.entries)
        print(f"filled a log of {args.entries:,} entries in {time.perf_counter() - t0:.1f} s "
              f"({full.stat().st_size / 1e6:.0f} MB)")
        print(f"{'log':<24}{'append p50/p95 ms':>20}{'limit check p50/p95 ms':>26}")
        for name, path in (("empty (baseline)", empty), (f"{args.entries:,} entries", full)):
            append = timed(args.repeat, lambda: accesslog.record(path, "page_view", now, "user7", "10.0.0.7", page="scorecard"))
            check = timed(args.repeat, lambda: accesslog.sign_in_wait(path, "user7", "10.0.0.7", now))
            print(f"{name:<24}{append[0]:>10.2f} / {append[1]:<8.2f}{check[0]:>14.2f} / {check[1]:<8.2f}")
        t0 = time.perf_counter()
        count, _, problems = accesslog.verify(full)
        print(f"verify over {count:,} entries: {time.perf_counter() - t0:.1f} s, {len(problems)} problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
