"""Time the Compliance page's data functions on a demo database (default: data/demo.duckdb).

    .venv/bin/python benchmarks/bench_compliance_workspace.py [--db FILE]

Prints one line per function: rows returned and seconds (median of 3 runs, cold DuckDB cursor each
time, no Streamlit cache). Run on a quiet machine; figures from a shared box are noisy.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.compliance import whatif, workspace  # noqa: E402
from analysis.db import DEFAULT_DB, connect, rows  # noqa: E402
from analysis.filters import Filters  # noqa: E402


def timed(label, func, *args, repeat=3):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func(*args)
        times.append(time.perf_counter() - t0)
    n = len(out) if hasattr(out, "__len__") else "-"
    print(f"{label:<42} {str(n):>9} rows  {statistics.median(times):7.3f} s")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(DEFAULT_DB))
    args = parser.parse_args()
    con = connect(args.db, read_only=True)
    contacts, breaches = rows(con, "select (select count(*) from contacts), (select count(*) from breaches)")[0]
    print(f"{args.db}: {contacts:,} contacts, {breaches:,} breaches")
    f = Filters()
    timed("breach_counts (all dimensions)", workspace.breach_counts, con, f)
    timed("trend_totals", workspace.trend_totals, con, f)
    timed("worst_offenders agent", workspace.worst_offenders, con, f, "agent")
    listed = timed("breach_list", workspace.breach_list, con, f)
    first = listed.iloc[0]
    timed("breach_detail (one breach)", workspace.breach_detail, con, first["contact_id"], first["rule_id"])
    timed("signal_list", workspace.signal_list, con, f)
    timed("whatif.simulate regf_7in7 cap 4", whatif.simulate, con, "regf_7in7", 4, None, repeat=1)
    timed("whatif.simulate regf_post_conversation 3d", whatif.simulate, con, "regf_post_conversation", None, 3, repeat=1)
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
