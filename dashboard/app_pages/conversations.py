"""Conversations: how customers feel and why, QA phrase checks and vulnerability cues."""
from __future__ import annotations

import plotly.express as px
import streamlit as st

from analysis.sentiment import report
from dashboard import ui
from dashboard.data import load

ui.header("Conversations", "customer sentiment per conversation, QA phrase checks, vulnerability cues")
f = ui.filters()

if not load(report.ready):
    st.info("Conversation scores are not in this database yet. Run `python -m analysis refresh --db FILE` to compute them.")
    st.stop()

VIEWS = ["Sentiment", "Lowest and transcripts", "QA checks", "Vulnerability"]
# A link to one conversation (?conversation=ID) opens on the transcript viewer.
start_view = VIEWS[1] if st.query_params.get("conversation") else VIEWS[0]
view = st.segmented_control("View", VIEWS, default=start_view, key="conv_view") or start_view
LABEL_COLOURS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}


def fmt(value, pattern="{:.1f}"):
    return "–" if value is None or value != value else pattern.format(value)


if view == "Sentiment":
    # One query (cached) gives the headline, the histogram, the trend and the breakdown; the breakdown's
    # grouping is read before its control is drawn, so changing it asks for one new query, not four.
    by = st.session_state.get("conv_by") or "team"
    cells = load(report.sentiment_cells, f, by)
    o = report.overview_of(cells, len(load(report.vulnerable_accounts, f)))
    c = st.columns(4)
    c[0].metric("Conversations", f"{o['conversations']:,}")
    c[1].metric("Negative (customer)", fmt(o["negative_pct"], "{:.1f}%"), help="Share of conversations where the customer spoke whose customer mean score is <= -0.05")
    c[2].metric("Mean customer score", fmt(o["mean_customer_score"], "{:+.2f}"), help="-1 (negative) .. +1 (positive)")
    c[3].metric("Accounts with vulnerability cues", f"{o['flagged_accounts']:,}")
    hist = report.histogram_of(cells)
    if hist.empty:
        st.info("No scored conversations in the filters.")
    else:
        fig = px.bar(hist, x="bin_start", y="conversations", color="label", color_discrete_map=LABEL_COLOURS,
                     labels={"bin_start": "customer mean score (bin start)", "conversations": "conversations"},
                     title="Distribution of customer sentiment per conversation")
        fig.update_layout(bargap=0.05, height=330)
        st.plotly_chart(fig)
    st.segmented_control("Break down by", list(report.GROUPS), default="team", key="conv_by")
    tr = report.trend_of(cells, by)
    if not tr.empty:
        fig = px.line(tr, x="month", y="negative_pct", color=by, markers=True,
                      labels={"negative_pct": "negative conversations (%)", "month": "month (UTC)"},
                      title=f"Share of negative conversations by {by}, per month")
        fig.update_layout(height=360)
        st.plotly_chart(fig)
    st.dataframe(report.by_group_of(cells, by), hide_index=True,
                 column_config={"negative_pct": st.column_config.NumberColumn("negative %", format="%.1f"),
                                "mean_customer_score": st.column_config.NumberColumn("mean customer score", format="%+.2f")})

elif view == "Lowest and transcripts":
    low = load(report.lowest, f, 25)
    st.subheader("Lowest-scoring conversations")
    st.dataframe(ui.masked(low), hide_index=True,
                 column_config={"customer_mean": st.column_config.NumberColumn(format="%+.2f"),
                                "customer_trajectory": st.column_config.NumberColumn(format="%+.2f"),
                                "agent_mean": st.column_config.NumberColumn(format="%+.2f")})
    options = low["conversation_id"].tolist()
    wanted = st.query_params.get("conversation")
    if wanted and wanted not in options:
        options = [wanted] + options
    chosen = st.selectbox("Open a transcript", options, index=options.index(wanted) if wanted in options else 0 if options else None,
                          key="conv_pick", placeholder="conversation id")
    if chosen:
        st.query_params["conversation"] = chosen
        t = load(report.transcript, chosen, ui.role())
        if t is None:
            st.warning(f"Conversation {ui.literal(chosen)} is not in this database: open one from the list above.")
        else:
            h = t["header"]
            st.markdown(f"**{ui.literal(h['conversation_id'])}** · {h['channel']} · {h['started_at']} · agent {h['agent_id'] or '–'} "
                        f"({h['agent_name'] or '–'}, team {h['team'] or '–'}) · account {h['account_id']}")
            m = st.columns(4)
            m[0].metric("Customer mean", fmt(h["customer_mean"], "{:+.2f}"))
            m[1].metric("Customer trajectory", fmt(h["customer_trajectory"], "{:+.2f}"), help="mean of the last third of the customer's turns minus the first third")
            m[2].metric("Agent mean", fmt(h["agent_mean"], "{:+.2f}"))
            m[3].metric("Label", h["label"] or "–")
            if not ui.can_see_pii():
                st.caption("Transcript text is withheld for your role; scores, QA results and cue types are shown.")
            st.caption("Highlights: green/red = words that carried the score (VADER), amber = QA phrase hit, blue = vulnerability cue. "
                       "Turn influence = how much the turn moved the customer's mean.")
            for row in t["turns"].itertuples():
                colour = LABEL_COLOURS.get(row.label, "#bbbbbb")
                influence = "" if row.influence is None or row.influence != row.influence else f" · influence {row.influence:+.2f}"
                tags = " ".join(f"<span class='tag'>{report.html.escape(s['label'])}</span>" for s in row.spans if s["kind"] != "word")
                st.markdown(
                    f"<div class='turn' data-turn='{int(row.turn)}' style='border-left:6px solid {colour};padding:4px 10px;margin:4px 0'>"
                    f"<small><b>{row.speaker}</b> · turn {int(row.turn)} · score {fmt(row.score, '{:+.2f}')}{influence} {tags}</small><br>"
                    f"{report.highlight_html(row.text, row.spans)}</div>",
                    unsafe_allow_html=True,
                )
            st.dataframe(t["qa"], hide_index=True)

elif view == "QA checks":
    qa = load(report.qa_rows, f)  # one query for both tables
    st.subheader("QA pass rates by rule")
    st.dataframe(report.qa_by_rule_of(qa), hide_index=True,
                 column_config={"pass_pct": st.column_config.NumberColumn("pass %", format="%.1f")})
    st.subheader("QA pass rates by agent")
    st.dataframe(report.qa_by_agent_of(qa), hide_index=True)

else:
    st.subheader("Accounts with vulnerability cues")
    st.caption("Cues in the customer's words, grouped by the FCA's four drivers (health, life events, resilience, capability). "
               "A cue is a prompt to review the account and treat the customer with extra care, not a finding.")
    st.dataframe(ui.masked(load(report.vulnerable_accounts, f)), hide_index=True)
