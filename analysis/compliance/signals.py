"""Risk signals: contact patterns regulators look at that are not breaches of a rule.

Stored by the pipeline step `risk_signals` (after `breaches`) as the table
`risk_signals(signal, account_id, consumer_id, contact_id, agent_id, ts, detail)` (agent_id: the
call's agent, so the list needs no join with every contact), so the read-only dashboard
can show them apart from the breaches. The patterns are in `queries/risk_signals.sql` (set-based);
public holidays come from the `holidays` library (US federal plus the account's state), expanded
here into a small relation for the years the contacts span.
"""
from __future__ import annotations

import os

import holidays
import pandas as pd

from analysis import incremental
from analysis.db import bind, create_table, get_meta, install_layer, rows, sql_text
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


def refresh(con, consumer_max_calls: int | None = None, changed=None) -> None:
    """Pipeline step: (re)build the table `risk_signals`.

    `changed` (analysis.changes.Changes of the import just made): recompute only the signals of the
    consumers it touched (the consumers of the accounts whose accounts or contacts rows changed, and
    the former consumer of a replaced account row), over all their accounts, when the stored
    signals are a full rebuild of the data before it with the same setting (analysis.incremental).
    Every signal is a condition on one account's placed calls except consumer_multi_debt, which
    reads one consumer's; so a consumer's signals depend on the rows of its accounts only.
    """
    n = consumer_max_calls_setting() if consumer_max_calls is None else consumer_max_calls
    params = {"unanswered_gap_s": UNANSWERED_GAP_S, "day_calls": DAY_CALLS, "consumer_max_calls": n}
    increment = (incremental.can_increment(con, "risk_signals", changed)
                 and get_meta(con, "risk_signals_consumer_max_calls") == str(n))
    cur = con.cursor()
    try:
        if increment:
            incremental.key_table(cur, "_refresh_touched", "account_id", changed.values("account_id", "accounts", "contacts"))
            incremental.key_table(cur, "_refresh_consumers", "consumer_id", changed.values("consumer_id", "accounts"))
            accounts = incremental.main_table(cur, "accounts")
            cur.execute("insert into _refresh_consumers select consumer_id from " + accounts
                        + " where account_id in (select account_id from _refresh_touched)")
            cur.execute("create temp table _refresh_accounts as select account_id from " + accounts
                        + " where consumer_id in (select consumer_id from _refresh_consumers)")
            increment = not incremental.too_many(con, cur.execute("select count(*) from _refresh_accounts").fetchall()[0][0])
        cur.register("risk_holidays", _holidays_for(con))
        if not increment:
            create_table(cur, "risk_signals", "risk_signals", params, here=True)
        else:
            for table in ("accounts", "contacts"):
                incremental.shadow(cur, table, "account_id", "_refresh_accounts")
            target = incremental.main_table(cur, "risk_signals")
            sql = sql_text("risk_signals")
            install_layer(cur, sql)
            cur.execute("begin transaction")
            try:
                cur.execute("delete from " + target + " where account_id in (select account_id from _refresh_accounts)")
                cur.execute("insert into " + target + " by name select * from (\n" + sql + "\n)", bind(sql, params))
                cur.execute("commit")
            except BaseException:
                cur.execute("rollback")
                raise
        cur.unregister("risk_holidays")
        cur.execute("insert or replace into meta values ('risk_signals_consumer_max_calls', ?)", [str(n)])
        incremental.mark(cur, "risk_signals", "incremental" if increment else "full")
    finally:
        cur.close()
