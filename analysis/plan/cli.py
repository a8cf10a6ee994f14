"""`python -m analysis plan --db FILE --date YYYY-MM-DD --out FILE.csv`: the contact plan for a date.

One row per account and channel offered, ranked (SPEC section 4): `rank, account_id, channel,
propensity, contact_from, contact_until, best_local_hour` first, then the account's rank, queue
(dialer or specialist), balance, expected collection, reach rate, local date and window, cap headroom,
cooldown end, the reasons, and the account's team, portfolio, strategy and state. `contact_from` and
`contact_until` are UTC, ISO 8601 with `Z`, whole seconds, both allowed: one more outbound contact on
the channel at any second between them breaches no active rule, the account's earlier contacts counted.
"""
from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from analysis.errors import UserError

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
QUEUES = ("all", "dialer", "specialist")
LATE_DAYS = 31  # a plan this long after the data's end gets a note: its propensities read stale history


def add_arguments(parser) -> None:
    from analysis.plan.build import RANKINGS

    parser.add_argument("--db", required=True, help="database file (built by `demo` or `ingest`, with a propensity model)")
    parser.add_argument("--date", help="the plan's date, YYYY-MM-DD, a local date in each account's zone "
                                       "(default: the day after the data's last event)")
    parser.add_argument("--out", required=True, help="CSV file to write the plan to")
    parser.add_argument("--rules", help="rules file (default: config/rules.toml)")
    parser.add_argument("--ranking", choices=RANKINGS, default="expected",
                        help="expected (propensity x balance, default), propensity or balance")
    parser.add_argument("--queue", choices=QUEUES, default="all",
                        help="all rows (default), only the dialer's, or only the specialist queue's")
    parser.add_argument("--replay", action="store_true",
                        help="for a past date: also train a model as of it, and print how the plan's accounts paid "
                             "against the firm's actual contacts that day, and the audit of the plan's contacts")


def parse_date(text: str, option: str = "--date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-02") from None


def write_csv(frame, out: Path) -> None:
    """Write `frame` to `out` through a temporary file renamed into place: `out` is whole or as it was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent if str(out.parent) else ".")
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def csv_frame(plan):
    """The plan as written: instants as ISO 8601 UTC with Z, figures rounded for reading."""
    out = plan.copy()
    for col in ("contact_from", "contact_until", "cooldown_ends"):
        out[col] = out[col].dt.strftime(ISO_Z)
    out["local_date"] = out["local_date"].dt.strftime("%Y-%m-%d")
    out["propensity"] = out["propensity"].round(6)
    out["expected_collection"] = out["expected_collection"].round(2)
    out["reach_rate"] = out["reach_rate"].round(4)
    return out


def check_date(con, day: date, end: date) -> None:
    """Refuse a date before any account was placed (a mistake: nothing to plan); note one long after the
    data's end (the propensities read a history that stops there)."""
    from analysis.db import rows

    first = rows(con, "select min(placed_date) from accounts")[0][0]
    if first is None or day <= first:
        placed = "no account is placed" if first is None else f"the first account was placed on {first}"
        raise UserError(f"--date {day}: {placed}, so no account is open on that date; choose a later date "
                        f"(the data's last event is on the day before {end})")
    if (day - end).days > LATE_DAYS:
        print(f"note: --date {day} is {(day - end).days} days after {end}, the day after the data's last event: the "
              "windows are exact, but the propensities read a history that stops there; import newer data first",
              file=sys.stderr)


def print_replay(r: dict) -> None:
    """The replay's figures, one line each (stdout)."""
    def line(name, f):
        share = "-" if f["paid_share"] is None else f"{100 * f['paid_share']:.1f}%"
        return f"  {name:<34} {f['accounts']:>8,} accounts  {share:>6} paid in 30 days  {f['collected']:>14,.2f} collected"

    print(f"replay of the plan for {r['date']} (model {r['model_id']}, trained as of that date):")
    print(line("the plan's first N accounts", r["plan"]))
    print(line("the accounts the firm contacted", r["actual"]))
    print(line("every open account", r["all_open"]))
    print(f"  the plan's {r['plan_rows']:,} contacts added to the history before the date: "
          f"{r['planned_contacts_breaching']:,} breach a rule {r['breaches_by_rule'] or ''}".rstrip())


def run(args) -> int:
    from analysis.compliance.cli import check_out_path
    from analysis.compliance.rules import load_rules
    from analysis.db import connect
    from analysis.plan.build import make_plan
    from analysis.propensity.model import data_end, score

    out = Path(args.out)
    check_out_path(out)
    rules = load_rules(args.rules) if args.rules else None
    con = connect(args.db, read_only=True)
    try:
        end = data_end(con)
        day = parse_date(args.date) if args.date else end
        check_date(con, day, end)
        plan = make_plan(con, day, score(con, day), rules=rules, ranking=args.ranking)
        if args.replay:
            from analysis.plan.replay import replay

            print_replay(replay(con, day, rules=rules))
    finally:
        con.close()
    if args.queue != "all":
        plan = plan[plan["queue"] == args.queue]
    write_csv(csv_frame(plan), out)
    accounts = plan["account_id"].nunique()
    by_queue = plan.drop_duplicates("account_id")["queue"].value_counts()
    print(f"plan for {day}: {len(plan):,} rows, {accounts:,} accounts ({by_queue.get('dialer', 0):,} dialer, "
          f"{by_queue.get('specialist', 0):,} specialist), written to {out}", file=sys.stderr)
    return 0
