"""CFPB benchmark: the firm's complaint mix and timeliness against public CFPB debt-collection complaints."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from analysis import cfpb
from dashboard import ui
from dashboard.data import load

ui.header("CFPB benchmark", "the firm's complaints in the selected range against a public sample of the CFPB database")
filters = ui.filters()

st.warning(
    "**Caveats of the public data.** A sample of 1,231 debt-collection complaints from the CFPB Consumer Complaint "
    "Database, received 2015-04 to 2020-03, across many companies (data/cfpb/PROVENANCE.md). "
    "The CFPB's *Date sent to company − Date received* is routing time, not the company's resolution time. "
    "*Consumer disputed?* stops in April 2017. *Timely response?* is the CFPB's 15-day response flag; the firm's "
    "comparable figure here is resolution within 15 days, a stricter test.",
    icon=":material/info:",
)

mix = load(cfpb.benchmark_mix, filters, "UTC")
public = load(cfpb.benchmark_timeliness)
firm = load(cfpb.firm_timeliness, filters, "UTC")

st.subheader("Complaint mix by CFPB issue")
fig = go.Figure()
fig.add_trace(go.Bar(y=mix["issue"], x=mix["firm_share_pct"], orientation="h", name=f"Firm ({int(mix['firm_complaints'].sum()):,})"))
fig.add_trace(go.Bar(y=mix["issue"], x=mix["cfpb_share_pct"], orientation="h", name=f"CFPB sample ({int(mix['cfpb_complaints'].sum()):,})"))
fig.update_layout(barmode="group", height=80 + 44 * len(mix), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                  xaxis_title="% of complaints", yaxis={"autorange": "reversed"}, legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
st.plotly_chart(fig, width="stretch", key="bm_mix")
st.dataframe(mix, hide_index=True, width="stretch", column_config={
    "issue": "Issue", "firm_complaints": "Firm complaints",
    "firm_share_pct": st.column_config.NumberColumn("Firm %", format="%.1f"),
    "cfpb_complaints": "CFPB complaints",
    "cfpb_share_pct": st.column_config.NumberColumn("CFPB %", format="%.1f"),
    "difference_pp": st.column_config.NumberColumn("Firm − CFPB (pp)", format="%+.1f"),
    "significant": st.column_config.CheckboxColumn("Significant at 95%")})
st.caption("The firm's categories are mapped to CFPB issues in config/cfpb_issue_map.yaml; older CFPB issue names are "
           "merged into their current ones. A difference is significant when a two-proportion test at 95% says so "
           "and both sides have at least 30 complaints.")

st.subheader("Timeliness and outcomes")


def pct(est):
    return "–" if est.value is None else f"{est.value:.1f}%"


def note(est):
    if est.value is None:
        return None
    return f"95% CI {est.low:.1f} to {est.high:.1f}, n = {est.n}" + (" (small sample)" if est.small else "")


c1, c2, c3, c4 = st.columns(4)
c1.metric("CFPB: timely response (15 days)", pct(public["timely"]), help=note(public["timely"]), border=True)
c2.metric("Firm: resolved within 15 days", pct(firm["within_15_days"]), help=note(firm["within_15_days"]), border=True)
c3.metric("CFPB: closed with relief", pct(public["closed_with_relief"]), help=note(public["closed_with_relief"]), border=True)
c4.metric("Firm: upheld or partly upheld", pct(firm["with_relief"]), help=note(firm["with_relief"]), border=True)
d1, d2, _ = st.columns([1, 1, 2])
routing = public["median_routing_days"]
d1.metric("CFPB: median routing days", "–" if routing is None else f"{routing:.0f}",
          help="Date sent to company − Date received: routing, not resolution", border=True)
d2.metric("CFPB: consumer disputed", pct(public["disputed"]),
          help=(note(public["disputed"]) or "") + f"; the field stops after {public['last_dispute_received']:%Y-%m}",
          border=True)
responses = load(cfpb.benchmark_company_responses)
st.dataframe(responses, hide_index=True, width="content", column_config={
    "company_response": "CFPB company response", "complaints": "Complaints",
    "share_pct": st.column_config.NumberColumn("Share %", format="%.1f")})
