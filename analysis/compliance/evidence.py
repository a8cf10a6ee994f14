"""One breach for an examiner: the account's contact timeline, and the evidence pack (CSV and PDF).

`timeline_figure(detail)` draws `workspace.breach_detail(...)` as a Plotly figure on the account's
local time axis: one row per channel, a marker per contact (colour = outcome, shape = direction),
breaching contacts outlined in red, the counting window of a windowed cap, consent windows,
cooldowns after conversations and opt-outs shaded. The page shows it; the PDF embeds it (kaleido).

The pack holds the breach, the rule's text and citation, the evidence contacts, the explanation and
the review history. Times are given both in UTC and in the account's local time. The time the pack
was made is an argument (this module never reads the clock).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from analysis.schema import CHANNELS

OUTCOME_COLOURS = {
    "conversation": "#2ca02c", "third_party": "#17becf", "no_answer": "#7f7f7f", "voicemail": "#9467bd",
    "busy": "#bcbd22", "not_connected": "#c7c7c7", "dropped": "#8c564b", "sent": "#1f77b4", "received": "#ff7f0e",
}
SPAN_STYLE = {  # kind -> (fill colour, legend label)
    "window": ("rgba(214, 39, 40, 0.14)", "counting window of this breach"),
    "cooldown": ("rgba(255, 127, 14, 0.30)", "cooldown after the conversation in the evidence"),
    "cooldown_other": ("rgba(255, 127, 14, 0.08)", "cooldowns after other conversations"),
    "consent_window": ("rgba(44, 160, 44, 0.14)", "consent window (calls not counted)"),
    "opt_out": ("rgba(127, 127, 127, 0.16)", "after an opt-out of a channel"),
    "cease": ("rgba(0, 0, 0, 0.12)", "after a request to cease communication"),
}
DISCLAIMER = "Presumed breach for review, not a legal finding."
FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)


def _fmt_utc(ts) -> str:
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return ""
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


def _fmt_local(ts) -> str:
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _x_range(detail: dict):
    """The part of the account's history worth looking at: the evidence, give or take a few days."""
    ev = detail["evidence_contacts"]["local_ts"]
    lo, hi = pd.Timestamp(ev.min()), pd.Timestamp(ev.max())
    if detail.get("window"):
        lo = min(lo, detail["window"][0])
        hi = max(hi, detail["window"][1])
    return lo - timedelta(days=2), hi + timedelta(days=2)


def timeline_figure(detail: dict, height: int = 420) -> go.Figure:
    """The account's contacts around the breach, on its local time axis, with windows and cooldowns shaded."""
    tl = detail["timeline"].copy()
    b = detail["breach"]
    tz = b["timezone"]
    channels = [c for c in CHANNELS if c in set(tl["channel"])] or ["call"]
    lo, hi = _x_range(detail)
    fig = go.Figure()

    spans = [("window", detail["window"][0], detail["window"][1], "counting window")] if detail.get("window") else []
    in_evidence = set(detail["evidence_contacts"]["contact_id"])
    for s in detail["spans"].itertuples():
        end = hi if s.end_local is None or pd.isna(s.end_local) else s.end_local
        # The cooldown this breach falls in stands out; the account's other cooldowns stay faint.
        kind = "cooldown_other" if s.kind == "cooldown" and s.source_id not in in_evidence else s.kind
        spans.append((kind, s.start_local, end, s.label))
    shown, shapes = set(), []
    for kind, start, end, label in spans:
        fill, legend = SPAN_STYLE.get(kind, ("rgba(31,119,180,0.12)", kind))
        # Shapes as plain dicts set once: add_vrect re-validates the whole layout on every call.
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": start, "x1": end, "y0": 0, "y1": 1,
                       "fillcolor": fill, "line": {"width": 0}, "layer": "below"})
        if kind not in shown:  # a legend entry per kind of span (shapes have no legend of their own)
            shown.add(kind)
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=legend,
                                     marker={"symbol": "square", "size": 14, "color": fill}, hoverinfo="skip"))

    tl["breaching"] = tl["rules_breached"].fillna("") != ""
    tl["hover"] = [
        f"<b>{r.contact_id}</b> {r.direction} {r.channel}: {r.outcome}<br>local {_fmt_local(r.local_ts)} ({tz})"
        f"<br>{_fmt_utc(r.ts)}<br>agent {r.agent_id if isinstance(r.agent_id, str) else '-'}"
        + (f"<br>breaches: {r.rules_breached}" if r.rules_breached else "")
        for r in tl.itertuples()
    ]
    for outcome, part in tl.groupby(tl["outcome"].fillna("(none)"), sort=True):
        fig.add_trace(go.Scatter(
            x=part["local_ts"], y=part["channel"], mode="markers", name=str(outcome),
            marker={
                "color": OUTCOME_COLOURS.get(outcome, "#444444"), "size": 11,
                "symbol": ["triangle-right" if d == "outbound" else "triangle-left" for d in part["direction"]],
                "line": {"color": ["#d62728" if x else "rgba(0,0,0,0)" for x in part["breaching"]], "width": 2.5},
            },
            hovertext=part["hover"], hoverinfo="text",
        ))
    this = tl[tl["contact_id"] == b["contact_id"]]
    fig.add_trace(go.Scatter(
        x=this["local_ts"], y=this["channel"], mode="markers", name="this breach",
        marker={"symbol": "circle-open", "size": 22, "color": "#d62728", "line": {"width": 3}}, hoverinfo="skip"))
    fig.update_layout(
        shapes=shapes,
        height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, template="plotly_white",
        title={"text": f"Account {b['account_id']}: contacts in local time ({tz}); ▶ outbound ◀ inbound, red outline = breach",
               "font": {"size": 13}},
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0, "font": {"size": 11}},
        xaxis={"title": None, "range": [lo, hi], "type": "date"},
        yaxis={"title": None, "categoryorder": "array", "categoryarray": channels[::-1], "type": "category"},
    )
    return fig


# --- the pack ---------------------------------------------------------------------------------------

CSV_COLUMNS = ["record", "contact_id", "account_id", "rule_id", "ts_utc", "local_time", "timezone", "channel",
               "direction", "outcome", "agent_id", "detail"]


def evidence_csv(detail: dict, history: pd.DataFrame) -> bytes:
    """The pack as one CSV: a `breach` row, a `rule` row, a row per `evidence` contact and per `review`."""
    b, rule = detail["breach"], detail["rule"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    w.writerow(["breach", b["contact_id"], b["account_id"], b["rule_id"], _fmt_utc(b["ts"]), b["local_time"], b["timezone"],
                b["channel"], b["direction"], b["outcome"], b["agent_id"] or "", f"{b['explanation']} {DISCLAIMER}"])
    w.writerow(["rule", "", "", rule["rule_id"], "", "", "", "", "", "", "",
                f"{rule['title']} ({rule['citation']}): {rule['text']} Rule set: {detail['rule_set'] or 'unknown'}."])
    for r in detail["evidence_contacts"].itertuples():
        w.writerow(["evidence", r.contact_id, b["account_id"], b["rule_id"], _fmt_utc(r.ts), _fmt_local(r.local_ts),
                    b["timezone"], r.channel, r.direction, r.outcome, r.agent_id if isinstance(r.agent_id, str) else "",
                    "the breach contact" if r.contact_id == b["contact_id"] else "evidence contact"])
    for r in history.itertuples():
        reason = r.reason if isinstance(r.reason, str) else ""
        w.writerow(["review", b["contact_id"], b["account_id"], b["rule_id"], r.reviewed_at, "", "", "", "", "", "",
                    f"{r.state} by {r.reviewer} (was {r.previous_state})" + (f"; reason: {reason}" if reason else "")
                    + (f"; note: {r.note}" if r.note else "")])
    return out.getvalue().encode("utf-8")


def timeline_png(detail: dict, width: int = 1100, height: int = 440) -> bytes:
    """The timeline as PNG bytes (kaleido drives the local Chromium; about two seconds)."""
    return timeline_figure(detail, height=height).to_image(format="png", width=width, height=height, scale=2)


def evidence_pdf(detail: dict, history: pd.DataFrame, generated_at: datetime, generated_by: str = "",
                 timeline: bytes | None = None) -> bytes:
    """The pack as a PDF for an examiner (A4 portrait): facts, rule, explanation, evidence, timeline, reviews."""
    from fpdf import FPDF

    b, rule = detail["breach"], detail["rule"]
    png = timeline if timeline is not None else timeline_png(detail)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    font = next((f for f in FONT_CANDIDATES if Path(f).exists()), None)
    if font:
        pdf.add_font("pack", "", font)
        bold = font.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
        pdf.add_font("pack", "B", bold if Path(bold).exists() else font)
        family = "pack"

        def text(s) -> str:
            return "" if s is None else str(s)
    else:  # core fonts are Latin-1 only
        family = "Helvetica"

        def text(s) -> str:
            return "" if s is None else str(s).encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(f"Evidence pack {b['rule_id']} {b['contact_id']}")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(s: str) -> None:
        pdf.ln(2)
        pdf.set_font(family, "B", 12)
        pdf.cell(0, 7, text(s), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)

    def para(s: str) -> None:
        pdf.multi_cell(width, 5, text(s), align="L", new_x="LMARGIN", new_y="NEXT")  # justified text copies with doubled spaces

    def table(heads, rows, widths) -> None:
        pdf.set_font(family, "B", 8)
        pdf.set_fill_color(235, 238, 242)
        for w_, h in zip(widths, heads):
            pdf.cell(w_, 6, text(h), border=1, fill=True)
        pdf.ln()
        pdf.set_font(family, "", 8)
        for row in rows:
            for w_, v in zip(widths, row):
                v = text(v)
                while v and pdf.get_string_width(v) > w_ - 2:  # cut what does not fit the cell
                    v = v[:-1]
                pdf.cell(w_, 6, v, border=1)
            pdf.ln()
        pdf.set_font(family, "", 9)

    pdf.set_font(family, "B", 15)
    pdf.cell(0, 9, text(f"Evidence pack: {b['rule_id']} on contact {b['contact_id']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    para(f"{DISCLAIMER} Generated {generated_at.strftime('%Y-%m-%d %H:%M %Z').strip()}"
         + (f" by {generated_by}" if generated_by else "") + f". Rule set: {detail['rule_set'] or 'unknown'}.")

    heading("The breach")
    facts = [
        ("Contact id", b["contact_id"]), ("Account", b["account_id"]), ("Consumer", b["consumer_id"]),
        ("Time (UTC)", _fmt_utc(b["ts"])), ("Local time", f"{b['local_time']} ({b['timezone']})"),
        ("Contact", f"{b['direction']} {b['channel']}, outcome {b['outcome']}"), ("Agent", b["agent_id"] or "-"),
        ("Team / strategy", f"{b['team'] or '-'} / {b['strategy'] or '-'}"), ("State", b["state"] or "-"),
    ]
    for k, v in facts:
        pdf.set_font(family, "B", 9)
        pdf.cell(35, 5, text(k))
        pdf.set_font(family, "", 9)
        pdf.cell(0, 5, text(v), new_x="LMARGIN", new_y="NEXT")
    heading("Explanation")
    para(b["explanation"])

    heading(f"Rule {rule['rule_id']}: {rule['title']}")
    para(f"{rule['citation']}")
    para(rule["text"])

    heading("Evidence contacts")
    ev = detail["evidence_contacts"]
    table(["contact", "time (UTC)", "local time", "channel", "direction", "outcome", "agent"],
          [(r.contact_id, _fmt_utc(r.ts).removesuffix(" UTC"), _fmt_local(r.local_ts), r.channel, r.direction,
            r.outcome, r.agent_id if isinstance(r.agent_id, str) else "-") for r in ev.itertuples()],
          [26, 34, 34, 16, 18, 28, 34])

    heading("Timeline")
    pdf.image(io.BytesIO(png), w=width)

    heading("Review history")
    if history.empty:
        para("Not reviewed yet.")
    else:
        for r in history.itertuples():  # paragraphs, not a table: notes are kept whole
            when = str(r.reviewed_at).replace("T", " ").removesuffix("+00:00")
            para(f"{when} UTC, {r.reviewer}: {r.state} (was {r.previous_state})"
                 + (f"; reason: {r.reason}" if isinstance(r.reason, str) else "")
                 + (f"; note: {r.note}" if r.note else ""))
    return bytes(pdf.output())
