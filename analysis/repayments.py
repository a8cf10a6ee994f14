"""Repayment analytics: collections by month and segment, payer retention, lifetime value by segment,
liquidation curves, promises to pay, and the best time and channel to reach people.

Every function takes the connection and a `Filters` (plus plain options) and returns a DataFrame;
the query files return numerators and denominators and this module divides (None on a zero
denominator). Dates are UTC calendar dates unless a function says otherwise.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from analysis import aggregates, stats
from analysis.db import get_meta, query_df, ratio, ratio_column, rows
from analysis.errors import UserError
from analysis.filters import Filters

SEGMENTS = ("portfolio", "team", "strategy", "channel")
LIFETIME_SEGMENTS = ("portfolio", "team", "strategy", "product", "state")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FOLLOW_UP_DAYS = 30


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise UserError(f"unknown {what} {value!r}: use one of {', '.join(allowed)}")
    return value






def collected_by_month(con, filters: Filters, by: str = "portfolio") -> pd.DataFrame:
    """Collected per UTC month and segment (`by`: portfolio, team, strategy or channel of the last
    contact before the payment). Columns: month_start, segment, collected_amount, payments, paying_accounts."""
    params = {**filters.params(), "by": _choice(by, SEGMENTS, "segment")}
    df = query_df(con, aggregates.stem(con, "repayments_monthly"), params)
    df["collected_amount"] = df["collected_amount"].astype("float64")
    return df


def monthly_totals(con, filters: Filters) -> pd.DataFrame:
    """Collected and paying accounts per UTC month, all segments together, with payer retention."""
    ret = query_df(con, "repayment_retention", filters.params())
    ret["retention_pct"] = ratio_column(ret["paid_both"], ret["paid_previous_month"], 100.0)
    return ret


def lifetime_by_segment(con, filters: Filters, by: str = "portfolio") -> pd.DataFrame:
    """Lifetime collected per account up to the filter's end date, by segment: accounts, paying accounts,
    placed balance, collected, average and median collected per account, recovery % of placed balance."""
    df = query_df(con, "repayment_lifetime", filters.params(by=_choice(by, LIFETIME_SEGMENTS, "segment")))
    for col in ("placed_balance", "collected_amount", "median_collected_per_account"):
        df[col] = df[col].astype("float64")
    df["collected_per_account"] = ratio_column(df["collected_amount"], df["accounts"])
    df["recovery_pct"] = ratio_column(df["collected_amount"], df["placed_balance"], 100.0)
    return df


def liquidation_curves(con, filters: Filters) -> pd.DataFrame:
    """Cumulative share of placed balance recovered, by placement vintage (UTC month of placed_date) and
    months since placement (0 = the placement month), up to the month of the last payment in the data.
    Payments dated before the placement month are left out. Columns: vintage (YYYY-MM),
    months_since_placement, accounts, placed_balance, collected_amount, cumulative_collected, recovered_pct."""
    df = query_df(con, "liquidation_curves", filters.params())
    if df.empty:
        return df.assign(cumulative_collected=pd.Series(dtype="float64"), recovered_pct=pd.Series(dtype="float64"))
    df["vintage"] = pd.to_datetime(df["vintage"]).dt.strftime("%Y-%m")
    df["placed_balance"] = df["placed_balance"].astype("float64")
    df["collected_amount"] = df["collected_amount"].astype("float64")
    df["cumulative_collected"] = df.groupby("vintage")["collected_amount"].cumsum()
    df["recovered_pct"] = ratio_column(df["cumulative_collected"], df["placed_balance"], 100.0)
    return df


def promises_by(con, filters: Filters, by: str = "team") -> pd.DataFrame:
    """Promises made, due and kept (SPEC section 3 rule, UTC dates) per team or per agent, with the kept
    rate and its Wilson 95% interval (percent). Rows with no promise due have an empty rate."""
    _choice(by, ("team", "agent"), "grouping")
    df = query_df(con, aggregates.stem(con, "promises_by_agent"), filters.params())
    keys = ["team"] if by == "team" else ["team", "agent_id"]
    cols = ["promises_made", "promises_due", "promises_kept", "promised_amount_due", "paid_toward_due"]
    df[cols[3:]] = df[cols[3:]].astype("float64")
    out = df.groupby(keys, as_index=False)[cols].sum()
    est = [stats.rate_estimate(k, n) for k, n in zip(out["promises_kept"], out["promises_due"])]
    out["kept_rate_pct"] = [e.value for e in est]
    out["kept_rate_low"] = [e.low for e in est]
    out["kept_rate_high"] = [e.high for e in est]
    out["small_sample"] = [e.small for e in est]
    return out


def data_as_of_date(con) -> date | None:
    """UTC date of the data's freshness (meta data_as_of), else of the newest payment or contact."""
    as_of = get_meta(con, "data_as_of")
    if as_of:
        ts = pd.Timestamp(as_of)
        return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).date()
    found = rows(con, "select cast(timezone('UTC', max(paid_at)) as date) from payments")[0][0]
    return found


_BROKEN_TOTALS = ["broken_total", "complaint_total", "breach_total", "followed_total"]  # promise_broken_followups.sql


def _broken_rows(con, filters: Filters, limit: int | None) -> pd.DataFrame:
    p = filters.params(limit=limit)
    p["as_of"] = data_as_of_date(con) or p["end"]
    return query_df(con, aggregates.stem(con, "promise_broken_followups"), p)


def broken_promises(con, filters: Filters) -> pd.DataFrame:
    """Broken promises (due in the filter's range, window closed by the data's date, not kept) and whether
    a complaint or a presumed breach followed within 30 days of the due date. One row per promise, the
    followed first, the latest due first."""
    return _broken_rows(con, filters, None).drop(columns=_BROKEN_TOTALS)


def _summary(due: int, broken: int, complaint: int, breach: int, either: int) -> dict:
    return {"promises_due": due, "broken": broken, "followed_by_complaint": complaint, "followed_by_breach": breach,
            "followed_by_either": either, "followed_share_pct": ratio(either, broken, 100.0)}


def broken_promise_summary(broken: pd.DataFrame, due: int) -> dict:
    """Counts for the page: broken promises and how many were followed by a complaint, a breach, either."""
    if broken.empty:
        return _summary(due, 0, 0, 0, 0)
    return _summary(due, len(broken), int(broken["followed_by_complaint"].sum()), int(broken["followed_by_breach"].sum()),
                    int((broken["followed_by_complaint"] | broken["followed_by_breach"]).sum()))


def contact_heatmap(con, filters: Filters, channel: str = "call") -> pd.DataFrame:
    """Outbound attempts and right-party contacts on `channel` by the account's local weekday and hour,
    a full 7 x 24 grid (empty rate where there were no attempts). Columns: weekday (1 = Monday),
    weekday_name, local_hour, attempts, reached, rate_pct."""
    from analysis.schema import CHANNELS

    p = filters.params(channel=_choice(channel, CHANNELS, "channel"))
    df = query_df(con, aggregates.stem(con, "contactability_heatmap"), p)
    grid = pd.DataFrame([(d, h) for d in range(1, 8) for h in range(24)], columns=["weekday", "local_hour"])
    df = grid.merge(df, on=["weekday", "local_hour"], how="left")
    df[["attempts", "reached"]] = df[["attempts", "reached"]].fillna(0).astype("int64")
    df["weekday_name"] = [WEEKDAYS[d - 1] for d in df["weekday"]]
    df["rate_pct"] = ratio_column(df["reached"], df["attempts"], 100.0)
    return df


def contact_by_channel(con, filters: Filters) -> pd.DataFrame:
    """Outbound attempts and right-party contacts per channel with the rate's Wilson 95% interval."""
    df = query_df(con, aggregates.stem(con, "contactability_by_channel"), filters.params())
    est = [stats.rate_estimate(k, n) for k, n in zip(df["reached"], df["attempts"])]
    df["rate_pct"] = [e.value for e in est]
    df["rate_low"] = [e.low for e in est]
    df["rate_high"] = [e.high for e in est]
    return df


def best_hours(heatmap: pd.DataFrame, min_attempts: int = 30, top: int = 5) -> pd.DataFrame:
    """The local weekday-hours with the highest right-party rate among those with enough attempts."""
    enough = heatmap[heatmap["attempts"] >= min_attempts]
    best = enough.sort_values(["rate_pct", "attempts"], ascending=[False, False]).head(top)
    return best[["weekday_name", "local_hour", "attempts", "reached", "rate_pct"]]


MIN_HEATMAP_ATTEMPTS = 10


def heatmap_matrix(heatmap: pd.DataFrame, value: str = "rate_pct", min_attempts: int = MIN_HEATMAP_ATTEMPTS) -> pd.DataFrame:
    """`value` as a weekday (rows, Mon..Sun) x local hour (columns, 0..23) grid for a heatmap. Rates of
    cells with fewer than `min_attempts` attempts are left empty: a rate of 3 of 4 says nothing."""
    df = heatmap
    if value == "rate_pct":
        df = heatmap.assign(rate_pct=heatmap["rate_pct"].where(heatmap["attempts"] >= min_attempts))
    grid = df.pivot(index="weekday_name", columns="local_hour", values=value)
    return grid.reindex(list(WEEKDAYS))


def followed_up(broken: pd.DataFrame) -> pd.DataFrame:
    """The broken promises that a complaint or a presumed breach followed."""
    return broken[broken["followed_by_complaint"] | broken["followed_by_breach"]]


def followed_promises(con, filters: Filters) -> pd.DataFrame:
    """The Promises view's list of followed broken promises, the latest due first, whole (its download)."""
    return followed_up(broken_promises(con, filters)).reset_index(drop=True)


def broken_promise_view(con, filters: Filters, due: int, limit: int) -> dict:
    """What the Promises view shows, small whatever the book's size (the dashboard caches it): `summary`
    (broken_promise_summary with `due` promises due), `followed` (the first `limit` rows of
    followed_promises) and `followed_total` (its rows). One query: the first `limit` rows (the followed
    come first) with every row's counts. At 1M accounts the broken promises are 680k rows (79 MB), 111k of
    them followed: the page once kept them all in its cache for each filter and sent the 111k to the browser."""
    rows = _broken_rows(con, filters, limit)
    counts = [int(rows[c].iloc[0]) if len(rows) else 0 for c in _BROKEN_TOTALS]
    followed = followed_up(rows.drop(columns=_BROKEN_TOTALS)).reset_index(drop=True)
    return {"summary": _summary(due, *counts), "followed_total": counts[3], "followed": followed}


def segment_table(df: pd.DataFrame, label: str) -> pd.DataFrame:
    """Lifetime-by-segment rows with readable column names for the page."""
    return df.rename(columns={
        "segment": label, "accounts": "Accounts", "paying_accounts": "Paying accounts",
        "placed_balance": "Placed balance", "collected_amount": "Collected",
        "collected_per_account": "Collected per account", "median_collected_per_account": "Median per account",
        "recovery_pct": "Recovery %"})
