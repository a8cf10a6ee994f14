"""The audit and the scorecard on Spark (local mode) against DuckDB, end to end, same run (issue 22).

For each book: its contract tables are exported to Parquet (`python -m analysis export`, untimed), then
each command is run as a user runs it, in a subprocess (interpreter start, Spark start where it applies,
the work, the file written), and the outputs are compared byte for byte:

- audit:     `audit --db FILE` (DuckDB, the baseline) | `audit --engine duckdb --input DIR` (an import,
             then the audit) | `audit --engine spark --input DIR`
- scorecard: `scorecard --db FILE --month M` | `--engine duckdb --input DIR` | `--engine spark --input DIR`

Books: the demo database (`--demo-db`, default data/demo.duckdb: 20,000 accounts), any other database
(`--db PATH`, e.g. the 200,000-account demo built with `demo --accounts 200000`), and synthetic books from
benchmarks/bench_audit.py (`--dense N`: ~125 contacts per account, most of them breaches; `--sparse N`:
10 per account, few breaches).

    .venv/bin/python benchmarks/bench_spark.py [--demo-db data/demo.duckdb] [--db BIG.duckdb ...]
        [--dense 1000000] [--sparse 1000000] [--month 2026-06] [--skip-input]

Local Spark on 2 cores is expected to be slower than DuckDB on one machine (a JVM, task scheduling,
shuffles to disk); its value is past one machine. Prints wall and CPU seconds and the ratio to the
baseline; exits 1 if any output differs from the baseline's.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SYNTHETIC_MONTH = "2026-03"  # bench_audit's synthetic books span 2025-12..2026-05


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (the child's, all threads; a JVM child's own included) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"`python -m analysis {' '.join(args)}` failed: {done.stderr.strip().splitlines()[-1:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def bench_book(label: str, db: Path, tmp: Path, month: str, skip_input: bool) -> bool:
    print(f"== {label}: {db} ({load()})", flush=True)
    parquet = tmp / f"{label}.parquet.d"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analysis", "export", "--db", str(db), "--out", str(parquet)],
                   cwd=ROOT, check=True, capture_output=True)
    size = sum(f.stat().st_size for f in parquet.rglob("*") if f.is_file())
    print(f"  exported to Parquet in {time.perf_counter() - t0:.1f} s ({size / 1e6:,.0f} MB)")
    same = True
    for command, extra, suffix in (("audit", [], "csv"), ("scorecard", ["--month", month], "csv")):
        outs = {}
        variants = [("duckdb --db", ["--db", str(db)]),
                    ("duckdb --input", ["--engine", "duckdb", "--input", str(parquet)]),
                    ("spark --input", ["--engine", "spark", "--input", str(parquet)])]
        if skip_input:
            variants = [variants[0], variants[2]]
        base = None
        for name, source in variants:
            out = tmp / f"{label}.{command}.{name.replace(' ', '_').replace('-', '')}.{suffix}"
            wall, cpu = run([command, *source, *extra, "--out", str(out)])
            base = wall if base is None else base
            outs[name] = out
            # CPU: the child and what it waited for; a local Spark's JVM is not waited for, so it is left out
            cpu_text = f"{cpu:8.2f} s cpu" if name.startswith("duckdb") else "  (JVM) cpu"
            print(f"  {command:<9} {name:<15} {wall:8.2f} s wall {cpu_text}   x{wall / base:5.1f} of duckdb --db",
                  flush=True)
        for name, out in outs.items():
            if not filecmp.cmp(outs["duckdb --db"], out, shallow=False):
                print(f"  DIFFERENT: {command} {name} does not match duckdb --db")
                same = False
        lines = sum(1 for _ in outs["duckdb --db"].open()) - 1
        print(f"  {command}: outputs {'identical' if same else 'DIFFER'} ({lines:,} rows)")
    return same


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo-db", default=str(ROOT / "data" / "demo.duckdb"))
    p.add_argument("--db", action="append", default=[], help="another database to run (repeatable)")
    p.add_argument("--dense", type=int, default=0, help="contacts of a synthetic breach-dense book (0: none)")
    p.add_argument("--sparse", type=int, default=0, help="contacts of a synthetic breach-sparse book (0: none)")
    p.add_argument("--month", default="2026-06")
    p.add_argument("--skip-input", action="store_true", help="leave out --engine duckdb --input (an import each time)")
    args = p.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        tmp = Path(tmp)
        books = [("demo", Path(args.demo_db), args.month)] + [(Path(d).stem, Path(d), args.month) for d in args.db]
        for shape, n in (("dense", args.dense), ("sparse", args.sparse)):
            if n:
                sys.path.insert(0, str(ROOT / "benchmarks"))
                from bench_audit import SHAPES, build_synthetic

                db = tmp / f"{shape}.duckdb"
                build_synthetic(db, n, SHAPES[shape]).close()
                books.append((f"{shape}-{n}", db, SYNTHETIC_MONTH))
        for label, db, month in books:
            ok &= bench_book(label, db, tmp, month, args.skip_input)
    print("all outputs identical to DuckDB's" if ok else "SOME OUTPUTS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
