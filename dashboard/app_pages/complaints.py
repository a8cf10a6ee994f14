"""Complaints: volumes, handling times against DISP and CFPB expectations, backlog, and the link to breaches."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from analysis import complaints
from dashboard import ui
from dashboard.data import load

ZONES = ("UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London")
VIEWS = ("Monthly", "Breakdown", "Resolution time", "Backlog", "CFPB", "Contact and breaches")
BREAKDOWNS = ("category", "source", "team", "strategy", "outcome")

ui.header("Complaints", "received, resolved and open; handling times in days of 86,400 s; the channel filter does not apply")
filters = ui.filters()

if "cp_tz" not in st.session_state:
    st.session_state["cp_tz"] = st.query_params.get("tz") if st.query_params.get("tz") in ZONES else "UTC"
if "cp_view" not in st.session_state:
    st.session_state["cp_view"] = st.query_params.get("view") if st.query_params.get("view") in VIEWS else VIEWS[0]
left, right = st.columns([3, 1])
view = left.segmented_control("View", VIEWS, key="cp_view", label_visibility="collapsed") or VIEWS[0]
tz = right.selectbox("Reporting time zone", ZONES, key="cp_tz")
st.query_params["tz"] = tz
st.query_params["view"] = view

summary = load(complaints.summary, filters, tz)
tiles = st.columns(4)
for i, fig in enumerate(complaints.headline(summary)):
    tiles[i % 4].metric(fig["label"], fig["value"], help=fig["help"], border=True)


def layout(fig, height=340, **kw):
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}, **kw)
    return fig


if view == "Monthly":
    months = load(complaints.monthly, filters, tz)
    if months.empty:
        st.info("No complaints in this selection.")
    else:
        x = [m.strftime("%Y-%m") for m in months["month"]]
        fig = go.Figure()
        fig.add_trace(go.Bar(x=x, y=months["received"], name="Received"))
        fig.add_trace(go.Bar(x=x, y=months["resolved"], name="Resolved"))
        fig.add_trace(go.Scatter(x=x, y=months["open_end_of_month"], name="Open at month end", mode="lines+markers"))
        st.plotly_chart(layout(fig, barmode="group", yaxis_title="complaints"), width="stretch", key="cp_monthly")
        st.dataframe(complaints.month_table(months), hide_index=True, width="stretch", column_config={
            c: st.column_config.NumberColumn(format="%.1f")
            for c in ("Per 1,000 accounts", "Median days", "P90 days", "Within 8 weeks %", "Within 3 business days %")
        } | {"Redress paid": st.column_config.NumberColumn(format="%.2f")})
        st.caption("Empty cells: no complaint resolved that month, so no median or share (not 0).")

elif view == "Breakdown":
    dim = st.segmented_control("Break down by", BREAKDOWNS, format_func=complaints.DIMENSIONS.get, key="cp_dim",
                               default="category") or "category"
    seg = load(complaints.by_segment, filters, dim, tz)
    if seg.empty:
        st.info("No complaints in this selection.")
    else:
        fig = go.Figure(go.Bar(x=seg["received"], y=seg["segment"], orientation="h", name="Received"))
        st.plotly_chart(layout(fig, height=max(220, 30 * len(seg) + 80), xaxis_title="complaints received",
                               yaxis={"autorange": "reversed"}), width="stretch", key="cp_breakdown")
        st.dataframe(seg, hide_index=True, width="stretch", column_config={
            "segment": complaints.DIMENSIONS[dim], "received": "Received", "resolved": "Resolved",
            "resolved_within_8_weeks": "Within 8 weeks",
            "median_resolution_days": st.column_config.NumberColumn("Median days", format="%.1f"),
            "open_at_end": "Open at end", "redress_paid": st.column_config.NumberColumn("Redress paid", format="%.2f"),
            "share_of_received_pct": st.column_config.NumberColumn("Share of received %", format="%.1f"),
            "resolved_within_8_weeks_pct": st.column_config.NumberColumn("Within 8 weeks %", format="%.1f")})

elif view == "Resolution time":
    days = load(complaints.resolution_days, filters, tz)
    if days.empty:
        st.info("No complaint was resolved in this selection.")
    else:
        bins = complaints.histogram(days["resolution_days"])
        fig = go.Figure(go.Bar(x=bins["band"], y=bins["complaints"]))
        st.plotly_chart(layout(fig, xaxis_title="resolution time", yaxis_title="complaints resolved"),
                        width="stretch", key="cp_hist")
        st.caption(f"Median {summary['median_resolution_days']:.1f} days, p90 {summary['p90_resolution_days']:.1f} days "
                   f"over {len(days)} complaints resolved in the range. Bands include their upper edge: "
                   "'28-56 days' ends at exactly 8 weeks (FCA DISP 1.6).")

elif view == "Backlog":
    ageing = load(complaints.backlog_ageing, filters, None, tz)
    fig = go.Figure(go.Bar(x=ageing["age_band"], y=ageing["open_complaints"]))
    st.plotly_chart(layout(fig, xaxis_title="age at the end of the range", yaxis_title="open complaints"),
                    width="stretch", key="cp_backlog")
    st.caption(f"Complaints open at {summary['as_of']:%Y-%m-%d %H:%M} UTC (end of the range, or the data's as-of time "
               "if earlier), by time since receipt. The date range does not limit the backlog: an old complaint still open is in it.")

elif view == "CFPB":
    t = load(complaints.cfpb_timeliness, filters, tz)
    if t["cfpb_received"] == 0:
        st.info("No CFPB-sourced complaints in this selection.")
    else:
        c1, c2, c3 = st.columns(3)
        c1.metric("CFPB complaints received", f"{t['cfpb_received']:,}", border=True)
        for col, label, est in ((c2, "Responded within 15 days", t["within_15_days"]),
                                (c3, "Final response within 60 days", t["final_within_60_days"])):
            value = "–" if est.value is None else f"{est.value:.1f}%"
            note = "" if est.value is None else f"95% CI {est.low:.1f} to {est.high:.1f} of {est.n}{' (small sample)' if est.small else ''}"
            col.metric(label, value, border=True, help=note or None)
        st.caption("15 days: the export's 'Timely response?' when present, else resolved within 15 x 86,400 s; "
                   "60 days: resolved within 60 x 86,400 s (the CFPB export has no final-response date). "
                   "Complaints still open and younger than the limit are not counted yet.")

else:
    linked = load(complaints.contact_complaints_with_breaches, filters, tz)
    if linked is None:
        st.info("Breaches are not derived yet: run `python -m analysis refresh --db FILE`.")
    elif linked.empty:
        st.info("No complaints about contact (frequency, time, opt-out, communication tactics) in this selection.")
    else:
        with_breach = int((linked["breaches_30d"] > 0).sum())
        st.metric("Contact complaints with a presumed breach in the 30 days before",
                  f"{with_breach} of {len(linked)}", border=True)
        st.dataframe(ui.masked(linked), hide_index=True, width="stretch", column_config={
            "complaint_id": "Complaint", "account_id": "Account", "source": "Source", "category": "Category",
            "issue": "CFPB issue", "sub_issue": "CFPB sub-issue", "team": "Team",
            "received_at": st.column_config.DatetimeColumn("Received (UTC)", format="YYYY-MM-DD HH:mm"),
            "breaches_30d": "Breaches (30 d before)", "breached_contacts_30d": "Contacts in breach", "rules": "Rules"})
        st.caption("Breaches are presumed, for review, not legal findings (see the Compliance page). "
                   "Window: the 30 x 86,400 s before the complaint was received.")
