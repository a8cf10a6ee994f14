"""Balance: recovery against customer experience per team, agent and strategy; champion vs challenger; over time."""
from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from analysis import balance
from dashboard import ui
from dashboard.data import load

VIEWS = ("Recovery vs experience", "Champion vs challenger", "Over time")
X_FIGS = {"recovery_pct": ("recovery_low", "recovery_high"), "collected_per_contact": ("per_contact_low", "per_contact_high")}
Y_FIGS = {"nps": ("nps_low", "nps_high"), "complaints_per_1000": ("complaints_low", "complaints_high"),
          "breach_rate_pct": ("breach_low", "breach_high"), "negative_share_pct": ("negative_low", "negative_high")}
LABEL = {k: v[0] for k, v in balance.FIGURES.items()}

ui.header("Balance", "recovery against experience, UTC dates, sidebar filters apply; 95% intervals; "
                     f"fewer than {balance.stats.MIN_N} accounts is a small sample")
filters = ui.filters()
if "bl_view" not in st.session_state:
    st.session_state["bl_view"] = st.query_params.get("view") if st.query_params.get("view") in VIEWS else VIEWS[0]
view = st.segmented_control("View", VIEWS, key="bl_view", label_visibility="collapsed") or VIEWS[0]
st.query_params["view"] = view
if not load(balance.has_sentiment):
    st.caption("Negative conversation share: not available until conversation sentiment has been computed (`python -m analysis refresh`).")

if view == "Recovery vs experience":
    c1, c2, c3 = st.columns([2, 1, 1])
    by = c1.segmented_control("Per", list(balance.GROUPINGS), format_func=str.capitalize, key="bl_by", default="team") or "team"
    x = c2.selectbox("Recovery", list(X_FIGS), format_func=LABEL.get, key="bl_x")
    y = c3.selectbox("Experience", list(Y_FIGS), format_func=LABEL.get, key="bl_y")
    df = load(balance.groups, filters, by)
    points, overall = balance.split_overall(df)
    if points.empty:
        st.info("No accounts in this selection.")
        st.stop()
    (xl, xh), (yl, yh) = X_FIGS[x], Y_FIGS[y]
    fig = go.Figure(go.Scatter(
        x=points[x], y=points[y], mode="markers+text", text=points["group_name"], textposition="top center",
        marker={"size": 10 + 30 * points["accounts"] / points["accounts"].max(), "opacity": 0.75,
                "color": ["#bbbbbb" if s else "#1f77b4" for s in points["small_sample"]]},
        error_x={"type": "data", "symmetric": False, "array": points[xh] - points[x], "arrayminus": points[x] - points[xl], "thickness": 1},
        error_y={"type": "data", "symmetric": False, "array": points[yh] - points[y], "arrayminus": points[y] - points[yl], "thickness": 1},
        customdata=points[["accounts"]], hovertemplate="%{text}<br>x %{x:.2f}<br>y %{y:.2f}<br>%{customdata[0]} accounts<extra></extra>"))
    if overall[x] is not None and overall[y] is not None and overall[x] == overall[x] and overall[y] == overall[y]:
        fig.add_vline(x=overall[x], line_dash="dot", line_color="#888")
        fig.add_hline(y=overall[y], line_dash="dot", line_color="#888")
    good_high = balance.FIGURES[y][1] == "higher"
    for ax, ay, text in ((0.99, 0.99 if good_high else 0.01, "more recovery, better experience"),
                         (0.01, 0.01 if good_high else 0.99, "less recovery, worse experience")):
        fig.add_annotation(xref="paper", yref="paper", x=ax, y=ay, text=text, showarrow=False,
                           xanchor="right" if ax > 0.5 else "left", font={"color": "#888"})
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title=LABEL[x], yaxis_title=LABEL[y])
    st.subheader(f"{LABEL[x]} against {LABEL[y]}, per {by}")
    st.plotly_chart(fig, width="stretch", key="bl_quadrant")
    st.caption("Dotted lines: the whole selection. Whiskers: 95% intervals. Grey: small sample. Bubble size: accounts.")
    fmt = {c: st.column_config.NumberColumn(format="%.2f") for c in balance.table(df).columns
           if c not in ("Group", "Accounts", "Contacts made", "NPS responses", "Complaints", "Conversations scored", "Small sample")}
    st.dataframe(balance.table(df), hide_index=True, width="stretch", column_config=fmt)
    st.caption("Click a column header to sort. Recovery % and per contact: ratio estimators over accounts (delta-method "
               "interval); NPS adjusted Wald; complaints exact Poisson; breach and negative shares Wilson. Agent: the agent "
               "who made most of the account's outbound contacts; NPS and conversations use their own agent.")

elif view == "Champion vs challenger":
    options = load(balance.strategies)
    if len(options) < 2:
        st.info("The data has fewer than two strategies to compare.")
        st.stop()
    c1, c2 = st.columns(2)
    champion = c1.selectbox("Champion", options, index=0, key="bl_champion")
    challenger = c2.selectbox("Challenger", [o for o in options if o != champion], index=0, key="bl_challenger")
    cmp = load(balance.compare, filters, champion, challenger)
    verdicts = [v for v in cmp["verdict"] if v]
    st.subheader("Verdict")
    if verdicts:
        for v in verdicts:
            (st.success if v.endswith(f"better for {challenger}.") else st.warning)(v)
    else:
        st.info("No figure differs significantly between the two strategies in this selection.")
    st.dataframe(balance.comparison_table(cmp), hide_index=True, width="stretch", column_config={
        "figure": "Figure",
        **{c: st.column_config.NumberColumn(c.replace("_", " ").capitalize(), format="%.2f")
           for c in ("champion", "champion_low", "champion_high", "challenger", "challenger_low", "challenger_high",
                     "difference", "difference_low", "difference_high")},
        "p_value": st.column_config.NumberColumn("p-value", format="%.4f"), "significant": "Significant at 5%"})
    st.caption("Difference: challenger minus champion, with its 95% interval. A verdict is given only where the difference is "
               "significant at 5% and both samples have at least 30 accounts (responses, conversations).")

else:
    c1, c2 = st.columns([1, 2])
    by = c1.segmented_control("Per", ["strategy", "team"], format_func=str.capitalize, key="bl_time_by", default="strategy") or "strategy"
    fig_key = c2.segmented_control("Figure", ["recovery_pct", "nps", "complaints_per_1000", "breach_rate_pct", "negative_share_pct"],
                                   format_func=LABEL.get, key="bl_time_fig", default="recovery_pct") or "recovery_pct"
    df = load(balance.monthly, filters, by)
    if df.empty:
        st.info("Nothing happened in this selection.")
        st.stop()
    st.subheader(f"{LABEL[fig_key]} by month, per {by}")
    fig = px.line(df, x="month", y=fig_key, color="grp", markers=True, labels={"month": "Month", fig_key: LABEL[fig_key], "grp": by.capitalize()})
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    st.plotly_chart(fig, width="stretch", key="bl_time")
    st.caption("Recovery % here: collected in the month over the placed balance of accounts placed by its end.")
    st.dataframe(balance.monthly_table(df), hide_index=True, width="stretch",
                 column_config={"month": "Month", "grp": by.capitalize(), "contacts_made": "Contacts made",
                                "accounts_in_book": "Accounts in book",
                                **{k: st.column_config.NumberColumn(v, format="%.2f") for k, v in LABEL.items()}})
