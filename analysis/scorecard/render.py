"""How the scorecard is shown and written: page frames and tiles, CSS, CSV text, Plotly charts, the PDF.

Everything here takes the table of `analysis.scorecard.metrics.scorecard` (or a month's values)
and formats it; nothing here queries the database.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pandas as pd

from analysis.scorecard.metrics import BY_NAME, METRIC_NAMES, SECTIONS, load_targets, trend_months

STATUS_LABEL = {"green": "on target", "amber": "near target", "red": "off target"}
STATUS_CSS = {"on target": "background-color: #2ea043; color: white",
              "near target": "background-color: #e6a014; color: black",
              "off target": "background-color: #d23232; color: white"}
HEADLINE = {"nps": "NPS", "csat_pct": "CSAT %", "complaints_per_1000_accounts": "Complaints per 1,000",
            "right_party_contact_rate_pct": "Right-party contact %", "collected_amount": "Collected",
            "recovery_rate_pct": "Recovery to date %"}


# ----------------------------------------------------------------------------- the page

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


def breach_caption(source: dict) -> str:
    """Which audit the page's breach metrics count, from `metrics.breach_rule_set`, and whether its rule
    set is the default one that SPEC section 3 (and the `scorecard` command) counts."""
    if not source["stored"]:
        return ("Breach metrics: no compliance audit is stored, so they are empty; "
                "`python -m analysis refresh --db FILE` stores one with the default rules.")
    text = f"Breach metrics: the stored compliance audit, rule set {source['label'] or 'unknown'}"
    if source["default"]:
        return text + " (the default rules, config/rules.toml)."
    return (text + ". This is not the default rule set (config/rules.toml) that the scorecard's definition "
            "counts: `python -m analysis scorecard` gives the default rules' figures, and "
            "`python -m analysis refresh --db FILE` stores them here.")


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


# ----------------------------------------------------------------------------- CSV and display values

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


# ----------------------------------------------------------------------------- charts and PDF

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


def pdf_bytes(card: pd.DataFrame, month: str, tz: str = "UTC", breach_note: str | None = None) -> bytes:
    """A PDF with a page per section (in SECTIONS order): the section's metrics against the previous
    month, the same month a year earlier and the target, with status, and a 12-month chart of each
    of its metrics. Charts are Plotly figures rendered by kaleido; the pages are laid out by fpdf2.
    `breach_note`, when given, is printed on the page of the breach metrics (which audit they count)."""
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
        if breach_note and section == BY_NAME["contact_breaches"].section:
            pdf.multi_cell(0, 5, breach_note.replace("`", ""), new_x="LMARGIN", new_y="NEXT")
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
