"""What a cold page load costs in queries: every analysis function a page calls, uncached, timed.

The semantic layer (queries/semantic/) is created on every cursor (analysis/db.py `cursor`), so each
query pays for it. This prints, on one database:
- the cost of a cursor with the layer against a plain one (median of 200);
- per page, the time of the analysis calls a first visit makes (median of --repeat runs, each run
  from a fresh connection, so nothing is cached), for this tree and, with --baseline TREE, for
  another checkout of the code in the same run (each tree in its own process, alternating).

    .venv/bin/python benchmarks/bench_pages.py [--db data/demo.duckdb] [--baseline ../other-checkout] [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The calls a first visit of each page makes with the sidebar's defaults (dashboard/app_pages/*.py).
PAGES = {
    "scorecard": ["scorecard.month_choices(con, 'UTC')", "scorecard.scorecard(con, scorecard.default_month(con, 'UTC'), 'UTC')"],
    "experience": ["experience.monthly(con, ALL, 'UTC')", "experience.by_segment(con, ALL, 'team', 'UTC')"],
    "complaints": ["complaints.summary(con, ALL, 'UTC')", "complaints.monthly(con, ALL, 'UTC')",
                   "complaints.by_segment(con, ALL, 'category', 'UTC')"],
    "repayments": ["repayments.collected_by_month(con, ALL, 'portfolio')", "repayments.monthly_totals(con, ALL)"],
    "balance": ["balance.groups(con, ALL, 'team')", "balance.compare(con, ALL, 'champion', 'challenger')"],
    "compliance": ["workspace.trend_totals(con, ALL)", "workspace.breaches_by(con, ALL, 'rule')", "workspace.trend(con, ALL)",
                   "workspace.worst_offenders(con, ALL, 'agent')", "workspace.worst_offenders(con, ALL, 'team')"],
    "conversations": ["report.overview(con, ALL)", "report.histogram(con, ALL)", "report.trend(con, ALL, 'team')"],
}

CHILD = r"""
import json, statistics, sys, time
tree, db, repeat, pages = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
sys.path.insert(0, tree)
from analysis import balance, complaints, experience, repayments, scorecard
from analysis.compliance import workspace
from analysis.sentiment import report
from analysis.db import connect
import analysis.db as dbm
from analysis.filters import ALL
out = {}
con = connect(db, read_only=True)
if hasattr(dbm, "cursor"):
    times = []
    for _ in range(200):
        t = time.perf_counter(); c = dbm.cursor(con); times.append(time.perf_counter() - t); c.close()
    plain = []
    for _ in range(200):
        t = time.perf_counter(); c = con.cursor(); plain.append(time.perf_counter() - t); c.close()
    out["cursor_ms"] = [1000 * statistics.median(times), 1000 * statistics.median(plain)]
con.close()
for page, calls in pages.items():
    runs = []
    for _ in range(repeat):
        con = connect(db, read_only=True)
        t = time.perf_counter()
        for call in calls:
            eval(call)
        runs.append(time.perf_counter() - t)
        con.close()
    out[page] = 1000 * statistics.median(runs)
print(json.dumps(out))
"""


def run_tree(tree: Path, db: Path, repeat: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(db), str(repeat), json.dumps(PAGES)],
                          cwd=tree, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="database (default: data/demo.duckdb, built in a temporary "
                        "folder when missing)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time in the same run")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.db is not None and not args.db.exists():
        print(f"error: database {args.db} does not exist: build it with `make demo` or leave out --db", file=sys.stderr)
        return 2
    if args.db is None:
        args.db = ROOT / "data" / "demo.duckdb"
        if not args.db.exists():
            sys.path.insert(0, str(ROOT))
            from analysis.demo import build

            args.db = Path(tempfile.mkdtemp()) / "demo.duckdb"
            build(args.db, progress=False)
    trees = {"this tree": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    results = {name: [] for name in trees}
    for _ in range(2):  # alternate the trees, twice, so a change in the machine's load hits both
        for name, tree in trees.items():
            results[name].append(run_tree(tree, args.db, args.repeat))
    merged = {name: {k: min(r[k] for r in runs) if not isinstance(runs[0][k], list) else runs[0][k] for k in runs[0]}
              for name, runs in results.items()}
    here = merged["this tree"]
    if "cursor_ms" in here:
        print(f"cursor with the semantic layer {here['cursor_ms'][0]:.2f} ms, plain cursor {here['cursor_ms'][1]:.3f} ms")
    print(f"{'page':<14} {'this tree ms':>13}" + (f" {'baseline ms':>12} {'ratio':>6}" if args.baseline else ""))
    for page in PAGES:
        line = f"{page:<14} {here[page]:>13.0f}"
        if args.baseline:
            base = merged["baseline"][page]
            line += f" {base:>12.0f} {here[page] / base:>6.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
