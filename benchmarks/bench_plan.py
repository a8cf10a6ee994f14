"""Speed of the contact plan (issue 24): the headroom on books of two shapes, and the `plan` command
end to end on demo databases, each against the audit of the same data in the same run.

1. Headroom (`analysis.plan.headroom`, every account x call/sms/email) on bench_audit's synthetic books
   (`--contacts`, default 3 million) in two shapes: "dense" (125 contacts per account, over half of
   them breaches) and "sparse" (10 per account), planned for a date in the middle of the history;
   against `find_breaches` (the audit engine) on the same book.
2. The command as a user runs it, `python -m analysis plan --db FILE --out FILE.csv` in a subprocess
   (interpreter start, propensity scores, headroom, reach, ranking, CSV written), on the default demo
   and on larger ones (`--demo-accounts`, e.g. 20000,200000; built into a temporary folder, with a
   propensity model trained by `propensity train`), against `python -m analysis audit` on the same
   database in the same run. Prints seconds, rows, and the ratio plan / audit.

    .venv/bin/python benchmarks/bench_plan.py [--contacts 3000000] [--demo-accounts 20000,200000] [--skip-books]

Wall-clock figures move with other load on the machine (`uptime` is printed); compare ratios.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.compliance.engine import find_breaches  # noqa: E402
from analysis.plan.headroom import headroom  # noqa: E402
from analysis.schema import create_schema  # noqa: E402
from benchmarks.bench_audit import generate  # noqa: E402

PY = sys.executable
SHAPES = {"dense": 125, "sparse": 10}
BOOK_DAY = date(2026, 3, 16)  # the synthetic books run 150 days from 2026-01-01


def uptime() -> str:
    return os.getloadavg().__repr__()


def books(n_contacts: int) -> None:
    for shape, per_account in SHAPES.items():
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        create_schema(con)
        generate(con, n_contacts, per_account=per_account)
        t0 = time.perf_counter()
        room = headroom(con, BOOK_DAY)
        t_room = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = find_breaches(con)
        t_audit = time.perf_counter() - t0
        con.close()
        print(f"book {shape:<6} {n_contacts:>10,} contacts  headroom {t_room:6.2f}s ({len(room):,} rows, "
              f"{(~room['offered']).sum():,} without headroom)  audit engine {t_audit:6.2f}s ({len(found):,} breaches)  "
              f"headroom/audit {t_room / t_audit:.2f}  load {uptime()}", flush=True)


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    done = subprocess.run([PY, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"python -m analysis {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds, done


def demos(sizes: list[int], tmp: Path) -> None:
    for n in sizes:
        db = tmp / f"demo{n}.duckdb"
        t_build, _ = timed(["demo", "--db", str(db), "--accounts", str(n), "--quiet", "--sentiment-model", "vader"])
        has_model = duckdb.connect(str(db.resolve()), read_only=True)
        try:
            models = has_model.execute("select count(*) from propensity_models").fetchall()[0][0]
        finally:
            has_model.close()
        t_train = None
        if not models:
            t_train, _ = timed(["propensity", "train", "--db", str(db)])
        out = tmp / f"plan{n}.csv"
        t_plan, done = timed(["plan", "--db", str(db), "--out", str(out)])
        rows = sum(1 for _ in out.open()) - 1
        t_audit, _ = timed(["audit", "--db", str(db), "--out", str(tmp / f"audit{n}.csv")])
        print(f"demo {n:>8,} accounts  built {t_build:6.1f}s{'' if t_train is None else f'  trained {t_train:6.1f}s'}  "
              f"plan command {t_plan:6.2f}s ({rows:,} rows)  audit command {t_audit:6.2f}s  plan/audit {t_plan / t_audit:.2f}  "
              f"load {uptime()}", flush=True)
        print("   ", done.stderr.strip().splitlines()[-1])
        for f in tmp.glob(f"*{n}*"):
            if f.is_file():
                f.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=3_000_000)
    parser.add_argument("--demo-accounts", default="20000")
    parser.add_argument("--skip-books", action="store_true")
    args = parser.parse_args()
    print(f"bench_plan  cpus {os.cpu_count()}  load {uptime()}")
    if not args.skip_books:
        books(args.contacts)
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        demos([int(n) for n in args.demo_accounts.split(",") if n], Path(tmp))


if __name__ == "__main__":
    main()
