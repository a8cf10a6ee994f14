"""Compliance: presumed contact-rule breaches and their review, risk signals, and the policy what-if."""
from __future__ import annotations

from datetime import datetime, timezone

import plotly.express as px
import streamlit as st

from analysis.compliance import evidence, reviews, signals, whatif, workspace
from analysis.errors import UserError
from dashboard import audit, charts, ui
from dashboard.data import db_path, load, load_later

VIEWS = ["Overview", "Breaches", "Review log", "Risk signals", "Policy what-if"]
BY_LABELS = {"rule": "Rule", "team": "Team", "agent": "Agent", "strategy": "Strategy", "month": "Month"}
LIST_COLUMNS = list(workspace.LIST_COLUMNS)
MAX_PICK = ui.SHOWN_ROWS  # breaches offered in the picker: those in the table above

f = ui.filters()
rule_set = load(workspace.rule_set_label)
ui.header("Compliance", f"Rule set: {rule_set or 'unknown'} · presumed breaches for review, not legal findings")
if not load(workspace.ready):
    st.info("No audit has been stored in this database yet: run `python -m analysis refresh --db FILE`.")
    st.stop()

review_log = reviews.default_path(db_path())
view = st.segmented_control("View", VIEWS, default=VIEWS[0], key="cw_view", label_visibility="collapsed") or VIEWS[0]


def money(x: float) -> str:
    return f"{x:,.2f}"


def cap_text(v) -> str:
    return "–" if v is None or v != v else f"{int(v)}"  # v != v: NaN, a rule without a cap


if view == "Overview":
    totals = load(workspace.trend_totals, f)
    breaches_total = int(totals["breaches"].sum()) if len(totals) else 0
    calls_total = int(totals["placed_calls"].sum()) if len(totals) else 0
    by_rule = load(workspace.breaches_by, f, "rule")
    c1, c2, c3 = st.columns(3)
    c1.metric("Presumed breaches", f"{breaches_total:,}")
    c2.metric("Placed calls", f"{calls_total:,}")
    c3.metric("Breaches per 1,000 placed calls", f"{1000 * breaches_total / calls_total:,.1f}" if calls_total else "–")

    by = st.segmented_control("Breaches by", list(BY_LABELS), format_func=BY_LABELS.get, default="rule", key="cw_by") or "rule"
    counts = by_rule if by == "rule" else load(workspace.breaches_by, f, by)
    if counts.empty:
        st.info("No breaches for these filters.")
    else:
        st.plotly_chart(charts.figure(charts.breaches_by_bar, f, by, BY_LABELS[by]), width="stretch", key="cw_by_chart")

    st.subheader("Trend")
    trend = load(workspace.trend, f)
    if trend["rule_id"].notna().any():
        st.plotly_chart(charts.figure(charts.breach_trend_bar, f), width="stretch", key="cw_trend")
        st.plotly_chart(charts.figure(charts.breach_rate_line, f), width="stretch", key="cw_rate")

    st.subheader("Worst offenders")
    st.caption("Breaches (any channel) per 1,000 placed calls in the period; team = the account's team.")
    left, right = st.columns(2)
    fmt = {"breaches_per_1000_calls": st.column_config.NumberColumn("per 1,000 calls", format="%.1f"),
           "placed_calls": st.column_config.NumberColumn("placed calls"), "name": "name"}
    left.markdown("**Agents**")
    left.dataframe(load(workspace.worst_offenders, f, "agent"), hide_index=True, column_config=fmt)
    right.markdown("**Teams**")
    right.dataframe(load(workspace.worst_offenders, f, "team"), hide_index=True, column_config=fmt)

elif view == "Breaches":
    catalog = load(workspace.rule_catalog)
    c1, c2 = st.columns(2)
    rules_chosen = c1.multiselect("Rule", sorted(catalog), key="cw_rules", placeholder="All rules")
    statuses = c2.multiselect("Review status", list(workspace.REVIEW_STATUSES), key="cw_status", placeholder="Any status")
    # Counted in SQL and cut to the rows shown (workspace.breach_page): a large book's list is not read
    # into the page on every run; the download makes the whole list on click.
    rules, states, statuses = tuple(rules_chosen), workspace.review_states(reviews.current(review_log)), tuple(statuses)
    counts = load(workspace.breach_state_counts, f, rules, states)
    summary = {s: (n if not statuses or s in statuses else 0) for s, n in counts.items()}
    total = sum(summary.values())
    listed = load(workspace.breach_page, f, rules, states, statuses, ui.SHOWN_ROWS)
    st.caption(f"{total:,} breaches · " + " · ".join(f"{v:,} {k}" for k, v in summary.items())
               + ui.shown_rows_note(total))
    shown = ui.masked(listed[LIST_COLUMNS])
    table = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row", key="cw_table",
                         height=320, column_config={"review_state": "review", "local_time": "local time"})
    # Callables: the file is made when the button is clicked, not on every run.
    audit.download_button("Download the list (CSV)", ui.masked_csv(load_later(workspace.breach_page, f, rules, states, statuses)),
                          what="breach list", rows=total, file_name="breaches.csv", mime="text/csv", key="cw_list_csv")
    if listed.empty:
        st.info("No breaches for these filters.")
        st.stop()

    keys = (listed["contact_id"] + "|" + listed["rule_id"]).tolist()
    rows = table.selection.rows if table and table.selection else []
    picked = keys[rows[0]] if rows else None
    if picked and picked != st.session_state.get("cw_table_last"):  # a click in the table opens that breach
        st.session_state["cw_table_last"] = picked
        st.session_state["cw_pick"] = picked

    def listed_key(key) -> bool:  # a breach of the whole list (not only the rows shown), by its key
        return key in keys or (isinstance(key, str) and "|" in key
                               and load(workspace.breach_listed, f, rules, states, statuses, key))

    if not listed_key(st.session_state.get("cw_pick")):
        url_pick = st.query_params.get("breach")
        st.session_state["cw_pick"] = url_pick if listed_key(url_pick) else keys[0]
    options = keys[:MAX_PICK]
    if st.session_state["cw_pick"] not in options:
        options = [st.session_state["cw_pick"], *options]
    head = listed.head(MAX_PICK)
    labels = dict(zip(keys, (head["contact_id"] + " · " + head["rule_id"] + " · " + head["local_time"]
                             + " (" + head["review_state"] + ")").tolist()))
    pick = st.selectbox("Open a breach (or select a row above)", options, key="cw_pick",
                        format_func=lambda k: labels.get(k, k.replace("|", " · ")))
    st.query_params["breach"] = pick
    contact_id, rule_id = pick.split("|", 1)
    detail = load(workspace.breach_detail, contact_id, rule_id)
    b, rule = detail["breach"], detail["rule"]

    st.subheader(f"{rule_id} · contact {contact_id}")
    st.caption(f"Account {ui.mask_value(b['account_id'], 'account_id')} · {b['direction']} {b['channel']} "
               f"({b['outcome']}) at {b['local_time']} {b['timezone']} · agent {b['agent_id'] or '–'}")
    st.markdown(f"**Why:** {b['explanation']}")
    st.plotly_chart(charts.figure(charts.breach_timeline, contact_id, rule_id), width="stretch", key="cw_timeline")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Rule: {rule['title']}**  \n*{rule['citation']}*")
        st.write(rule["text"])
        st.caption(f"Rule set: {detail['rule_set'] or 'unknown'}")
    with right:
        st.markdown("**Evidence**")
        st.dataframe(ui.masked(detail["evidence_contacts"][["contact_id", "local_ts", "channel", "direction", "outcome",
                                                            "agent_id", "rules_breached"]]),
                     hide_index=True, column_config={"local_ts": st.column_config.DatetimeColumn("local time")})
        with st.expander("Evidence as stored (JSON)"):
            st.json(detail["evidence"])

    st.markdown("**Review**")
    history = reviews.history(review_log, contact_id, rule_id)
    if "cw_reviewed" in st.session_state:
        st.success(st.session_state.pop("cw_reviewed"))
    current_state = history["state"].iloc[-1] if len(history) else reviews.UNREVIEWED
    with st.form("cw_review", clear_on_submit=True):
        st.caption(f"Current state: **{current_state}**")
        state = st.radio("Decision", reviews.STATES, horizontal=True, key="cw_decision")
        reason = st.selectbox("Reason (needed to dismiss)", ["", *reviews.REASONS], key="cw_reason",
                              format_func=lambda r: r or "–")
        note = st.text_area("Note", key="cw_note", height=80)
        submitted = st.form_submit_button("Record review")
    if submitted:
        user = st.session_state["user"]
        try:
            # The page reads the clock; analysis/ takes the time as an argument.
            done = reviews.record(review_log, contact_id, rule_id, state, user["username"],
                                  datetime.now(timezone.utc), reason=reason or None, note=note)
        except UserError as exc:
            st.error(str(exc))
        else:
            st.session_state["cw_reviewed"] = (f"Recorded: {done['state']} by {done['reviewer']} "
                                               f"(was {done['previous_state']}).")
            st.rerun()
    if len(history):
        st.dataframe(history.iloc[::-1][["reviewed_at", "reviewer", "state", "reason", "note", "previous_state"]],
                     hide_index=True, key="cw_history")

    st.markdown("**Evidence pack**")
    p1, p2 = st.columns(2)
    audit.download_button("Evidence pack (CSV)", evidence.evidence_csv(detail, history), container=p1,
                          what=f"evidence pack {contact_id} {rule_id}", rows=1,
                          file_name=f"evidence_{rule_id}_{contact_id}.csv", mime="text/csv", key="cw_pack_csv")
    reviewer = st.session_state["user"]["username"]
    # Made on click (kaleido renders the timeline in a few seconds), stamped with the click's time.
    audit.download_button("Evidence pack (PDF)", lambda: evidence.evidence_pdf(detail, history, datetime.now(timezone.utc), reviewer),
                          container=p2, what=f"evidence pack {contact_id} {rule_id}", rows=1,
                          mime="application/pdf", file_name=f"evidence_{rule_id}_{contact_id}.pdf", key="cw_pack_pdf")

elif view == "Review log":
    st.caption(f"Append-only log of every review, newest first (stored in `{review_log.name}`, outside the analytics database).")
    log = reviews.history(review_log)
    if log.empty:
        st.info("No reviews yet.")
    else:
        log = log.iloc[::-1]
        st.markdown("**Latest reviews**  \n" + "  \n".join(
            f"{r.reviewed_at} · **{r.reviewer}** marked `{r.contact_id}` / `{r.rule_id}` **{r.state}**"
            f" (was {r.previous_state})" + (f" · {r.reason}" if isinstance(r.reason, str) else "")
            for r in log.head(5).itertuples()))
        st.dataframe(log, hide_index=True, key="cw_log")
        audit.download_button("Download the review log (CSV)", log.to_csv(index=False).encode("utf-8"), what="review log",
                              rows=len(log), file_name="review_log.csv", mime="text/csv", key="cw_log_csv")

elif view == "Risk signals":
    st.caption("Patterns regulators look at. These are **not** rule breaches and are not counted as such.")
    if not load(workspace.signals_ready):
        st.info("Risk signals have not been computed, or an older version stored them: run `python -m analysis refresh --db FILE`.")
        st.stop()
    counts = load(workspace.signal_counts, f)
    if not counts.empty:
        fig = px.bar(counts, x="month", y="signals", color="signal", labels={"month": "month (UTC)"})
        fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": -0.2})
        st.plotly_chart(fig, width="stretch", key="cw_signals_chart")
    chosen = st.multiselect("Signal", list(signals.SIGNALS), format_func=signals.SIGNALS.get, key="cw_signals",
                            placeholder="All signals")
    listed = load(workspace.signal_list, f, tuple(chosen), ui.SHOWN_ROWS)
    total = workspace.signal_total(counts, tuple(chosen))
    st.caption(f"{total:,} signals" + ui.shown_rows_note(total))
    st.dataframe(ui.masked(listed), hide_index=True, key="cw_signal_table")
    audit.download_button("Download the signals (CSV)", ui.masked_csv(load_later(workspace.signal_list, f, tuple(chosen))),
                          what="risk signals", rows=total, file_name="risk_signals.csv", mime="text/csv", key="cw_signals_csv")

else:  # Policy what-if
    st.caption("Change one rule's cap or window and compare what it would flag, and what the accounts involved "
               f"paid within {whatif.COLLECTION_DAYS} days after those contacts (whole database, shared filters not applied). "
               "Payments after a call are not necessarily caused by it.")
    rules_df = whatif.changeable_rules()
    rule_id = st.selectbox("Rule", list(rules_df["rule_id"]), key="cw_wi_rule",
                           format_func=lambda r: f"{r} – {rules_df.set_index('rule_id').loc[r, 'title']}")
    row = rules_df.set_index("rule_id").loc[rule_id]
    with st.form("cw_whatif"):
        c1, c2 = st.columns(2)
        has_cap = row["kind"] == "windowed_cap"
        cap = c1.number_input("Cap (contacts per window)", min_value=0, max_value=100, step=1,
                              value=int(row["cap"]) if has_cap else 0, disabled=not has_cap, key=f"cw_wi_cap_{rule_id}")
        window = c2.number_input("Window (local days)", min_value=1, max_value=366, step=1, value=int(row["window_days"]),
                                 key=f"cw_wi_window_{rule_id}")
        run = st.form_submit_button("Compare")
    if run or "cw_wi_result" in st.session_state:
        if run:
            st.session_state["cw_wi_result"] = (rule_id, int(cap) if has_cap else None, int(window))
        rid, wcap, wwin = st.session_state["cw_wi_result"]
        try:
            with st.spinner("Applying both versions of the rule to every contact..."):
                res = load(whatif.simulate, rid, wcap, wwin).set_index("scenario")
        except UserError as exc:
            st.error(str(exc))
            st.stop()
        now, then = res.loc["current"], res.loc["what_if"]
        st.markdown(f"**{rid}**: cap {cap_text(now['cap'])} → {cap_text(then['cap'])}, "
                    f"window {int(now['window_days'])} → {int(then['window_days'])} days")
        m1, m2, m3 = st.columns(3)
        m1.metric("Contacts that would breach", f"{int(then['breaches']):,}",
                  delta=f"{int(then['breaches'] - now['breaches']):+,} vs now {int(now['breaches']):,}", delta_color="off")
        m2.metric("Accounts involved", f"{int(then['accounts']):,}",
                  delta=f"{int(then['accounts'] - now['accounts']):+,}", delta_color="off")
        m3.metric(f"Collected within {whatif.COLLECTION_DAYS} days after", money(then["collected_amount"]),
                  delta=f"{then['collected_amount'] - now['collected_amount']:+,.2f}", delta_color="off")
        only = res.loc["only_what_if"]
        st.write(f"Flagged only with the change: **{int(only['breaches']):,}** contacts on {int(only['accounts']):,} "
                 f"accounts, whose accounts then paid **{money(only['collected_amount'])}** within "
                 f"{whatif.COLLECTION_DAYS} days; no longer flagged: {int(res.loc['only_current', 'breaches']):,}.")
        st.dataframe(res.reset_index(), hide_index=True, key="cw_wi_table",
                     column_config={"collected_amount": st.column_config.NumberColumn("collected", format="%.2f")})
