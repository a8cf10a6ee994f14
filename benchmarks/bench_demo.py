"""Demo build speed and memory at several sizes: build time, its split (generating and loading the
contract's tables vs the derived-table pipeline), peak resident memory, seconds per 1,000 accounts.

Usage: .venv/bin/python benchmarks/bench_demo.py [--sizes 20000,100000,200000] [--1m] [--seed S]
       [--keep DIR] [--trace]

Each size is built in a child process of its own (so its peak RSS is its own: the child reads
`ru_maxrss`, which counts DuckDB's memory too, as DuckDB runs in the process). `--1m` adds
1,000,000 accounts (about 50M contacts; 10-15 minutes on a 2-core machine). `--trace` prints the
time and current RSS after every chunk of accounts, to show whether memory grows with the size.
The baseline for a size is the smaller sizes of the same run: seconds per 1,000 accounts should
stay flat. The machine is shared, so figures are noisy; quote ratios from one run.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    """Current resident set size of this process, MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(accounts: int, seed: int, path: Path, trace: bool) -> dict:
    """Build one demo database at `path` and return its figures (run in a process of its own)."""
    import duckdb

    import analysis.demo as demo
    from analysis import pipeline

    out: dict = {"accounts": accounts, "steps": {}, "chunks": []}
    t0 = time.perf_counter()
    original_chunk = demo._chunk

    def traced_chunk(*args, **kwargs):
        original_chunk(*args, **kwargs)
        out["chunks"].append((round(time.perf_counter() - t0, 1), round(_rss_mb())))
        if trace:
            print(f"    chunk {len(out['chunks'])}: {time.perf_counter() - t0:.1f} s, RSS {_rss_mb():,.0f} MB",
                  file=sys.stderr, flush=True)

    original_refresh = pipeline.refresh

    def timed_refresh(con, progress=True, changed=None):
        out["load_s"] = time.perf_counter() - t0
        out["load_peak_mb"] = _peak_mb()
        seconds = original_refresh(con, progress=trace, changed=changed)
        out["steps"] = dict(seconds or {})
        out["refresh_s"] = time.perf_counter() - out["load_s"] - t0
        out["refresh_peak_mb"] = _peak_mb()
        return seconds

    demo._chunk = traced_chunk
    pipeline.refresh = timed_refresh
    build_start = time.perf_counter()
    demo.build(path, accounts=accounts, seed=seed, progress=False)
    out["total_s"] = time.perf_counter() - build_start
    out["peak_mb"] = _peak_mb()
    con = duckdb.connect(str(path), read_only=True)
    cur = con.cursor()
    out["contacts"] = cur.execute("select count(*) from contacts").fetchall()[0][0]
    cur.close()
    cur = con.cursor()
    out["turns"] = cur.execute("select count(*) from turns").fetchall()[0][0]
    cur.close()
    con.close()
    out["file_mb"] = path.stat().st_size / 2**20
    return out


def run_size(accounts: int, seed: int, keep: Path | None, trace: bool) -> dict:
    with tempfile.TemporaryDirectory(dir=keep) as tmp:
        path = (keep / f"bench{accounts}.duckdb") if keep else Path(tmp) / "bench.duckdb"
        cmd = [sys.executable, __file__, "--child", str(accounts), "--seed", str(seed), "--path", str(path)]
        if trace:
            cmd.append("--trace")
        res = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000,200000", help="comma-separated numbers of accounts")
    parser.add_argument("--1m", dest="one_million", action="store_true", help="also build 1,000,000 accounts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="write the databases into this directory (kept)")
    parser.add_argument("--trace", action="store_true", help="print time and RSS after every chunk")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.seed, args.path, args.trace)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.one_million:
        sizes.append(1_000_000)
    print(f"{'accounts':>9} {'contacts':>11} {'turns':>11} {'load s':>7} {'derived s':>9} {'total s':>8} "
          f"{'s/1k acct':>9} {'load peak':>9} {'peak RSS':>9} {'file':>8}  derived steps (s)")
    for n in sizes:
        r = run_size(n, args.seed, args.keep, args.trace)
        steps = ", ".join(f"{k} {v:.1f}" for k, v in r["steps"].items())
        print(f"{n:>9,} {r['contacts']:>11,} {r['turns']:>11,} {r['load_s']:>7.1f} {r['refresh_s']:>9.1f} "
              f"{r['total_s']:>8.1f} {r['total_s'] / n * 1000:>9.2f} {r['load_peak_mb']:>6,.0f} MB "
              f"{r['peak_mb']:>6,.0f} MB {r['file_mb']:>5,.0f} MB  {steps}", flush=True)
    print("load: generating and inserting the eleven contract tables; derived: pipeline.refresh "
          "(breaches, risk signals, sentiment and QA). Peak RSS from ru_maxrss of a child per size.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
