"""SPEC section 3 metrics for a month: the metric table, months of the reporting zone, the queries.

Every metric is computed for a calendar month of a reporting time zone (default UTC). Query files
(`queries/scorecard_*.sql`) return numerators and denominators per month; this module divides
(a zero denominator gives None, never 0), adds the previous month, the same month a year earlier,
a 12-month trend and a target status. How the numbers are shown and written (page frames, CSV,
charts, PDF) is `analysis.scorecard.render`; the command is `analysis.scorecard.cli`.

The breach metrics count the table `breaches` in SQL. SPEC section 3 counts the default rules'
breaches (`DEFAULT_RULES`, what the command writes): when another rule set produced the stored
table, the engine finds the default rules' breaches at that moment. A page counts the stored audit
as it is (`STORED_AUDIT`) and names its rule set (`breach_rule_set`): a page request never runs the
audit.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.db import ROOT, bind, cursor, get_meta, query_df, ratio, sql_text
from analysis.errors import UserError
from analysis.filters import check_tz
from analysis.pipeline import has_run

TARGETS_FILE = ROOT / "config" / "targets.toml"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    kind: str  # count | amount | ratio (ratios, scores, medians: empty when there is no data)
    section: str


SECTIONS = ("Customer experience", "Complaints", "Contact and compliance", "Recovery")

# SPEC section 3, in the order of the CSV.
METRICS: tuple[Metric, ...] = (
    Metric("nps", "Net Promoter Score", "ratio", "Customer experience"),
    Metric("nps_responses", "NPS responses", "count", "Customer experience"),
    Metric("csat_pct", "CSAT (% satisfied, 4-5 of 5)", "ratio", "Customer experience"),
    Metric("csat_responses", "CSAT responses", "count", "Customer experience"),
    Metric("complaints_received", "Complaints received", "count", "Complaints"),
    Metric("accounts_in_book", "Accounts in book", "count", "Complaints"),
    Metric("complaints_per_1000_accounts", "Complaints per 1,000 accounts", "ratio", "Complaints"),
    Metric("complaints_resolved", "Complaints resolved", "count", "Complaints"),
    Metric("complaint_median_resolution_days", "Median resolution (days)", "ratio", "Complaints"),
    Metric("complaints_resolved_within_8_weeks_pct", "Resolved within 8 weeks (%)", "ratio", "Complaints"),
    Metric("complaints_open_end_of_month", "Complaints open at month end", "count", "Complaints"),
    Metric("calls_placed", "Calls placed", "count", "Contact and compliance"),
    Metric("right_party_contact_rate_pct", "Right-party contact rate (%)", "ratio", "Contact and compliance"),
    Metric("contact_breaches", "Presumed contact-rule breaches", "count", "Contact and compliance"),
    Metric("accounts_with_breach", "Accounts with a presumed breach", "count", "Contact and compliance"),
    Metric("collected_amount", "Collected", "amount", "Recovery"),
    Metric("paying_accounts", "Paying accounts", "count", "Recovery"),
    Metric("promises_made", "Promises made", "count", "Recovery"),
    Metric("promises_due", "Promises due", "count", "Recovery"),
    Metric("promise_kept_rate_pct", "Promises kept (%)", "ratio", "Recovery"),
    Metric("recovery_rate_pct", "Recovery rate, cumulative (%)", "ratio", "Recovery"),
)
METRIC_NAMES = tuple(m.name for m in METRICS)
BY_NAME = {m.name: m for m in METRICS}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# ----------------------------------------------------------------------------- inputs

def parse_month(text: str) -> date:
    """`YYYY-MM` -> the first day of that month; anything else is a user error."""
    found = _MONTH.match(str(text).strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise UserError(f"month {text!r} is not in the form YYYY-MM (e.g. 2026-03): give --month YYYY-MM")
    return date(int(found.group(1)), int(found.group(2)), 1)


def add_months(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# ----------------------------------------------------------------------------- engines

class DuckDBSource:
    """The scorecard's queries on a DuckDB connection: the engine-specific half of the scorecard.

    A source gives the per-month frames of the query files (`frame`) and the breach counts per month
    (`breaches_monthly`); everything after the SQL (month checks, ratios, rounding, the scorecard
    table) is this module's, shared by every engine. `analysis.spark.scorecard.SparkSource` is the
    other source. Functions here take a source or, as the dashboard passes, a DuckDB connection."""

    engine = "duckdb"

    def __init__(self, con):
        self.con = con

    def frame(self, stem: str, params: dict) -> pd.DataFrame:
        return query_df(self.con, stem, params)

    def frames(self, stems: tuple[str, ...], params: dict) -> dict[str, pd.DataFrame]:
        return {stem: self.frame(stem, params) for stem in stems}

    def breaches_monthly(self, params: dict, breaches: str) -> pd.DataFrame | None:
        return _breaches_monthly(self.con, params, breaches)


def source_of(con):
    """`con` itself when it is a source (has `frame`, `frames` and `breaches_monthly`), else a DuckDB
    source of it."""
    return con if hasattr(con, "frames") and hasattr(con, "breaches_monthly") else DuckDBSource(con)


def data_months(con, tz: str = "UTC") -> list[date]:
    """The months of zone `tz` in which anything happened (an account placed, a contact, a survey, ...).
    `con`: a DuckDB connection or a source (`source_of`)."""
    df = source_of(con).frame("scorecard_data_months", {"tz": tz})
    return [pd.Timestamp(m).date() for m in df["month_start"]]


def require_month(con, month: date, tz: str) -> list[date]:
    """Every month from the data's first to its last; a user error when `month` is outside them.

    A quiet month inside the span (no event at all) is a real month of the book: its counts are 0
    and its ratios empty, so it is reported, not refused.
    """
    event_months = data_months(con, tz)
    if not event_months:
        raise UserError("the database has no data: import your data or build the demo first")
    months = [event_months[0]]
    while months[-1] < event_months[-1]:
        months.append(add_months(months[-1], 1))
    if month not in months:
        raise UserError(f"month {month_label(month)} has no data: the data spans "
                        f"{month_label(months[0])}..{month_label(months[-1])}")
    return months


# ----------------------------------------------------------------------------- breaches

# Which breaches the breach metrics count (the `breaches` argument of the functions below):
DEFAULT_RULES = "default"  # SPEC section 3: the default rule set's (config/rules.toml); the command's
STORED_AUDIT = "stored"    # the stored audit (table `breaches`), whichever rule set produced it; the page's
BREACH_SOURCES = (DEFAULT_RULES, STORED_AUDIT)


def breach_rule_set(con) -> dict:
    """The rule set behind the stored breaches: `label` (meta `rule_set`), `stored` (the audit has run:
    `analysis.pipeline.has_run`, the meta `rule_set` the engine's refresh writes with the breaches)
    and `default` (its rule set is the default one, config/rules.toml)."""
    label = get_meta(con, "rule_set")
    identity = get_meta(con, "rule_set_sha256") or label
    stored = has_run(con, "breaches")
    return {
        "label": label if stored else None,
        "stored": stored,
        "default": stored and _is_default_rule_set(identity),
    }


def _is_default_rule_set(value: str | None) -> bool:
    """True when the stored rule set (meta `rule_set_sha256`, or the label in `rule_set`, both written by
    `analysis.compliance.engine.refresh`) is the default one, config/rules.toml."""
    from analysis.compliance.rules import load_rules

    if not value:
        return False
    default = load_rules()
    return default.sha256 in str(value) or default.short_hash in str(value)


def _audit_default_rules(cur, con) -> None:
    """Run the engine with the default rules into a temporary table `breaches` of cursor `cur`, which
    hides the stored table from that cursor only (the database is not written: it may be read-only)."""
    from analysis.compliance.engine import find_breaches

    found = find_breaches(con, rules=None)
    cur.execute("create temp table breaches (contact_id varchar, account_id varchar, rule_id varchar, ts timestamptz)")
    if len(found):
        cur.register("found_breaches", found)
        cur.execute("insert into temp.breaches select contact_id, account_id, rule_id, ts from found_breaches")
        cur.unregister("found_breaches")


def _breaches_monthly(con, params: dict, breaches: str) -> pd.DataFrame | None:
    """Breach counts per month (`queries/scorecard_breaches.sql`, which reads the table `breaches`).

    `stored`: the stored audit as it is; None when there is none. `default`: the stored audit when the
    default rules produced it, else the default rules' breaches found now by the engine (a command-line
    run, not a page request).
    """
    if breaches not in BREACH_SOURCES:
        raise ValueError(f"breaches must be one of {BREACH_SOURCES}, not {breaches!r}")
    source = breach_rule_set(con)
    sql = sql_text("scorecard_breaches")
    cur = cursor(con, sql)
    try:
        if breaches == DEFAULT_RULES and not source["default"]:
            _audit_default_rules(cur, con)
        elif not source["stored"]:
            return None
        return cur.execute(sql, bind(sql, params)).df()
    finally:
        cur.close()


# ----------------------------------------------------------------------------- metrics

def monthly_metrics(con, first_month: date, last_month: date, tz: str = "UTC",
                    breaches: str = DEFAULT_RULES) -> pd.DataFrame:
    """Every SPEC section 3 metric, one row per month of zone `tz` from `first_month` to `last_month`.

    Columns: month_start, then the metrics in SPEC order. Ratios with a zero denominator are None.
    `con`: a DuckDB connection or a source (`source_of`). `breaches` says which breaches the breach metrics count (`DEFAULT_RULES`, SPEC's, or
    `STORED_AUDIT`, the pages'; see `_breaches_monthly`); they are None when there are none to count.
    """
    source = source_of(con)
    params = {"tz": tz, "first_month": first_month, "last_month": last_month}
    frames = source.frames(tuple(f"scorecard_{stem}" for stem in FRAME_STEMS), params)
    return assemble({stem: frames[f"scorecard_{stem}"] for stem in FRAME_STEMS},
                    source.breaches_monthly(params, breaches))


# The query files behind the metrics (queries/scorecard_<stem>.sql), besides scorecard_breaches.
FRAME_STEMS = ("surveys", "complaints", "book", "calls", "payments", "promises")


def assemble(frames: dict[str, pd.DataFrame], counted: pd.DataFrame | None) -> pd.DataFrame:
    """The metrics from the queries' per-month numerators and denominators, the same for every engine:
    `frames` by stem (FRAME_STEMS, each with month_start), `counted` the breach counts (or None)."""
    frames = {stem: frame.set_index("month_start") for stem, frame in frames.items()}
    out = []
    for month in frames["surveys"].index:
        s, c, b = frames["surveys"].loc[month], frames["complaints"].loc[month], frames["book"].loc[month]
        k, p, pr = frames["calls"].loc[month], frames["payments"].loc[month], frames["promises"].loc[month]
        median = c["resolution_days_median"]
        row = {
            "month_start": pd.Timestamp(month).date(),
            "nps": ratio(s["nps_promoters"] - s["nps_detractors"], s["nps_responses"], 100.0),
            "nps_responses": int(s["nps_responses"]),
            "csat_pct": ratio(s["csat_satisfied"], s["csat_responses"], 100.0),
            "csat_responses": int(s["csat_responses"]),
            "complaints_received": int(c["complaints_received"]),
            "accounts_in_book": int(b["accounts_in_book"]),
            "complaints_per_1000_accounts": ratio(c["complaints_received"], b["accounts_in_book"], 1000.0),
            "complaints_resolved": int(c["complaints_resolved"]),
            "complaint_median_resolution_days": None if pd.isna(median) else float(median),
            "complaints_resolved_within_8_weeks_pct": ratio(c["resolved_within_8_weeks"], c["complaints_resolved"], 100.0),
            "complaints_open_end_of_month": int(c["complaints_open_end_of_month"]),
            "calls_placed": int(k["calls_placed"]),
            "right_party_contact_rate_pct": ratio(k["calls_right_party"], k["calls_placed"], 100.0),
            "contact_breaches": None,
            "accounts_with_breach": None,
            "collected_amount": round(float(p["collected_amount"]), 2),
            "paying_accounts": int(p["paying_accounts"]),
            "promises_made": int(pr["promises_made"]),
            "promises_due": int(pr["promises_due"]),
            "promise_kept_rate_pct": ratio(pr["promises_kept"], pr["promises_due"], 100.0),
            "recovery_rate_pct": ratio(b["paid_to_date_in_book"], b["placed_balance_in_book"], 100.0),
        }
        if counted is not None:
            br = counted.set_index("month_start").loc[month]
            row["contact_breaches"] = int(br["contact_breaches"])
            row["accounts_with_breach"] = int(br["accounts_with_breach"])
        out.append(row)
    return pd.DataFrame(out, columns=["month_start", *METRIC_NAMES])


def month_values(con, month: str | date, tz: str = "UTC", breaches: str = DEFAULT_RULES) -> dict:
    """The SPEC section 3 metrics of one month, in SPEC order. Unknown or empty month: UserError."""
    tz = check_tz(tz)
    month = parse_month(month) if isinstance(month, str) else month
    require_month(con, month, tz)
    row = monthly_metrics(con, month, month, tz, breaches).iloc[0]
    return {name: _clean(row[name]) for name in METRIC_NAMES}


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# ----------------------------------------------------------------------------- targets

def load_targets(path: str | Path = TARGETS_FILE) -> dict[str, dict]:
    """Targets per metric: `target`, `amber` (the edge between amber and red) and `better` (higher/lower)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"targets file {path} is not valid TOML ({exc}): fix the file") from None
    for name, t in data.items():
        if name not in BY_NAME:
            raise UserError(f"targets file {path}: unknown metric {name!r}; use one of {', '.join(METRIC_NAMES)}")
        if t.get("better") not in ("higher", "lower") or not isinstance(t.get("target"), (int, float)) \
                or not isinstance(t.get("amber"), (int, float)):
            raise UserError(f"targets file {path}: metric {name} needs numeric target and amber and better = \"higher\" or \"lower\"")
    return data


def status(value, target: dict | None) -> str | None:
    """green when the target is met, amber when within the amber edge, red beyond it; None without data or target."""
    if target is None or value is None:
        return None
    if target["better"] == "higher":
        return "green" if value >= target["target"] else "amber" if value >= target["amber"] else "red"
    return "green" if value <= target["target"] else "amber" if value <= target["amber"] else "red"


# ----------------------------------------------------------------------------- the scorecard table

def scorecard(con, month: str, tz: str = "UTC", breaches: str = DEFAULT_RULES) -> pd.DataFrame:
    """One row per metric for `month`: value, previous month, the same month a year earlier (when the
    data has it), the 12-month trend (oldest first; None for months without data), target and status.
    `breaches`: as in `monthly_metrics` (the page passes `STORED_AUDIT`: it never runs the engine)."""
    tz = check_tz(tz)
    m = parse_month(month)
    months = set(require_month(con, m, tz))
    history = monthly_metrics(con, add_months(m, -12), m, tz, breaches).set_index("month_start")
    targets = load_targets()
    prev, year_ago = add_months(m, -1), add_months(m, -12)
    trend_months = [add_months(m, -i) for i in range(11, -1, -1)]
    out = []
    for metric in METRICS:
        def at(month_start, name=metric.name):
            return _clean(history.loc[month_start, name]) if month_start in months else None
        value = at(m)
        target = targets.get(metric.name)
        out.append({
            "metric": metric.name,
            "label": metric.label,
            "section": metric.section,
            "kind": metric.kind,
            "value": value,
            "previous": at(prev),
            "year_earlier": at(year_ago),
            "trend": [at(t) for t in trend_months],
            "target": None if target is None else target["target"],
            "status": status(value, target),
        })
    return pd.DataFrame(out)


def trend_months(month: str) -> list[str]:
    m = parse_month(month)
    return [month_label(add_months(m, -i)) for i in range(11, -1, -1)]


def default_month(con, tz: str = "UTC") -> str | None:
    """The month a reader most likely wants: the newest month with data that is complete by the data's
    freshness (meta data_as_of: its month counts when it lies on the month's last day), else the newest."""
    months = month_choices(con, tz)
    as_of = get_meta(con, "data_as_of")
    if not months:
        return None
    if as_of:
        try:
            ts = pd.Timestamp(as_of)
            ts = (ts.tz_localize("UTC") if ts.tzinfo is None else ts).tz_convert(ZoneInfo(tz))
        except (ValueError, TypeError):
            return months[0]
        current = month_label(date(ts.year, ts.month, 1))
        # Data as of any time on a month's last day counts that month as complete.
        last_day = (ts + pd.Timedelta(days=1)).month != ts.month
        complete = [m for m in months if m < current or (m == current and last_day)]
        if complete:
            return complete[0]
    return months[0]


def month_choices(con, tz: str = "UTC") -> list[str]:
    """`YYYY-MM` of every month with data in zone `tz`, newest first."""
    return [month_label(m) for m in reversed(data_months(con, check_tz(tz)))]
