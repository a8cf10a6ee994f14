"""Conversations: how customers feel and why, QA phrase checks and vulnerability cues, and people's
sentiment labels of turns (compliance and admin label them in the transcript viewer)."""
from __future__ import annotations

import html
from datetime import datetime, timezone

import streamlit as st

from analysis.errors import UserError
from analysis.sentiment import labels, report
from dashboard import audit, charts, ui
from dashboard.data import db_path, load, load_later

ui.header("Conversations", "customer sentiment per conversation, QA phrase checks, vulnerability cues")
f = ui.filters()

if not load(report.ready):
    st.info("Conversation scores are not in this database yet. Run `python -m analysis refresh --db FILE` to compute them.")
    st.stop()

VIEWS = ["Sentiment", "Lowest and transcripts", "QA checks", "Vulnerability"]
# A link to one conversation (?conversation=ID) opens on the transcript viewer.
start_view = VIEWS[1] if st.query_params.get("conversation") else VIEWS[0]
view = st.segmented_control("View", VIEWS, default=start_view, key="conv_view") or start_view
LABEL_COLOURS = charts.LABEL_COLOURS


def fmt(value, pattern="{:.1f}"):
    return "–" if value is None or value != value else pattern.format(value)


label_log = labels.default_path(db_path())


def label_key(turn: int) -> str:
    return f"conv_label_{turn}"


def ask_to_label(conversation_id: str, turn: int, text: str, model_label: str | None, model_id: str | None) -> None:
    """A label control changed: note what was asked. The page's run records it, after app.py has checked
    the user and role again (a callback runs before that check)."""
    value = st.session_state.get(label_key(turn))
    if value is not None:  # a click on the chosen label only clears the control: a label is replaced, never withdrawn
        st.session_state["conv_label_asked"] = (conversation_id, turn, text, value, model_label, model_id)


def record_asked_label() -> None:
    asked = st.session_state.pop("conv_label_asked", None)
    if not asked:
        return
    conversation_id, turn, text, value, model_label, model_id = asked
    user = st.session_state["user"]
    try:
        # The page reads the clock; analysis/ takes the time as an argument.
        labels.record(label_log, conversation_id, turn, value, user["username"], datetime.now(timezone.utc),
                      role=ui.role(), text=text, model_label=model_label, model_id=model_id)
    except UserError as exc:
        st.error(str(exc))
    else:
        st.toast(f"Turn {turn} labelled {value}" + (" (the model's label confirmed)" if value == model_label else ""))


if view == "Sentiment":
    # One query (cached) gives the headline, the histogram, the trend and the breakdown; the breakdown's
    # grouping is read before its control is drawn, so changing it asks for one new query, not four.
    by = st.session_state.get("conv_by") or "team"
    cells = load(report.sentiment_cells, f, by)
    o = report.overview_of(cells, load(report.vulnerable_view, f, ui.SHOWN_ROWS)["total"])
    c = st.columns(4)
    c[0].metric("Conversations", f"{o['conversations']:,}")
    c[1].metric("Negative (customer)", fmt(o["negative_pct"], "{:.1f}%"), help="Share of conversations where the customer spoke whose customer mean score is <= -0.05")
    c[2].metric("Mean customer score", fmt(o["mean_customer_score"], "{:+.2f}"), help="-1 (negative) .. +1 (positive)")
    c[3].metric("Accounts with vulnerability cues", f"{o['flagged_accounts']:,}")
    # The label log's newest id is part of the cache key: a new label is counted at the next run.
    ag = load(labels.agreement, str(label_log), labels.latest_id(label_log))
    st.caption(f"Scores by model {ui.literal(ag['model_id'] or 'unknown')} · people's labels of turns, given in the "
               "transcript viewer by compliance and admin users (all labels, whatever the filters):")
    c = st.columns(4)
    c[0].metric("Sentiment labels", f"{ag['labels']:,}", help=f"by {ag['labellers']:,} labellers, in {label_log.name}")
    c[1].metric("Labelled turns", f"{ag['labelled_turns']:,}",
                help=f"a turn labelled twice counts by its latest label; {ag['confirmed']:,} confirm the model's label")
    c[2].metric("Model agrees with labels", fmt(None if ag["agreement"] is None else 100 * ag["agreement"], "{:.1f}%"),
                help="share of labelled turns whose stored model label equals the person's label")
    c[3].metric("Turns compared", f"{ag['agree']:,} of {ag['compared']:,}",
                help="labelled turns the current model scored; of them, those it labels as the person did"
                     + (f"; {ag['changed']:,} labelled turns whose text has changed since are left out" if ag["changed"] else ""))
    hist = report.histogram_of(cells)
    if hist.empty:
        st.info("No scored conversations in the filters.")
    else:
        st.plotly_chart(charts.figure(charts.sentiment_histogram, f, by))  # made once per data version and filters
    st.segmented_control("Break down by", list(report.GROUPS), default="team", key="conv_by")
    tr = report.trend_of(cells, by)
    if not tr.empty:
        st.plotly_chart(charts.figure(charts.sentiment_trend, f, by))
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
            explained = ui.can_see_pii() and report.explainer_for(str(h["model_id"] or "")) is not None
            words = "green/red = words (or a long turn's sentences) that carried the score, " if explained else ""
            st.caption(f"Scores by model {ui.literal(h['model_id'] or 'unknown')}. Highlights: {words}amber = QA phrase hit, "
                       "blue = vulnerability cue. Turn influence = how much the turn moved the customer's mean.")
            can_label = labels.can_label(ui.role())
            if can_label:
                record_asked_label()
                st.caption("Label a turn's sentiment with the buttons beside it; the model's own label is marked "
                           "(model): choosing it confirms the model. Labels train the model (`sentiment-train --db`).")
            # Read on every run (a few rows, indexed): a label just given shows at once.
            human = {int(r.turn): r for r in labels.current(label_log, chosen).itertuples()}
            for row in t["turns"].itertuples():
                turn = int(row.turn)
                colour = LABEL_COLOURS.get(row.label, "#bbbbbb")
                influence = "" if row.influence is None or row.influence != row.influence else f" · influence {row.influence:+.2f}"
                tags = " ".join(f"<span class='tag'>{report.html.escape(s['label'])}</span>" for s in row.spans if s["kind"] != "word")
                person = human.get(turn)
                mark = "" if person is None else (
                    f" · <span class='human-label'>human: <b>{person.label}</b>"
                    + (f" ({html.escape(person.labeller)})" if ui.can_see_pii() else "") + "</span>")
                turn_html = (
                    f"<div class='turn' data-turn='{turn}' style='border-left:6px solid {colour};padding:4px 10px;margin:4px 0'>"
                    f"<small><b>{row.speaker}</b> · turn {turn} · score {fmt(row.score, '{:+.2f}')}{influence}{mark} {tags}</small><br>"
                    f"{report.highlight_html(row.text, row.spans)}</div>")
                if not can_label:
                    st.markdown(turn_html, unsafe_allow_html=True)
                    continue
                model_label = row.label if isinstance(row.label, str) else None
                left, right = st.columns([3, 2], vertical_alignment="center")
                left.markdown(turn_html, unsafe_allow_html=True)
                st.session_state[label_key(turn)] = None if person is None else person.label
                right.segmented_control(
                    f"Sentiment of turn {turn}", labels.LABELS, key=label_key(turn), label_visibility="collapsed",
                    format_func=lambda lab, m=model_label: f"{lab} (model)" if lab == m else lab,
                    on_change=ask_to_label, args=(chosen, turn, row.text, model_label, h["model_id"]))
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
    flagged = load(report.vulnerable_view, f, ui.SHOWN_ROWS)
    st.dataframe(ui.masked(flagged["shown"]), hide_index=True)
    st.caption(f"{flagged['total']:,} accounts, the latest flagged first" + ui.shown_rows_note(flagged["total"], "latest flagged"))
    audit.download_button("Download the accounts (CSV)", ui.masked_csv(load_later(report.vulnerable_accounts, f)),
                          what="accounts with vulnerability cues", rows=flagged["total"], file_name="vulnerability_cues.csv",
                          mime="text/csv", key="conv_vulnerable_csv")
