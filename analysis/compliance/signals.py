"""Risk signals: contact patterns regulators look at that are not breaches of a rule.

Stored by the pipeline step `risk_signals` (after `breaches`) as the table
`risk_signals(signal, account_id, consumer_id, contact_id, ts, detail)`, so the read-only dashboard
can show them apart from the breaches. The patterns are in `queries/risk_signals.sql` (set-based);
public holidays come from the `holidays` library (US federal plus the account's state), expanded
here into a small relation for the years the contacts span.
"""
from __future__ import annotations

import os

import holidays
import pandas as pd

from analysis.db import create_table, rows
from analysis.errors import UserError

SIGNALS = {
    "unanswered_pair_5min": "Two unanswered calls within 5 minutes",
    "calls_7_in_day": "7 or more calls to an account in one local day",
    "sunday_call": "Call on a Sunday (local date)",
    "holiday_call": "Call on a public holiday (US federal or the account's state, local date)",
    "consumer_multi_debt": "Many calls to one consumer across several debts in 7 days",
}

UNANSWERED_GAP_S = 300
DAY_CALLS = 7
# More than this many placed calls to one consumer in 7 days, across at least two of their debts.
# Seven is Regulation F's per-debt presumption; a consumer with several debts can be called far
# more often while each debt stays inside its own cap, which is what this signal surfaces.
CONSUMER_MAX_CALLS = 7
CONSUMER_MAX_CALLS_ENV = "RISK_CONSUMER_MAX_CALLS"

COLUMNS = ["signal", "account_id", "consumer_id", "contact_id", "ts", "detail"]


def consumer_max_calls_setting(environ=None) -> int:
    """N for `consumer_multi_debt`: the environment variable RISK_CONSUMER_MAX_CALLS, else 7."""
    raw = (os.environ if environ is None else environ).get(CONSUMER_MAX_CALLS_ENV, "").strip()
    if not raw:
        return CONSUMER_MAX_CALLS
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 1:
        raise UserError(f"{CONSUMER_MAX_CALLS_ENV}={raw!r} is not a positive whole number of calls: set it to e.g. 7 or unset it")
    return value


def holiday_table(states: list[str | None], years: list[int]) -> pd.DataFrame:
    """(state_key, holiday_date, holiday_name) for each state seen in the accounts; '' = federal only.

    An unknown or missing state falls back to the federal holidays. Observed days (a Saturday
    holiday observed on the Friday) are included, as the library lists them.
    """
    out = []
    years = sorted(set(years))
    for state in sorted({s or "" for s in states}):
        try:
            cal = holidays.US(years=years, subdiv=state or None)
        except NotImplementedError:
            cal = holidays.US(years=years)
        for day, name in cal.items():
            out.append((state, day, name))
    return pd.DataFrame(out, columns=["state_key", "holiday_date", "holiday_name"]).astype(
        {"state_key": "object", "holiday_name": "object"})


def _holidays_for(con) -> pd.DataFrame:
    states = [r[0] for r in rows(con, "select distinct state from accounts")]
    # Years, not timestamps: fetching a TIMESTAMPTZ into Python needs pytz, which is not installed.
    first, last = rows(con, "select year(min(ts)), year(max(ts)) from contacts")[0]
    # One year either side: a local date can fall in the neighbouring UTC year.
    years = [] if first is None else list(range(first - 1, last + 2))
    df = holiday_table(states, years)
    df["holiday_date"] = pd.to_datetime(df["holiday_date"]).dt.date
    return df


def refresh(con, consumer_max_calls: int | None = None) -> None:
    """Pipeline step: (re)build the table `risk_signals`."""
    n = consumer_max_calls_setting() if consumer_max_calls is None else consumer_max_calls
    cur = con.cursor()
    try:
        cur.register("risk_holidays", _holidays_for(con))
        create_table(cur, "risk_signals", "risk_signals", {
            "unanswered_gap_s": UNANSWERED_GAP_S, "day_calls": DAY_CALLS, "consumer_max_calls": n,
        }, here=True)
        cur.unregister("risk_holidays")
        cur.execute("insert or replace into meta values ('risk_signals_consumer_max_calls', ?)", [str(n)])
    finally:
        cur.close()

