"""The executive scorecard: SPEC section 3 metrics for a month, and the `scorecard` command.

Every metric is computed for a calendar month of a reporting time zone (default UTC). Query files
(`queries/scorecard_*.sql`) return numerators and denominators per month; this module divides
(a zero denominator gives None, never 0), adds the previous month, the same month a year earlier,
a 12-month trend and a target status, and writes the CSV (`metric,value`) or the PDF.
"""
from __future__ import annotations

import csv
import io
import math
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from analysis.db import ROOT, get_meta, query_df, sql_text, table_exists
from analysis.errors import UserError

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


def check_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"time zone {tz!r} is unknown: give an IANA zone name such as UTC or America/Chicago") from None
    return tz


def add_months(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def data_months(con, tz: str = "UTC") -> list[date]:
    """The months of zone `tz` in which anything happened (an account placed, a contact, a survey, ...)."""
    df = query_df(con, "scorecard_data_months", {"tz": tz})
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

def breach_pairs(con) -> pd.DataFrame | None:
    """The default rules' (contact, rule) breaches: contact_id, account_id, rule_id, ts.

    The stored `breaches` table is used when it was produced by the default rule set (meta
    `rule_set`); otherwise the compliance engine computes them. None when no engine is available.
    """
    cols = ["contact_id", "account_id", "rule_id", "ts"]
    if table_exists(con, "breaches") and _is_default_rule_set(get_meta(con, "rule_set_sha256") or get_meta(con, "rule_set")):
        cur = con.cursor()
        try:
            return cur.execute("select contact_id, account_id, rule_id, ts from breaches").df()
        finally:
            cur.close()
    try:
        from analysis.compliance.engine import find_breaches
    except ImportError:
        return None
    found = find_breaches(con, rules=None)
    return found[cols] if len(found) else pd.DataFrame({c: pd.Series(dtype="object") for c in cols})


def _is_default_rule_set(value: str | None) -> bool:
    """True when the stored rule set (meta `rule_set_sha256`, or the label in `rule_set`, both written by
    `analysis.compliance.engine.refresh`) is the default one, config/rules.toml."""
    if not value:
        return False
    try:
        from analysis.compliance.rules import load_rules
    except ImportError:
        return False
    default = load_rules()
    return default.sha256 in str(value) or default.short_hash in str(value)


def _breaches_monthly(con, params: dict) -> pd.DataFrame | None:
    pairs = breach_pairs(con)
    if pairs is None:
        return None
    cur = con.cursor()
    try:
        cur.register("breach_pairs", pairs)
        return cur.execute(sql_text("scorecard_breaches"), params).df()
    finally:
        cur.close()


# ----------------------------------------------------------------------------- metrics

def _ratio(num, den, scale: float = 100.0):
    if den is None or pd.isna(den) or float(den) == 0:
        return None
    return scale * float(num) / float(den)


def monthly_metrics(con, first_month: date, last_month: date, tz: str = "UTC") -> pd.DataFrame:
    """Every SPEC section 3 metric, one row per month of zone `tz` from `first_month` to `last_month`.

    Columns: month_start, then the metrics in SPEC order. Ratios with a zero denominator are None.
    """
    params = {"tz": tz, "first_month": first_month, "last_month": last_month}
    frames = {stem: query_df(con, f"scorecard_{stem}", params).set_index("month_start")
              for stem in ("surveys", "complaints", "book", "calls", "payments", "promises")}
    breaches = _breaches_monthly(con, params)
    out = []
    for month in frames["surveys"].index:
        s, c, b = frames["surveys"].loc[month], frames["complaints"].loc[month], frames["book"].loc[month]
        k, p, pr = frames["calls"].loc[month], frames["payments"].loc[month], frames["promises"].loc[month]
        median = c["resolution_days_median"]
        row = {
            "month_start": pd.Timestamp(month).date(),
            "nps": _ratio(s["nps_promoters"] - s["nps_detractors"], s["nps_responses"]),
            "nps_responses": int(s["nps_responses"]),
            "csat_pct": _ratio(s["csat_satisfied"], s["csat_responses"]),
            "csat_responses": int(s["csat_responses"]),
            "complaints_received": int(c["complaints_received"]),
            "accounts_in_book": int(b["accounts_in_book"]),
            "complaints_per_1000_accounts": _ratio(c["complaints_received"], b["accounts_in_book"], 1000.0),
            "complaints_resolved": int(c["complaints_resolved"]),
            "complaint_median_resolution_days": None if pd.isna(median) else float(median),
            "complaints_resolved_within_8_weeks_pct": _ratio(c["resolved_within_8_weeks"], c["complaints_resolved"]),
            "complaints_open_end_of_month": int(c["complaints_open_end_of_month"]),
            "calls_placed": int(k["calls_placed"]),
            "right_party_contact_rate_pct": _ratio(k["calls_right_party"], k["calls_placed"]),
            "contact_breaches": None,
            "accounts_with_breach": None,
            "collected_amount": round(float(p["collected_amount"]), 2),
            "paying_accounts": int(p["paying_accounts"]),
            "promises_made": int(pr["promises_made"]),
            "promises_due": int(pr["promises_due"]),
            "promise_kept_rate_pct": _ratio(pr["promises_kept"], pr["promises_due"]),
            "recovery_rate_pct": _ratio(b["paid_to_date_in_book"], b["placed_balance_in_book"]),
        }
        if breaches is not None:
            br = breaches.set_index("month_start").loc[month]
            row["contact_breaches"] = int(br["contact_breaches"])
            row["accounts_with_breach"] = int(br["accounts_with_breach"])
        out.append(row)
    return pd.DataFrame(out, columns=["month_start", *METRIC_NAMES])


def month_values(con, month: str | date, tz: str = "UTC") -> dict:
    """The SPEC section 3 metrics of one month, in SPEC order. Unknown or empty month: UserError."""
    tz = check_timezone(tz)
    month = parse_month(month) if isinstance(month, str) else month
    require_month(con, month, tz)
    row = monthly_metrics(con, month, month, tz).iloc[0]
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

def scorecard(con, month: str, tz: str = "UTC") -> pd.DataFrame:
    """One row per metric for `month`: value, previous month, the same month a year earlier (when the
    data has it), the 12-month trend (oldest first; None for months without data), target and status."""
    tz = check_timezone(tz)
    m = parse_month(month)
    months = set(require_month(con, m, tz))
    history = monthly_metrics(con, add_months(m, -12), m, tz).set_index("month_start")
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


STATUS_LABEL = {"green": "on target", "amber": "near target", "red": "off target"}
STATUS_CSS = {"on target": "background-color: #2ea043; color: white",
              "near target": "background-color: #e6a014; color: black",
              "off target": "background-color: #d23232; color: white"}
HEADLINE = {"nps": "NPS", "csat_pct": "CSAT %", "complaints_per_1000_accounts": "Complaints per 1,000",
            "right_party_contact_rate_pct": "Right-party contact %", "collected_amount": "Collected",
            "recovery_rate_pct": "Recovery to date %"}


def display_frame(card: pd.DataFrame, section: str) -> pd.DataFrame:
    """The rows of one section as the page shows them: formatted values, the trend (months with
    data only: a sparkline cannot draw gaps), target and status."""
    out = []
    for _, r in card[card["section"] == section].iterrows():
        target = r["target"]
        out.append({
            "Metric": r["label"],
            "This month": display_value(r["metric"], r["value"]),
            "Previous month": display_value(r["metric"], r["previous"]),
            "Year earlier": display_value(r["metric"], r["year_earlier"]),
            "Last 12 months": [float(v) for v in r["trend"] if v is not None and not pd.isna(v)],
            "Target": "" if target is None or pd.isna(target) else display_value(r["metric"], target),
            "Status": STATUS_LABEL.get(r["status"], "") if isinstance(r["status"], str) else "",
        })
    return pd.DataFrame(out)


def status_style(text: str) -> str:
    """CSS for a Status cell (red/amber/green background)."""
    return STATUS_CSS.get(text, "")


def headline(card: pd.DataFrame) -> list[dict]:
    """Key figures for metric tiles: short label, value text, change against the previous month, and
    whether a rise is good (`delta_color` normal) or bad (inverse), from the targets' `better`."""
    targets = load_targets()
    by = card.set_index("metric")
    out = []
    for name, short in HEADLINE.items():
        r = by.loc[name]
        value, prev = r["value"], r["previous"]
        delta, d = None, None
        if value is not None and prev is not None and not pd.isna(value) and not pd.isna(prev):
            d = float(value) - float(prev)
            delta = f"{d:+,.2f}" if BY_NAME[name].kind == "amount" else f"{d:+,.1f}"
        better = targets.get(name, {}).get("better", "higher")
        color = "off" if not d else "normal" if better == "higher" else "inverse"
        out.append({"label": short, "help": r["label"], "value": display_value(name, value), "delta": delta,
                    "delta_color": color})
    return out


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
    return [month_label(m) for m in reversed(data_months(con, check_timezone(tz)))]


# ----------------------------------------------------------------------------- output

def format_value(metric: str, value) -> str:
    """CSV text of a value: counts as integers, amounts with 2 decimals, ratios at full float
    precision (Python's shortest round-trip form), and an empty field for no data."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    kind = BY_NAME[metric].kind
    if kind == "count":
        return str(int(value))
    if kind == "amount":
        return f"{float(value):.2f}"
    return repr(float(value))


def csv_text(values: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "value"])
    for name in METRIC_NAMES:
        w.writerow([name, format_value(name, values.get(name))])
    return buf.getvalue()


def csv_from_table(card: pd.DataFrame) -> str:
    return csv_text(dict(zip(card["metric"], card["value"])))


def display_value(metric: str, value) -> str:
    """A value as people read it: counts with thousands separators, amounts with 2 decimals,
    ratios with 1 decimal; an em-free dash for no data."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    kind = BY_NAME[metric].kind
    if kind == "count":
        return f"{int(value):,}"
    if kind == "amount":
        return f"{float(value):,.2f}"
    return f"{float(value):,.1f}"


STATUS_RGB = {"green": (46, 160, 67), "amber": (230, 160, 20), "red": (210, 50, 50)}


def section_figures(card: pd.DataFrame, months: list[str]) -> dict:
    """One Plotly figure per section: a 12-month line per metric of the section (small multiples)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figs = {}
    for section in SECTIONS:
        rows_ = card[card["section"] == section]
        n = len(rows_)
        cols = 4 if n > 4 else n
        nrows = -(-n // cols)
        fig = make_subplots(rows=nrows, cols=cols, subplot_titles=list(rows_["label"]),
                            horizontal_spacing=0.08, vertical_spacing=0.25)
        for i, (_, r) in enumerate(rows_.iterrows()):
            y = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in r["trend"]]
            fig.add_trace(go.Scatter(x=months, y=y, mode="lines+markers", line={"color": "#1f77b4", "width": 2},
                                     marker={"size": 4}, connectgaps=False, showlegend=False),
                          row=i // cols + 1, col=i % cols + 1)
        fig.update_layout(width=1400, height=380 * nrows, margin={"l": 50, "r": 20, "t": 50, "b": 60},
                          template="plotly_white", font={"size": 16})
        fig.update_annotations(font_size=18)
        fig.update_xaxes(tickangle=-45, tickfont={"size": 12}, type="category")
        figs[section] = fig
    return figs


def _chart_pngs(figs: dict) -> dict:
    """PNG bytes of every figure, rendered by kaleido in one browser session."""
    import tempfile

    import plotly.io as pio

    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(Path(tmp) / f"{i}.png") for i in range(len(figs))]
        figures = list(figs.values())
        # kaleido ignores the layout's size here: pass it, or every chart comes out 700 x 500
        pio.write_images(figures, paths, format="png", scale=1, width=[f.layout.width for f in figures],
                         height=[f.layout.height for f in figures])
        return {name: Path(path).read_bytes() for name, path in zip(figs, paths)}


def pdf_bytes(card: pd.DataFrame, month: str, tz: str = "UTC") -> bytes:
    """A PDF with a page per section (in SECTIONS order): the section's metrics against the previous
    month, the same month a year earlier and the target, with status, and a 12-month chart of each
    of its metrics. Charts are Plotly figures rendered by kaleido; the pages are laid out by fpdf2."""
    from fpdf import FPDF

    months = trend_months(month)
    pngs = _chart_pngs(section_figures(card, months))
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Scorecard {month}")
    widths = (92, 34, 34, 34, 34, 30)
    heads = ("Metric", month, "Previous month", "Year earlier", "Target", "Status")
    for section in SECTIONS:
        rows_ = card[card["section"] == section]
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 9, f"Scorecard {month} - {section}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 5, f"Calendar month in time zone {tz}. Empty ('-') means no data for a ratio, score or median.",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.set_fill_color(235, 238, 242)
        for w, h in zip(widths, heads):
            pdf.cell(w, 7, h, border=1, fill=True)
        pdf.ln()
        pdf.set_font("Helvetica", "", 10)
        for _, r in rows_.iterrows():
            target = "-" if r["target"] is None or pd.isna(r["target"]) else display_value(r["metric"], r["target"])
            cells = (r["label"], display_value(r["metric"], r["value"]), display_value(r["metric"], r["previous"]),
                     display_value(r["metric"], r["year_earlier"]), target)
            for w, text in zip(widths, cells):
                pdf.cell(w, 7, str(text), border=1, align="L" if w == widths[0] else "R")
            st = r["status"] if isinstance(r["status"], str) else None
            if st:
                pdf.set_fill_color(*STATUS_RGB[st])
                pdf.set_text_color(255, 255, 255)
            pdf.cell(widths[-1], 7, st or "-", border=1, align="C", fill=bool(st))
            pdf.set_text_color(0, 0, 0)
            pdf.ln()
        top = pdf.get_y() + 4
        avail_h, avail_w = 200 - top, 277
        png = pngs[section]
        px_w, px_h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # PNG IHDR
        w = min(avail_w, avail_h * px_w / px_h)
        img = io.BytesIO(png)
        pdf.image(img, x=10, y=top, w=w)
    return bytes(pdf.output())


# ----------------------------------------------------------------------------- command line

def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file")
    parser.add_argument("--month", required=True, help="calendar month, YYYY-MM")
    parser.add_argument("--out", required=True, help="output file: .csv for metric,value; .pdf for the report")
    parser.add_argument("--timezone", default="UTC", help="reporting time zone that defines the month (IANA name, default UTC)")


def run(args) -> int:
    from analysis.db import connect

    out = Path(args.out)
    if not out.parent.exists():
        raise UserError(f"output folder {out.parent} does not exist: create it or choose another --out")
    parse_month(args.month)
    tz = check_timezone(args.timezone)
    con = connect(args.db, read_only=True)
    try:
        if out.suffix.lower() == ".pdf":
            data = pdf_bytes(scorecard(con, args.month, tz), args.month, tz)
            _write_atomic(out, data)
        else:
            _write_atomic(out, csv_text(month_values(con, args.month, tz)).encode("utf-8"))
    finally:
        con.close()
    return 0


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file so that a failure never leaves half a file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}; choose another --out") from None
