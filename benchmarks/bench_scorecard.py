"""Speed of the scorecard, repayments and balance functions on a demo database (issue 6).

Builds a demo database with `analysis.demo.build` (default 20,000 accounts, the product's default
demo size) unless `--db` names one, then times, one run each (cold) and again (warm):
the 13-month metric history behind the Scorecard page, one month's CSV values, the PDF, the
Repayments views and the Balance views. Prints wall-clock seconds; single runs on a shared
machine, so figures move with other load.

    .venv/bin/python benchmarks/bench_scorecard.py [--db FILE] [--accounts 20000] [--seed 42] [--no-pdf]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import balance, repayments, scorecard  # noqa: E402
from analysis.db import connect  # noqa: E402
from analysis.filters import Filters  # noqa: E402


def timed(label: str, func, *args):
    t0 = time.perf_counter()
    result = func(*args)
    print(f"{label:<52} {time.perf_counter() - t0:7.3f} s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "demo.duckdb"
        if not args.db:
            from analysis.demo import build

            timed(f"build demo ({args.accounts} accounts)", lambda: build(db, accounts=args.accounts, seed=args.seed, progress=False))
        con = connect(db, read_only=True)
        counts = con.cursor().execute("select (select count(*) from contacts), (select count(*) from payments)").fetchall()[0]
        print(f"contacts {counts[0]:,}, payments {counts[1]:,}")
        month = scorecard.default_month(con)
        print(f"month {month}")
        for run in ("cold", "warm"):
            card = timed(f"[{run}] scorecard table (13 months, all metrics)", scorecard.scorecard, con, month)
            timed(f"[{run}] one month's CSV values", scorecard.month_values, con, month)
            timed(f"[{run}] scorecard, America/Chicago", scorecard.scorecard, con, month, "America/Chicago")
        if not args.no_pdf:
            pdf = timed("PDF (4 charts via kaleido + fpdf2)", scorecard.pdf_bytes, card, month)
            print(f"PDF size {len(pdf):,} bytes")
        f = Filters()
        timed("repayments: collected by month x channel", repayments.collected_by_month, con, f, "channel")
        timed("repayments: retention", repayments.monthly_totals, con, f)
        timed("repayments: lifetime by portfolio", repayments.lifetime_by_segment, con, f, "portfolio")
        timed("repayments: liquidation curves", repayments.liquidation_curves, con, f)
        timed("repayments: promises by agent", repayments.promises_by, con, f, "agent")
        timed("repayments: broken promises + follow-ups", repayments.broken_promises, con, f)
        timed("repayments: call heatmap", repayments.contact_heatmap, con, f, "call")
        timed("repayments: by channel", repayments.contact_by_channel, con, f)
        timed("balance: per agent", balance.groups, con, f, "agent")
        timed("balance: champion vs challenger", balance.compare, con, f, "champion", "challenger")
        timed("balance: month by month", balance.monthly, con, f, "strategy")
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
