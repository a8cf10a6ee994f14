"""What a cold page load costs in queries: every analysis function a page calls, uncached, timed.

The semantic layer (queries/semantic/) is created on every cursor (analysis/db.py `cursor`), so each
query pays for it. This prints, on one database:
- the cost of a cursor with the layer against a plain one (median of 200);
- per page, the time of the analysis calls a first visit makes (median of --repeat runs, each run
  from a fresh connection, so nothing is cached), for this tree and, with --baseline TREE, for
  another checkout of the code in the same run (each tree in its own process, alternating).

    .venv/bin/python benchmarks/bench_pages.py [--db data/demo.duckdb] [--baseline ../other-checkout] [--repeat 5]

With --views, every view of every page (each analysis call the page's views make, `VIEWS`) instead
of the first visit only; with --team and --start, the sidebar filter those calls get (a filter not
asked before: every run is on a fresh connection, so nothing is cached); with --calls, each call's
time on its own (median of the runs), the slowest first per page.

    .venv/bin/python benchmarks/bench_pages.py --db DB --views --team North --start 2026-03-01 --calls
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
    "conversations": ["report.sentiment_cells(con, ALL, 'team')", "report.vulnerable_accounts(con, ALL)"],
    "contact_plan": ["summary.model_card(con)", "summary.default_date(con, summary.model_card(con)['scores_as_of'])",
                     "summary.has_stored_plan(con, summary.model_card(con)['scores_as_of'], summary.model_card(con)['model_id'], "
                     "load_rules())",
                     "summary.stored_view(con, summary.model_card(con)['scores_as_of'], summary.model_card(con)['model_id'], "
                     "F, (), 500, 2000)"],
}

# Every analysis call of every view (dashboard/app_pages/*.py), "page: view" -> calls; F is the filter.
VIEWS = {
    "scorecard": PAGES["scorecard"],
    "experience: trend": ["experience.monthly(con, F, 'UTC')"],
    "experience: segments": ["experience.monthly(con, F, 'UTC')", "experience.by_segment(con, F, 'team', 'UTC')"],
    "experience: drivers": ["experience.monthly(con, F, 'UTC')", "experience.theme_drivers(con, F, 'UTC')"],
    "experience: verbatims": ["experience.monthly(con, F, 'UTC')", "experience.verbatims(con, F, '', 'UTC')",
                              "experience.sentiment_available(con)"],
    "complaints: overview": ["complaints.summary(con, F, 'UTC')", "complaints.monthly(con, F, 'UTC')",
                             "complaints.by_segment(con, F, 'category', 'UTC')"],
    "complaints: resolution": ["complaints.summary(con, F, 'UTC')", "complaints.resolution_days(con, F, 'UTC')",
                               "complaints.backlog_ageing(con, F, None, 'UTC')", "complaints.cfpb_timeliness(con, F, 'UTC')"],
    "complaints: breaches": ["complaints.summary(con, F, 'UTC')", "complaints.contact_complaints_with_breaches(con, F, 'UTC')"],
    "repayments: collections": ["repayments.collected_by_month(con, F, 'portfolio')", "repayments.monthly_totals(con, F)",
                                "repayments.lifetime_by_segment(con, F, 'portfolio')"],
    "repayments: curves": ["repayments.liquidation_curves(con, F)"],
    "repayments: promises": ["repayments.promises_by(con, F, 'team')", "repayments.broken_promises(con, F)"],
    "repayments: best time": ["repayments.contact_heatmap(con, F, 'call')", "repayments.contact_by_channel(con, F)"],
    "balance: quadrant": ["balance.has_sentiment(con)", "balance.groups(con, F, 'team')"],
    "balance: champion": ["balance.has_sentiment(con)", "balance.strategies(con)",
                          "balance.compare(con, F, 'champion', 'challenger')"],
    "balance: over time": ["balance.has_sentiment(con)", "balance.monthly(con, F, 'strategy')"],
    "compliance: overview": ["workspace.rule_set_label(con)", "workspace.ready(con)", "workspace.trend_totals(con, F)",
                             "workspace.breaches_by(con, F, 'rule')", "workspace.trend(con, F)",
                             "workspace.worst_offenders(con, F, 'agent')", "workspace.worst_offenders(con, F, 'team')"],
    # The list's counts and the rows shown (issue 20, stop 33); a tree before them read the whole list.
    "compliance: breaches": ["workspace.rule_catalog(con)",
                             "workspace.breach_state_counts(con, F, (), ()) if hasattr(workspace, 'breach_page') "
                             "else workspace.breach_list(con, F, ())",
                             "workspace.breach_page(con, F, (), (), (), 2000) if hasattr(workspace, 'breach_page') else None"],
    "compliance: signals": ["workspace.signals_ready(con)", "workspace.signal_counts(con, F)", "workspace.signal_list(con, F, (), 2000)"],
    "conversations: overview": ["report.ready(con)", "report.sentiment_cells(con, F, 'team')", "report.vulnerable_accounts(con, F)"],
    "conversations: lowest": ["report.lowest(con, F, 25)"],
    "conversations: qa": ["report.qa_rows(con, F)"],
    "conversations: vulnerable": ["report.vulnerable_accounts(con, F)"],
    "contact_plan": PAGES["contact_plan"],
    "contact_plan: another ranking": ["summary.plan_for(con, summary.model_card(con)['scores_as_of'], 'balance', "
                                      "summary.model_card(con)['model_id'])"],
    "sidebar": ["catalog.filter_options(con)", "catalog.data_as_of(con)"],
}

CHILD = r"""
import json, statistics, sys, time
tree, db, repeat, pages = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
spec = json.loads(sys.argv[5])
sys.path.insert(0, tree)
from datetime import date
from analysis import balance, catalog, complaints, experience, repayments, scorecard
from analysis.compliance import workspace
from analysis.compliance.rules import load_rules
from analysis.sentiment import report
try:
    from analysis.plan import summary  # the Contact plan page (issue 24); absent from older trees
except ImportError:
    summary = None
from analysis.db import connect
import analysis.db as dbm
from analysis.filters import ALL, Filters
F = Filters(start=date.fromisoformat(spec["start"]) if spec.get("start") else None,
            teams=tuple(spec.get("teams") or ()))
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
    runs, each = [], {call: [] for call in calls}
    for _ in range(repeat):
        con = connect(db, read_only=True)
        t = time.perf_counter()
        for call in calls:
            t1 = time.perf_counter()
            eval(call)
            each[call].append(time.perf_counter() - t1)
        runs.append(time.perf_counter() - t)
        con.close()
    out[page] = 1000 * statistics.median(runs)
    out["calls:" + page] = {call: 1000 * statistics.median(v) for call, v in each.items()}
print(json.dumps(out))
"""


def run_tree(tree: Path, db: Path, repeat: int, pages: dict, spec: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(db), str(repeat), json.dumps(pages), json.dumps(spec)],
                          cwd=tree, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="database (default: data/demo.duckdb, built in a temporary "
                        "folder when missing)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time in the same run")
    parser.add_argument("--baseline-db", type=Path, help="the database the baseline reads (default: --db), e.g. a "
                        "copy whose aggregate tables that checkout's code built")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--views", action="store_true", help="every view of every page, not the first visit only")
    parser.add_argument("--team", action="append", default=[], help="sidebar team filter (repeatable)")
    parser.add_argument("--start", help="sidebar start date, YYYY-MM-DD")
    parser.add_argument("--calls", action="store_true", help="print each call's time, the slowest first")
    parser.add_argument("--only", action="append", default=[], help="pages whose name starts so (repeatable)")
    args = parser.parse_args()
    pages = VIEWS if args.views else PAGES
    spec = {"teams": args.team, "start": args.start}
    if not args.views:
        pages = {p: [c.replace("ALL", "F") for c in calls] for p, calls in PAGES.items()}
    if args.only:
        pages = {p: calls for p, calls in pages.items() if p.startswith(tuple(args.only))}
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
    dbs = {"this tree": args.db, "baseline": args.baseline_db or args.db}
    for _ in range(2):  # alternate the trees, twice, so a change in the machine's load hits both
        for name, tree in trees.items():
            results[name].append(run_tree(tree, dbs[name], args.repeat, pages, spec))
    merged = {name: {k: min(r[k] for r in runs) if isinstance(runs[0][k], float) else
                     {c: min(r[k][c] for r in runs) for c in runs[0][k]} if isinstance(runs[0][k], dict) else runs[0][k]
                     for k in runs[0]}
              for name, runs in results.items()}
    here = merged["this tree"]
    if "cursor_ms" in here:
        print(f"cursor with the semantic layer {here['cursor_ms'][0]:.2f} ms, plain cursor {here['cursor_ms'][1]:.3f} ms")
    print(f"filter: teams {args.team or 'all'}, start {args.start or 'the full span'}")
    print(f"{'page':<26} {'this tree ms':>13}" + (f" {'baseline ms':>12} {'ratio':>6}" if args.baseline else ""))
    for page in pages:
        line = f"{page:<26} {here[page]:>13.0f}"
        if args.baseline:
            base = merged["baseline"][page]
            line += f" {base:>12.0f} {here[page] / base:>6.2f}"
        print(line)
        if args.calls:
            for call, ms in sorted(here["calls:" + page].items(), key=lambda kv: -kv[1]):
                base = merged["baseline"]["calls:" + page].get(call) if args.baseline else None
                print(f"    {ms:>8.0f} ms" + (f" (baseline {base:.0f})" if base is not None else "") + f"  {call}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
