"""Customer experience: NPS and CSAT with intervals, by segment, verbatims and comment themes."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from analysis import experience
from dashboard import ui
from dashboard.data import load

ZONES = ("UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London")
VIEWS = ("Trend", "By segment", "Drivers", "Verbatims")
LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}
BAND_LABELS = {"": "All", "detractor": "Detractors (0-6)", "passive": "Passives (7-8)",
               "promoter": "Promoters (9-10)", "no_nps": "No NPS given"}

ui.header("Customer experience", "NPS and CSAT as in SPEC section 3, with 95% intervals; fewer than 30 responses is a small sample")
filters = ui.filters()

# Zone and view live in the URL so that a link reproduces the view.
if "cx_tz" not in st.session_state:
    st.session_state["cx_tz"] = st.query_params.get("tz") if st.query_params.get("tz") in ZONES else "UTC"
if "cx_view" not in st.session_state:
    st.session_state["cx_view"] = st.query_params.get("view") if st.query_params.get("view") in VIEWS else VIEWS[0]
left, right = st.columns([3, 1])
view = left.segmented_control("View", VIEWS, key="cx_view", label_visibility="collapsed") or VIEWS[0]
tz = right.selectbox("Reporting time zone", ZONES, key="cx_tz")
st.query_params["tz"] = tz
st.query_params["view"] = view

months = load(experience.monthly, filters, tz)
if months.empty:
    st.info("No survey responses in this selection.")
    st.stop()

tiles = st.columns(2)
for tile, fig in zip(tiles, experience.headline(months)):
    tile.metric(fig["label"], fig["value"], fig["delta"], border=True)
    tile.caption(fig["caption"])


def band_chart(x, y, low, high, name, y_title, y_range):
    fig = go.Figure()
    # the shaded band joins only months that have an interval (an empty month would tear the polygon)
    keep = [i for i, (lo, hi) in enumerate(zip(low, high)) if lo == lo and hi == hi and lo is not None and hi is not None]
    bx, blo, bhi = [list(x)[i] for i in keep], [list(low)[i] for i in keep], [list(high)[i] for i in keep]
    fig.add_trace(go.Scatter(x=bx + bx[::-1], y=bhi + blo[::-1], fill="toself",
                             fillcolor="rgba(31,119,180,0.15)", line={"width": 0}, hoverinfo="skip",
                             name="95% interval"))
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, line={"color": "#1f77b4"}))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis_title=y_title,
                      yaxis_range=y_range, legend=LEGEND, title=None)
    return fig


if view == "Trend":
    x = [m.strftime("%Y-%m") for m in months["month"]]
    c1, c2 = st.columns(2)
    with c1:
        st.subheader("NPS by month")
        st.plotly_chart(band_chart(x, months["nps"], months["nps_low"], months["nps_high"], "NPS", "NPS (-100..100)", [-100, 100]),
                        width="stretch", key="nps_trend")
    with c2:
        st.subheader("CSAT by month")
        st.plotly_chart(band_chart(x, months["csat_pct"], months["csat_low"], months["csat_high"], "CSAT %", "% satisfied (4-5)", [0, 100]),
                        width="stretch", key="csat_trend")
    st.dataframe(experience.month_table(months), hide_index=True, width="stretch",
                 column_config={"NPS": st.column_config.NumberColumn(format="%.1f"),
                                "CSAT %": st.column_config.NumberColumn(format="%.1f")})
    st.caption("A month without responses shows no figure (not 0). A change is marked significant only when a "
               "two-sample test at 95% says so and both months have at least 30 responses.")

elif view == "By segment":
    dims = list(experience.DIMENSIONS)
    dim = st.segmented_control("Segment by", dims, format_func=experience.DIMENSIONS.get, key="cx_dim",
                               default="team") or "team"
    seg = load(experience.by_segment, filters, dim, tz)
    table = experience.segment_table(seg, experience.DIMENSIONS[dim])
    ranked = seg[~seg["nps_small"].astype(bool) & seg["nps"].notna()]
    if not ranked.empty:
        # dot and whisker: the interval matters as much as the point
        fig = go.Figure(go.Scatter(
            x=ranked["nps"], y=ranked["segment"], mode="markers", marker={"size": 10},
            error_x={"type": "data", "symmetric": False, "array": ranked["nps_high"] - ranked["nps"],
                     "arrayminus": ranked["nps"] - ranked["nps_low"]}))
        fig.update_layout(height=max(220, 28 * len(ranked) + 80), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                          xaxis_title="NPS with 95% interval", yaxis={"autorange": "reversed"})
        st.plotly_chart(fig, width="stretch", key="nps_segments")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"NPS": st.column_config.NumberColumn(format="%.1f"),
                                "CSAT %": st.column_config.NumberColumn(format="%.1f")})
    st.caption("Segments with fewer than 30 responses keep their figures but are not ranked (and not charted). "
               "Team: the answering agent's team, else the account's team.")
    if not seg.empty:
        one = st.selectbox(f"Month by month for one {experience.DIMENSIONS[dim].lower()}", list(seg["segment"]), key="cx_segment")
        st.dataframe(experience.month_table(load(experience.segment_monthly, filters, dim, one, tz)), hide_index=True,
                     width="stretch", column_config={"NPS": st.column_config.NumberColumn(format="%.1f"),
                                                     "CSAT %": st.column_config.NumberColumn(format="%.1f")})

elif view == "Drivers":
    drivers = load(experience.theme_drivers, filters, tz)
    st.subheader("What detractors talk about")
    fig = go.Figure()
    fig.add_trace(go.Bar(y=drivers["theme"], x=drivers["detractor_share_pct"], orientation="h", name="Detractor comments",
                         marker_color="#d62728"))
    fig.add_trace(go.Bar(y=drivers["theme"], x=drivers["promoter_share_pct"], orientation="h", name="Promoter comments",
                         marker_color="#2ca02c"))
    fig.update_layout(barmode="group", height=60 + 34 * len(drivers), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="% of the band's comments that mention the theme", yaxis={"autorange": "reversed"},
                      legend=LEGEND)
    st.plotly_chart(fig, width="stretch", key="drivers")
    st.dataframe(drivers, hide_index=True, width="stretch", column_config={
        "theme": "Theme", "detractor_mentions": "Detractor mentions", "detractor_comments": "Detractor comments",
        "detractor_share_pct": st.column_config.NumberColumn("Detractor %", format="%.1f"),
        "promoter_mentions": "Promoter mentions", "promoter_comments": "Promoter comments",
        "promoter_share_pct": st.column_config.NumberColumn("Promoter %", format="%.1f"),
        "lift": st.column_config.NumberColumn("Lift (detractor % / promoter %)", format="%.2f")})
    st.caption("A comment mentions a theme when it matches the theme's keywords (config/comment_themes.yaml). "
               "Lift is empty when no promoter comment mentions the theme.")

else:
    band = st.segmented_control("Band", list(BAND_LABELS), format_func=BAND_LABELS.get, key="cx_band", default="detractor")
    band = band or ""
    comments = load(experience.verbatims, filters, band, tz)
    if not load(experience.sentiment_available):
        st.info("Sentiment scores appear once the conversations step has run (`python -m analysis refresh --db FILE`).")
    if not ui.can_see_pii():
        st.caption("Comment text and account ids are personal data: shown to compliance and admin roles only.")
    st.dataframe(ui.masked(comments), hide_index=True, width="stretch", column_config={
        "response_id": "Response", "account_id": "Account", "nps": "NPS", "csat": "CSAT", "band": "Band",
        "survey_channel": "Survey channel", "agent_id": "Agent", "team": "Team",
        "responded_at": st.column_config.DatetimeColumn("Responded (UTC)", format="YYYY-MM-DD HH:mm"),
        "sentiment_score": st.column_config.NumberColumn("Sentiment", format="%.2f"),
        "sentiment_label": "Sentiment label", "comment": st.column_config.TextColumn("Comment", width="large")})
    st.caption(f"{len(comments)} comments (newest first, at most 500).")
