"""Demo build speed: time to build the default demo database (20,000 accounts) and contacts per second.

Usage: .venv/bin/python benchmarks/bench_demo.py [--accounts N] [--seed S]
Prints the load time (tables written) and the total time (including the derived-table pipeline),
both as wall-clock seconds; the machine is shared, so figures are noisy.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from analysis import pipeline  # noqa: E402
from analysis.demo import build  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        # Time the derived-table steps apart from the load, so the demo builder's own figure is visible.
        step_times: dict[str, float] = {}
        original = pipeline.refresh

        def timed_refresh(con, progress=True):
            t = time.perf_counter()
            original(con, progress=False)
            step_times["pipeline"] = time.perf_counter() - t

        pipeline.refresh = timed_refresh
        t0 = time.perf_counter()
        build(path, accounts=args.accounts, seed=args.seed, progress=False)
        total = time.perf_counter() - t0
        pipeline.refresh = original
        con = duckdb.connect(str(path), read_only=True)
        contacts = con.execute("select count(*) from contacts").fetchall()[0][0]
        turns = con.execute("select count(*) from turns").fetchall()[0][0]
        con.close()
        size_mb = path.stat().st_size / 1e6
    load = total - step_times.get("pipeline", 0.0)
    print(f"accounts {args.accounts:,}  contacts {contacts:,}  turns {turns:,}  file {size_mb:,.0f} MB")
    print(f"demo load (all eleven tables): {load:.1f} s  ({contacts / load:,.0f} contacts/s)")
    print(f"derived-table pipeline:        {step_times.get('pipeline', 0.0):.1f} s")
    print(f"total build (target < 60 s):   {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
