"""Repayments: collections by month and segment, payer retention, liquidation curves, promises,
and the best time and channel to reach people."""
from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from analysis import repayments
from dashboard import audit, charts, ui
from dashboard.data import load, load_later

VIEWS = ("Collections", "Liquidation curves", "Promises", "Best time to reach")
SPLITS = {"portfolio": "Portfolio", "team": "Team", "strategy": "Strategy", "channel": "Channel of last contact"}

ui.header("Repayments", "UTC calendar dates; the sidebar filters apply (channel: the channel of the last contact before a payment)")
filters = ui.filters()

if "rp_view" not in st.session_state:
    st.session_state["rp_view"] = st.query_params.get("view") if st.query_params.get("view") in VIEWS else VIEWS[0]
view = st.segmented_control("View", VIEWS, key="rp_view", label_visibility="collapsed") or VIEWS[0]
st.query_params["view"] = view

if view == "Collections":
    split = st.segmented_control("Split by", list(SPLITS), format_func=SPLITS.get, key="rp_split", default="portfolio") or "portfolio"
    monthly = load(repayments.collected_by_month, filters, split)
    totals = load(repayments.monthly_totals, filters)
    if monthly.empty:
        st.info("No payments in this selection.")
        st.stop()
    st.subheader("Collected per month")
    st.plotly_chart(charts.figure(charts.collected_bar, filters, split, SPLITS[split]), width="stretch", key="rp_collected")
    c1, c2 = st.columns(2)
    with c1:
        st.subheader("Paying accounts")
        st.plotly_chart(charts.figure(charts.payers_bar, filters), width="stretch", key="rp_payers")
    with c2:
        st.subheader("Payer retention")
        st.plotly_chart(charts.figure(charts.retention_line, filters), width="stretch", key="rp_retention")
    st.dataframe(totals, hide_index=True, width="stretch", column_config={
        "month_start": st.column_config.DateColumn("Month", format="YYYY-MM"),
        "paying_accounts": "Paying accounts", "paid_previous_month": "Paid last month",
        "paid_both": "Paid last month and this month", "retention_pct": st.column_config.NumberColumn("Retention %", format="%.1f")})
    st.subheader("Lifetime collected per account")
    life_by = st.segmented_control("Segment", list(repayments.LIFETIME_SEGMENTS), format_func=str.capitalize,
                                   key="rp_life_by", default="portfolio") or "portfolio"
    life = load(repayments.lifetime_by_segment, filters, life_by)
    st.dataframe(repayments.segment_table(life, life_by.capitalize()), hide_index=True, width="stretch", column_config={
        "Placed balance": st.column_config.NumberColumn(format="%.2f"), "Collected": st.column_config.NumberColumn(format="%.2f"),
        "Collected per account": st.column_config.NumberColumn(format="%.2f"),
        "Median per account": st.column_config.NumberColumn(format="%.2f"),
        "Recovery %": st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=100)})
    st.caption("Lifetime: every payment up to the end of the date range, reversals included, over accounts placed by then.")

elif view == "Liquidation curves":
    curves = load(repayments.liquidation_curves, filters)
    if curves.empty:
        st.info("No accounts in this selection.")
        st.stop()
    st.subheader("Cumulative share of placed balance recovered, by placement month")
    fig = px.line(curves, x="months_since_placement", y="recovered_pct", color="vintage", markers=True,
                  labels={"months_since_placement": "Months since placement (0 = placement month)",
                          "recovered_pct": "% of placed balance recovered", "vintage": "Placed in"},
                  hover_data={"accounts": True, "placed_balance": ":.2f", "cumulative_collected": ":.2f"})
    fig.update_layout(height=480, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    st.plotly_chart(fig, width="stretch", key="rp_curves")
    st.caption("One curve per vintage (UTC month of placed_date), up to the month of the last payment in the data; "
               "payments before the placement month are left out. The sidebar date range does not apply here.")

elif view == "Promises":
    by = st.segmented_control("By", ["team", "agent"], format_func=str.capitalize, key="rp_pr_by", default="team") or "team"
    table = load(repayments.promises_by, filters, by)
    if table.empty:
        st.info("No promises in this selection.")
        st.stop()
    label = "team" if by == "team" else "agent_id"
    fig = go.Figure(go.Scatter(
        x=table["kept_rate_pct"], y=table[label], mode="markers", marker={"size": 10},
        error_x={"type": "data", "symmetric": False, "array": table["kept_rate_high"] - table["kept_rate_pct"],
                 "arrayminus": table["kept_rate_pct"] - table["kept_rate_low"]}))
    fig.update_layout(height=max(260, 28 * len(table)), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="% of promises due that were kept (95% interval)", xaxis_range=[0, 100])
    st.subheader("Kept rate by " + by)
    st.plotly_chart(fig, width="stretch", key="rp_kept")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "team": "Team", "agent_id": "Agent", "promises_made": "Made", "promises_due": "Due", "promises_kept": "Kept",
        "promised_amount_due": st.column_config.NumberColumn("Promised (due)", format="%.2f"),
        "paid_toward_due": st.column_config.NumberColumn("Paid toward them", format="%.2f"),
        "kept_rate_pct": st.column_config.NumberColumn("Kept %", format="%.1f"),
        "kept_rate_low": st.column_config.NumberColumn("Low", format="%.1f"),
        "kept_rate_high": st.column_config.NumberColumn("High", format="%.1f"),
        "small_sample": "Fewer than 30 due"})
    st.caption("Kept: the account's payments, reversals included, dated from the promise's creation to its due date + 3 days "
               "(UTC dates) reach the promised amount (SPEC section 3). Made counts creation dates in range, due counts due dates.")
    st.subheader("Broken promises followed by a complaint or a breach")
    broken = load(repayments.broken_promise_view, filters, int(table["promises_due"].sum()), ui.SHOWN_ROWS)
    summary = broken["summary"]
    m = st.columns(4)
    m[0].metric("Broken promises", f"{summary['broken']:,}", border=True)
    m[1].metric("Then a complaint", f"{summary['followed_by_complaint']:,}", border=True)
    m[2].metric("Then a presumed breach", f"{summary['followed_by_breach']:,}", border=True)
    share = summary["followed_share_pct"]
    m[3].metric("Either, share", "-" if share is None else f"{share:.1f}%", border=True)
    st.dataframe(ui.masked(broken["followed"]), hide_index=True, width="stretch", column_config={
        "promise_id": "Promise", "account_id": "Account", "team": "Team", "strategy": "Strategy", "agent_id": "Agent",
        "due_date": st.column_config.DateColumn("Due", format="YYYY-MM-DD"),
        "followed_by_complaint": "Complaint followed", "followed_by_breach": "Breach followed",
        "promised_amount": st.column_config.NumberColumn("Promised", format="%.2f"),
        "paid_in_window": st.column_config.NumberColumn("Paid in window", format="%.2f")})
    total = broken["followed_total"]
    st.caption(f"{total:,} broken promises followed by a complaint or a breach, the latest due first"
               + ui.shown_rows_note(total, "latest due")
               + f". Broken: due in the date range, window closed by the data's date, not kept. Followed: a complaint "
               f"received, or a contact presumed to breach a contact rule, within {repayments.FOLLOW_UP_DAYS} days after the due date.")
    audit.download_button("Download the followed broken promises (CSV)",
                          ui.masked_csv(load_later(repayments.followed_promises, filters)), what="followed broken promises",
                          rows=total, file_name="broken_promises_followed.csv", mime="text/csv", key="rp_followed_csv")

else:
    channel = st.segmented_control("Channel", ["call", "sms", "email", "chat"], key="rp_channel", default="call") or "call"
    heat = load(repayments.contact_heatmap, filters, channel)
    if int(heat["attempts"].sum()) == 0:
        st.info(f"No outbound {channel} contacts in this selection.")
        st.stop()
    rate, attempts = repayments.heatmap_matrix(heat, "rate_pct"), repayments.heatmap_matrix(heat, "attempts")
    st.subheader(f"Right-party rate of outbound {channel} contacts by local hour and weekday")
    fig = go.Figure(go.Heatmap(
        z=rate.values, x=[f"{h:02d}" for h in rate.columns], y=list(rate.index), customdata=attempts.values,
        text=[[f"{int(v)}" if v else "" for v in row] for row in attempts.values],
        colorscale="Viridis", colorbar={"title": "% reached"},
        hovertemplate="%{y} %{x}:00 local<br>%{z:.1f}% reached<br>%{customdata} attempts<extra></extra>",
        texttemplate="%{text}", textfont={"size": 9}))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title="Local hour (account's time zone)",
                      yaxis_autorange="reversed")
    st.plotly_chart(fig, width="stretch", key="rp_heat")
    st.caption(f"Cell numbers are attempts; cells with fewer than {repayments.MIN_HEATMAP_ATTEMPTS} attempts have no colour. Reached: a call answered by the consumer (outcome conversation); for SMS, "
               "email and chat, a reply on the same channel within 24 hours. Hours before 08:00 or from 21:00 local "
               "are inconvenient times under the contact rules.")
    st.dataframe(repayments.best_hours(heat), hide_index=True, width="content", column_config={
        "weekday_name": "Weekday", "local_hour": "Local hour", "attempts": "Attempts",
        "reached": "Reached", "rate_pct": st.column_config.NumberColumn("Reached %", format="%.1f")})
    st.subheader("By channel")
    by_channel = load(repayments.contact_by_channel, filters)
    st.dataframe(by_channel, hide_index=True, width="stretch", column_config={
        "channel": "Channel", "attempts": "Outbound contacts", "reached": "Reached", "accounts_contacted": "Accounts contacted",
        "accounts_reached": "Accounts reached", "rate_pct": st.column_config.NumberColumn("Reached %", format="%.1f"),
        "rate_low": st.column_config.NumberColumn("Low", format="%.1f"), "rate_high": st.column_config.NumberColumn("High", format="%.1f")})
