"""Complaint handling: volumes, rates per 1,000 accounts, resolution times, DISP and CFPB timeliness,
backlog ageing, redress, outcome mix and the link to contact-rule breaches.

Definitions (SPEC section 3 where it has them; DECISIONS.md "Customer experience and complaints"):
- resolution time = resolved_at - received_at in days of 86,400 s (fractional);
- within 8 weeks (FCA DISP 1.6): resolution time <= 56 x 86,400 s;
- within 3 business days (DISP 1.5 summary resolution): resolved before the end (midnight, in the
  reporting zone) of the third business day after the day of receipt; business days are Monday to
  Friday, public holidays are not excluded;
- a month is a calendar month of the reporting zone; an empty denominator gives None, never 0.
Queries return counts; this module divides and adds Wilson intervals (`analysis.stats`).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from analysis import stats
from analysis.db import get_meta, query_df, ratio, rows
from analysis.pipeline import has_run
from analysis.errors import UserError
from analysis.filters import ALL, Filters, check_tz

DIMENSIONS = {
    "category": "Category",
    "source": "Source",
    "team": "Team",
    "strategy": "Strategy",
    "portfolio": "Portfolio",
    "outcome": "Outcome",
    "issue": "CFPB issue",
}
# Complaints about contact: frequency, time of day, opt-out / cease, CFPB "Communication tactics".
# Matched against the lower-cased category, issue and sub-issue (DuckDB regexp_matches, RE2).
CONTACT_PATTERN = (
    r"communication tactic|frequen|repeated|too many|harass|contact (frequency|time|hours)"
    r"|before 8|after 9|time of (day|contact)|inconvenient|opt.?out|cease|told them to stop|stop (calling|contacting)"
)


def as_of(con, filters: Filters = ALL, tz: str = "UTC") -> datetime:
    """The instant the backlog is measured at: the end of the range's last day (midnight after it, in
    `tz`), but no later than the data's as-of time; without either, the last complaint event."""
    candidates = []
    if filters.end is not None:
        candidates.append(datetime.combine(filters.end + timedelta(days=1), time(0), ZoneInfo(check_tz(tz))))
    recorded = get_meta(con, "data_as_of")
    if recorded:
        try:
            stamp = datetime.fromisoformat(recorded)
            candidates.append(stamp if stamp.tzinfo else stamp.replace(tzinfo=ZoneInfo("UTC")))
        except ValueError:
            pass
    if not candidates:
        # epoch microseconds: fetching a TIMESTAMPTZ into Python would need pytz
        last_us = rows(con, "select epoch_us(greatest(max(received_at), coalesce(max(resolved_at), max(received_at)))) from complaints")[0][0]
        if last_us is None:
            return datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
        return datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC")) + timedelta(microseconds=last_us + 1)
    return min(candidates)


def monthly(con, filters: Filters = ALL, tz: str = "UTC") -> pd.DataFrame:
    """One row per month: counts from queries/complaint_monthly_counts.sql plus rates:
    complaints_per_1000_accounts, resolved_within_8_weeks_pct, resolved_within_3_business_days_pct
    (each with a Wilson interval *_low/*_high and *_small when fewer than 30 resolved)."""
    df = query_df(con, "complaint_monthly_counts", filters.params(tz))
    df["month"] = pd.to_datetime(df["month"]).dt.date
    df["redress_paid"] = df["redress_paid"].astype("float64")
    df["complaints_per_1000_accounts"] = [
        ratio(r, book, 1000.0) for r, book in zip(df["received"], df["accounts_in_book"])
    ]
    for count, name in (("resolved_within_8_weeks", "resolved_within_8_weeks_pct"),
                        ("resolved_within_3_business_days", "resolved_within_3_business_days_pct")):
        ests = [stats.rate_estimate(k, n) for k, n in zip(df[count], df["resolved"])]
        df[name] = [e.value for e in ests]
        df[name + "_low"] = [e.low for e in ests]
        df[name + "_high"] = [e.high for e in ests]
        df[name + "_small"] = [e.small for e in ests]
    for col in ("median_resolution_days", "p90_resolution_days"):
        df[col] = df[col].astype("float64")
    return df


def summary(con, filters: Filters = ALL, tz: str = "UTC") -> dict:
    """Headline figures over the whole range (None where a denominator is 0)."""
    m = monthly(con, filters, tz)
    days = resolution_days(con, filters, tz)["resolution_days"]
    received = int(m["received"].sum())
    resolved = int(m["resolved"].sum())
    latest_book = int(m["accounts_in_book"].iloc[-1]) if len(m) else 0
    eight = stats.rate_estimate(int(m["resolved_within_8_weeks"].sum()), resolved)
    three = stats.rate_estimate(int(m["resolved_within_3_business_days"].sum()), resolved)
    point = as_of(con, filters, tz)
    backlog = backlog_ageing(con, filters, point)
    return {
        "received": received,
        "resolved": resolved,
        "open_at_end": int(backlog["open_complaints"].sum()),
        "as_of": point,
        "accounts_in_book": latest_book,
        # per 1,000 accounts in book at the end of the range, over the whole range
        "per_1000_accounts": ratio(received, latest_book, 1000.0),
        "median_resolution_days": float(days.median()) if len(days) else None,
        "p90_resolution_days": float(days.quantile(0.9)) if len(days) else None,
        "within_8_weeks": eight,
        "within_3_business_days": three,
        "redress_paid": float(m["redress_paid"].sum()),
    }


def by_segment(con, filters: Filters = ALL, dimension: str = "category", tz: str = "UTC") -> pd.DataFrame:
    """One row per segment over the range: received, resolved, within 8 weeks (count, %), median days,
    open at the end of the range, redress paid, and the share of all complaints received."""
    if dimension not in DIMENSIONS:
        raise UserError(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    point = as_of(con, filters, tz)
    df = query_df(con, "complaint_counts_by_segment", filters.params(tz, dimension=dimension, as_of=point))
    total = int(df["received"].sum())
    df["share_of_received_pct"] = [ratio(r, total, 100.0) for r in df["received"]]
    df["resolved_within_8_weeks_pct"] = [stats.rate_estimate(k, n).value for k, n in zip(df["resolved_within_8_weeks"], df["resolved"])]
    df["redress_paid"] = df["redress_paid"].astype("float64")
    df["median_resolution_days"] = df["median_resolution_days"].astype("float64")
    return df


def resolution_days(con, filters: Filters = ALL, tz: str = "UTC") -> pd.DataFrame:
    """One row per complaint resolved in the range with its resolution time in days."""
    return query_df(con, "complaint_resolution_days", filters.params(tz))


def backlog_ageing(con, filters: Filters = ALL, at: datetime | None = None, tz: str = "UTC") -> pd.DataFrame:
    """Open complaints at `at` (default: `as_of`) by age band; every band listed."""
    point = at or as_of(con, filters, tz)
    p = filters.params(tz, as_of=point)
    for k in ("start", "end", "tz"):
        p.pop(k)
    return query_df(con, "complaint_backlog_ageing", p)


def cfpb_timeliness(con, filters: Filters = ALL, tz: str = "UTC") -> dict:
    """CFPB-sourced complaints: response within 15 days and final response within 60 (see the query's
    header for how the export's fields approximate them), with Wilson intervals."""
    point = as_of(con, filters, tz)
    r = query_df(con, "complaint_cfpb_timeliness", filters.params(tz, as_of=point)).iloc[0]
    return {
        "cfpb_received": int(r["cfpb_received"]),
        "timely_flag_given": int(r["timely_flag_given"]),
        "within_15_days": stats.rate_estimate(r["responded_within_15_days"], r["responded_15_known"]),
        "final_within_60_days": stats.rate_estimate(r["final_within_60_days"], r["final_60_known"]),
    }


def breaches_available(con) -> bool:
    """True once the compliance engine's pipeline step has written the breaches table."""
    return has_run(con, "breaches")


def contact_complaints_with_breaches(con, filters: Filters = ALL, tz: str = "UTC") -> pd.DataFrame | None:
    """Contact-related complaints with the breaches on the same account in the 30 days before
    receipt; None when the breaches table has not been derived (run `python -m analysis refresh`)."""
    if not breaches_available(con):
        return None
    return query_df(con, "complaint_contact_breaches", filters.params(tz, contact_pattern=CONTACT_PATTERN))


def histogram(days: pd.Series, edges: tuple = (0, 3, 7, 14, 28, 56, 90)) -> pd.DataFrame:
    """Resolution times binned into upper-inclusive bands (0-3 d means <= 3 days), last band open."""
    labels, counts = [], []
    bounds = list(edges) + [None]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if hi is None:
            labels.append(f"over {lo} days")
            counts.append(int((days > lo).sum()))
        else:
            labels.append(f"{lo}-{hi} days" if lo else f"up to {hi} days")
            counts.append(int(((days > lo) & (days <= hi)).sum()) if lo else int((days <= hi).sum()))
    return pd.DataFrame({"band": labels, "complaints": counts})


# --- display helpers (formatting only) -----------------------------------------------------------

def _pct(est: stats.Estimate) -> str:
    if est.value is None:
        return "–"
    return f"{est.value:.1f}%"


def _days(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.1f} d"


def headline(s: dict) -> list[dict]:
    """`summary` as st.metric tiles: label, value, help."""
    def ci(est: stats.Estimate) -> str:
        if est.value is None:
            return "no complaints resolved in the range"
        small = " (small sample)" if est.small else ""
        return f"95% CI {est.low:.1f} to {est.high:.1f}, of {est.n} resolved{small}"

    per_1000 = "–" if s["per_1000_accounts"] is None else f"{s['per_1000_accounts']:.1f}"
    return [
        {"label": "Received", "value": f"{s['received']:,}", "help": "complaints received in the range"},
        {"label": "Resolved", "value": f"{s['resolved']:,}", "help": "complaints resolved in the range"},
        {"label": "Open at end", "value": f"{s['open_at_end']:,}",
         "help": f"received before {s['as_of']:%Y-%m-%d %H:%M} UTC and not resolved before it"},
        {"label": "Per 1,000 accounts", "value": per_1000,
         "help": f"received in the range per 1,000 accounts in book at its end ({s['accounts_in_book']:,})"},
        {"label": "Median resolution", "value": _days(s["median_resolution_days"]),
         "help": f"p90 {_days(s['p90_resolution_days'])}; days of 86,400 s, complaints resolved in the range"},
        {"label": "Within 8 weeks", "value": _pct(s["within_8_weeks"]),
         "help": "resolved within 56 x 86,400 s of receipt (FCA DISP 1.6); " + ci(s["within_8_weeks"])},
        {"label": "Within 3 business days", "value": _pct(s["within_3_business_days"]),
         "help": "resolved by the end of the 3rd business day after receipt (DISP 1.5 summary resolution); "
                 + ci(s["within_3_business_days"])},
        {"label": "Redress paid", "value": f"{s['redress_paid']:,.2f}", "help": "sum of redress on complaints resolved in the range"},
    ]


def month_table(df: pd.DataFrame) -> pd.DataFrame:
    """`monthly` output as the page shows it, newest month first."""
    out = pd.DataFrame({
        "Month": [m.strftime("%Y-%m") for m in df["month"]],
        "Received": df["received"],
        "Accounts in book": df["accounts_in_book"],
        "Per 1,000 accounts": df["complaints_per_1000_accounts"].astype("float64"),
        "Resolved": df["resolved"],
        "Median days": df["median_resolution_days"],
        "P90 days": df["p90_resolution_days"],
        "Within 8 weeks %": df["resolved_within_8_weeks_pct"].astype("float64"),
        "Within 3 business days %": df["resolved_within_3_business_days_pct"].astype("float64"),
        "Open at month end": df["open_end_of_month"],
        "Redress paid": df["redress_paid"],
    })
    return out.iloc[::-1].reset_index(drop=True)
