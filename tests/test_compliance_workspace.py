"""The Compliance page's data functions on tiny tables with golden rows (analysis/compliance/workspace.py).

The breaches are written by hand in the shape the audit stores (contact_id, account_id, rule_id, ts,
local_ts, evidence, explanation), so these tests pin the workspace's own logic, not the engine's.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from analysis.compliance import reviews, signals, workspace
from analysis.filters import Filters

UTC = timezone.utc
ALL = Filters()


@pytest.fixture
def db(fresh_db):
    con = fresh_db
    con.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, state, portfolio, team, strategy)
        values ('A1', 'P1', '2025-12-01', 500, 'America/Chicago', 'MA', 'Retail', 'North', 'champion'),
               ('A2', 'P2', '2025-12-01', 900, 'America/New_York', 'TX', 'Telco', 'South', 'challenger')""")
    con.execute("insert into agents (agent_id, team) values ('G1', 'North'), ('G2', 'South')")
    con.execute("""insert into contacts (contact_id, account_id, ts, channel, direction, outcome, agent_id) values
        ('k1', 'A1', '2026-01-05T15:00:00Z', 'call', 'outbound', 'no_answer', 'G1'),
        ('k2', 'A1', '2026-01-06T15:00:00Z', 'call', 'outbound', 'conversation', 'G1'),
        ('k3', 'A1', '2026-01-07T15:00:00Z', 'call', 'outbound', 'voicemail', 'G1'),
        ('k7', 'A1', '2026-01-11T18:00:00Z', 'call', 'outbound', 'no_answer', 'G1'),
        ('k4', 'A2', '2026-02-10T03:00:00Z', 'sms', 'outbound', 'sent', 'G2'),
        ('k5', 'A2', '2026-02-11T15:00:00Z', 'call', 'outbound', 'no_answer', 'G2'),
        ('k6', 'A2', '2026-02-12T15:00:00Z', 'call', 'inbound', 'conversation', null)""")
    con.execute("""insert into breaches values
        ('k3', 'A1', 'regf_post_conversation', '2026-01-07T15:00:00Z', '2026-01-07 09:00:00', ?, 'Counted call on local day 2 after the telephone conversation k2.'),
        ('k3', 'A1', 'state_ma_2in7', '2026-01-07T15:00:00Z', '2026-01-07 09:00:00', ?, 'Counted call number 3 in the 7 local days.'),
        ('k4', 'A2', 'inconvenient_time', '2026-02-10T03:00:00Z', '2026-02-09 22:00:00', ?, 'Outbound sms at 22:00:00.')""",
               [json.dumps({"event": "k2"}), json.dumps({"contacts": ["k1", "k2", "k3"]}), json.dumps({"zones": {"timezone": "22:00:00"}})])
    con.execute("insert into meta values ('rule_set', 'Regulation F and firm policy 2026.1 (abc123def456)')")
    return con


def counts(df):
    return {r.value: (r.breaches, r.contacts, r.accounts) for r in df.itertuples()}


def test_breaches_are_counted_by_rule_team_agent_strategy_and_month(db):
    assert counts(workspace.breaches_by(db, ALL, "rule")) == {
        "regf_post_conversation": (1, 1, 1), "state_ma_2in7": (1, 1, 1), "inconvenient_time": (1, 1, 1)}
    assert counts(workspace.breaches_by(db, ALL, "team")) == {"North": (2, 1, 1), "South": (1, 1, 1)}
    assert counts(workspace.breaches_by(db, ALL, "agent")) == {"G1": (2, 1, 1), "G2": (1, 1, 1)}
    assert counts(workspace.breaches_by(db, ALL, "strategy")) == {"champion": (2, 1, 1), "challenger": (1, 1, 1)}
    months = workspace.breaches_by(db, ALL, "month")
    assert list(months["value"]) == ["2026-01", "2026-02"]  # time order, not count order
    assert counts(months) == {"2026-01": (2, 1, 1), "2026-02": (1, 1, 1)}


def test_the_grain_of_breach_counts_is_one_row_per_dimension_and_value(db):
    df = workspace.breach_counts(db, ALL)
    assert not df.duplicated(["dimension", "value"]).any()
    assert set(df["dimension"]) == set(workspace.DIMENSIONS)
    # Every dimension partitions the same breaches.
    assert df.groupby("dimension")["breaches"].sum().eq(3).all()


@pytest.mark.parametrize("filters, expected", [
    (Filters(teams=("South",)), {"inconvenient_time": (1, 1, 1)}),
    (Filters(channels=("call",)), {"regf_post_conversation": (1, 1, 1), "state_ma_2in7": (1, 1, 1)}),
    (Filters(start=date(2026, 2, 1)), {"inconvenient_time": (1, 1, 1)}),
    (Filters(end=date(2026, 1, 31), strategies=("challenger",)), {}),
    (Filters(portfolios=("Retail",)), {"regf_post_conversation": (1, 1, 1), "state_ma_2in7": (1, 1, 1)}),
])
def test_the_shared_filters_narrow_the_breach_counts(db, filters, expected):
    assert counts(workspace.breaches_by(db, filters, "rule")) == expected


def test_the_date_filter_uses_the_utc_date_of_the_breach(db):
    # k4 is 22:00 on 9 February in New York but 03:00 on 10 February in UTC.
    assert counts(workspace.breaches_by(db, Filters(start=date(2026, 2, 10), end=date(2026, 2, 10)), "rule")) == {
        "inconvenient_time": (1, 1, 1)}
    assert counts(workspace.breaches_by(db, Filters(start=date(2026, 2, 9), end=date(2026, 2, 9)), "rule")) == {}


def test_the_trend_gives_breaches_per_month_and_rule_with_the_months_placed_calls(db):
    df = workspace.trend(db, ALL)
    got = [(str(r.month)[:10], r.rule_id, r.breaches, r.placed_calls) for r in df.itertuples()]
    assert got == [
        ("2026-01-01", "regf_post_conversation", 1, 4),
        ("2026-01-01", "state_ma_2in7", 1, 4),
        ("2026-02-01", "inconvenient_time", 1, 1),  # the inbound call is not a placed call
    ]
    totals = workspace.trend_totals(db, ALL)
    assert [(str(r.month)[:10], r.breaches, r.placed_calls) for r in totals.itertuples()] == [
        ("2026-01-01", 2, 4), ("2026-02-01", 1, 1)]
    assert list(totals["breaches_per_1000_calls"]) == [500.0, 1000.0]


def test_a_month_without_placed_calls_has_an_empty_rate_not_zero(db):
    db.execute("delete from contacts where contact_id = 'k5'")
    totals = workspace.trend_totals(db, ALL)
    feb = totals[totals["month"].astype(str).str[:10] == "2026-02-01"].iloc[0]
    assert feb["breaches"] == 1 and feb["placed_calls"] == 0
    assert feb["breaches_per_1000_calls"] is None or math.isnan(feb["breaches_per_1000_calls"])


def test_worst_offenders_rank_agents_and_teams_by_breaches_per_1000_calls(db):
    agents = workspace.worst_offenders(db, ALL, "agent")
    assert [(r.name, r.breaches, r.placed_calls) for r in agents.itertuples()] == [
        ("G2", 1, 1), ("G1", 2, 4), ("(none)", 0, 0)]
    assert agents["breaches_per_1000_calls"].iloc[0] == 1000.0
    assert agents["breaches_per_1000_calls"].iloc[1] == 500.0
    assert pd.isna(agents["breaches_per_1000_calls"].iloc[2])  # no placed call: no rate
    teams = workspace.worst_offenders(db, ALL, "team")
    assert [(r.name, r.breaches, r.placed_calls, r.breaches_per_1000_calls) for r in teams.itertuples()] == [
        ("South", 1, 1, 1000.0), ("North", 2, 4, 500.0)]


def test_the_breach_list_carries_contact_and_account_attributes_newest_first(db):
    df = workspace.breach_list(db, ALL)
    assert list(zip(df["contact_id"], df["rule_id"])) == [
        ("k4", "inconvenient_time"), ("k3", "regf_post_conversation"), ("k3", "state_ma_2in7")]
    first = df.iloc[0]
    assert (first["account_id"], first["consumer_id"], first["channel"], first["agent_id"], first["team"]) == (
        "A2", "P2", "sms", "G2", "South")
    assert first["local_time"] == "2026-02-09 22:00:00"  # New York wall time, EST
    assert list(workspace.breach_list(db, ALL, rules=("state_ma_2in7",))["contact_id"]) == ["k3"]


def test_review_states_join_the_list_by_contact_and_rule_and_filter_it(db, tmp_path):
    log = tmp_path / "r.sqlite"
    reviews.record(log, "k3", "state_ma_2in7", "confirmed", "officer", datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    listed = workspace.with_reviews(workspace.breach_list(db, ALL), reviews.current(log))
    states = dict(zip(zip(listed["contact_id"], listed["rule_id"]), listed["review_state"]))
    assert states == {("k4", "inconvenient_time"): "unreviewed", ("k3", "regf_post_conversation"): "unreviewed",
                      ("k3", "state_ma_2in7"): "confirmed"}
    unreviewed = workspace.with_reviews(workspace.breach_list(db, ALL), reviews.current(log), ("unreviewed",))
    assert len(unreviewed) == 2
    assert workspace.review_summary(listed) == {"unreviewed": 2, "confirmed": 1, "dismissed": 0}


def test_a_breach_opens_with_its_evidence_contacts_window_timeline_and_rule_text(db):
    d = workspace.breach_detail(db, "k3", "state_ma_2in7")
    assert list(d["evidence_contacts"]["contact_id"]) == ["k1", "k2", "k3"]
    assert d["evidence"] == {"contacts": ["k1", "k2", "k3"]}
    assert d["rule"]["kind"] == "windowed_cap" and "Massachusetts" in d["rule"]["citation"]
    assert d["rule_set"] == "Regulation F and firm policy 2026.1 (abc123def456)"
    # The 7 local days ending on the breach's local date (7 January, Chicago).
    assert d["window"] == (pd.Timestamp("2026-01-01 00:00:00"), pd.Timestamp("2026-01-08 00:00:00"))
    timeline = d["timeline"]
    assert list(timeline["contact_id"]) == ["k1", "k2", "k3", "k7"]
    assert str(timeline["local_ts"].iloc[2]) == "2026-01-07 09:00:00"
    assert timeline["rules_breached"].tolist() == ["", "", "regf_post_conversation, state_ma_2in7", ""]
    spans = d["spans"]
    assert [(r.kind, str(r.start_local), str(r.end_local)) for r in spans.itertuples()] == [
        ("cooldown", "2026-01-06 09:00:00", "2026-01-13 00:00:00")]  # conversation k2 is day 1 of 7


def test_a_cooldown_breach_has_no_counting_window_and_an_unknown_breach_is_none(db):
    d = workspace.breach_detail(db, "k3", "regf_post_conversation")
    assert d["window"] is None and d["rule"]["kind"] == "cooldown_after_event"
    assert list(d["evidence_contacts"]["contact_id"]) == ["k2", "k3"]
    assert workspace.breach_detail(db, "k1", "state_ma_2in7") is None


def test_consent_windows_and_opt_outs_are_drawn_in_local_time(db):
    db.execute("insert into consents values ('A2', '2026-02-01T14:30:00Z')")
    db.execute("insert into preferences values ('A2', 'sms', '2026-02-05T12:00:00Z'), ('A2', 'all', '2026-02-20T12:00:00Z')")
    spans = workspace.account_spans(db, "A2")
    got = [(r.kind, str(r.start_local), None if pd.isna(r.end_local) else str(r.end_local), r.label) for r in spans.itertuples()]
    assert got == [
        ("consent_window", "2026-02-01 09:30:00", "2026-02-08 00:00:00", "consent given 2026-02-01 09:30"),
        ("opt_out", "2026-02-05 07:00:00", None, "opted out of sms"),
        ("cooldown", "2026-02-12 10:00:00", "2026-02-19 00:00:00", "inbound conversation k6"),
        ("cease", "2026-02-20 07:00:00", None, "cease communication"),
    ]


def test_the_rule_text_comes_from_the_rules_stored_with_the_breaches(db):
    db.execute("""insert into breach_rules values ('state_ma_2in7', 'windowed_cap', 'Firm MA cap', 'Firm manual 4.2',
        'At most 2 calls in 5 days.', '{"window_days": 5, "cap": 2}')""")
    d = workspace.breach_detail(db, "k3", "state_ma_2in7")
    assert (d["rule"]["title"], d["rule"]["text"]) == ("Firm MA cap", "At most 2 calls in 5 days.")
    assert d["window"] == (pd.Timestamp("2026-01-03 00:00:00"), pd.Timestamp("2026-01-08 00:00:00"))


def test_risk_signals_are_listed_and_counted_apart_from_breaches(db):
    signals.refresh(db)
    listed = workspace.signal_list(db, ALL)
    assert list(zip(listed["signal"], listed["contact_id"])) == [("sunday_call", "k7")]
    assert listed["local_time"].iloc[0] == "2026-01-11 12:00:00"
    c = workspace.signal_counts(db, ALL)
    assert [(r.signal, str(r.month)[:10], r.signals) for r in c.itertuples()] == [("sunday_call", "2026-01-01", 1)]
    assert workspace.signal_list(db, Filters(teams=("South",))).empty


# --- the page, through AppTest on the demo database ------------------------------------------------

PAGE_VIEWS = ["Overview", "Breaches", "Review log", "Risk signals", "Policy what-if"]


@pytest.fixture
def review_log(tmp_path, monkeypatch):
    """A private review log: the demo database is shared by the whole session, its log must not be."""
    path = tmp_path / "reviews.sqlite"
    monkeypatch.setenv("DASHBOARD_REVIEWS", str(path))
    return path


def demo_count(demo_db, sql, params=None):
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()[0][0] if params else con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


@pytest.mark.parametrize("view", PAGE_VIEWS)
def test_every_view_of_the_compliance_page_runs_cleanly_for_a_compliance_officer(app_test, review_log, view):
    at = app_test("compliance", "compliance")
    assert not at.exception
    at.segmented_control(key="cw_view").set_value(view).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Compliance"


@pytest.mark.parametrize("view, table, key, noun, order", [
    ("Breaches", "breaches", "cw_table", "breaches", "ts desc, contact_id, rule_id"),
    ("Risk signals", "risk_signals", None, "signals", "ts desc, signal, contact_id")])  # (AppTest keys only selectable tables)
def test_a_long_list_sends_the_newest_rows_to_the_browser_and_says_so(app_test, review_log, demo_db, view, table, key,
                                                                      noun, order, monkeypatch):
    from dashboard import ui

    SHOWN_ROWS = 100  # the test book is small: a smaller cap (AppTest runs the page in this process)
    monkeypatch.setattr(ui, "SHOWN_ROWS", SHOWN_ROWS)
    total = demo_count(demo_db, f"select count(*) from {table}")
    assert total > SHOWN_ROWS
    newest = demo_count(demo_db, f"select contact_id from {table} order by {order} limit 1")
    at = app_test("compliance", "compliance")
    at.segmented_control(key="cw_view").set_value(view).run()
    assert not at.exception, at.exception
    shown = (at.dataframe(key=key) if key else at.dataframe[-1]).value
    assert len(shown) == SHOWN_ROWS
    assert any(c.value.startswith(f"{total:,} {noun}") and f"the newest {SHOWN_ROWS:,} are listed here" in c.value
               for c in at.caption)
    assert shown["contact_id"].iloc[0] == newest


def test_the_page_says_which_rule_set_produced_the_numbers(app_test, review_log, demo_db):
    at = app_test("admin", "compliance")
    label = demo_count(demo_db, "select value from meta where key = 'rule_set'")
    assert label and any(label in c.value for c in at.caption)


def test_the_breach_total_follows_the_team_filter(app_test, review_log, demo_db):
    team = demo_count(demo_db, "select min(team) from accounts")
    expected = demo_count(demo_db, "select count(*) from breaches b join accounts a using (account_id) where a.team = ?", [team])
    assert expected > 0
    at = app_test("compliance", "compliance", query_params={"team": team})
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Presumed breaches"] == f"{expected:,}"
    everyone = demo_count(demo_db, "select count(*) from breaches")
    assert expected < everyone


def test_a_reviewer_confirms_a_breach_from_the_page_and_it_is_logged_with_its_previous_state(app_test, review_log):
    at = app_test("compliance", "compliance")
    at.segmented_control(key="cw_view").set_value("Breaches").run()
    contact_id, rule_id = at.selectbox(key="cw_pick").value.split("|")
    at.radio(key="cw_decision").set_value("dismissed")
    at.selectbox(key="cw_reason").set_value("wrong time zone data")
    at.text_area(key="cw_note").set_value("address is in Arizona")
    at.button(key="FormSubmitter:cw_review-Record review").click().run()
    assert not at.exception, at.exception
    logged = reviews.history(review_log)
    assert list(zip(logged["contact_id"], logged["rule_id"], logged["state"], logged["reason"], logged["reviewer"],
                    logged["previous_state"])) == [
        (contact_id, rule_id, "dismissed", "wrong time zone data", "compliance", "unreviewed")]
    assert any("dismissed by compliance" in s.value for s in at.success)
    at.multiselect(key="cw_status").set_value(["dismissed"]).run()
    assert at.selectbox(key="cw_pick").value == f"{contact_id}|{rule_id}"
    assert any(c.value.startswith("1 breaches") for c in at.caption)


def test_dismissing_without_a_reason_shows_the_reason_and_logs_nothing(app_test, review_log):
    at = app_test("compliance", "compliance")
    at.segmented_control(key="cw_view").set_value("Breaches").run()
    at.radio(key="cw_decision").set_value("dismissed")
    at.button(key="FormSubmitter:cw_review-Record review").click().run()
    assert not at.exception
    assert any("needs a reason" in e.value for e in at.error)
    assert reviews.history(review_log).empty


def test_a_stricter_cap_in_the_what_if_flags_at_least_as_many_contacts(app_test, review_log):
    at = app_test("compliance", "compliance")
    at.segmented_control(key="cw_view").set_value("Policy what-if").run()
    at.selectbox(key="cw_wi_rule").set_value("regf_7in7").run()
    at.number_input(key="cw_wi_cap_regf_7in7").set_value(3)
    at.button(key="FormSubmitter:cw_whatif-Compare").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value.set_index("scenario")  # the comparison table is the last frame on the view
    assert table.loc["what_if", "cap"] == 3 and table.loc["current", "cap"] == 7
    assert table.loc["what_if", "breaches"] >= table.loc["current", "breaches"]
    assert table.loc["what_if", "breaches"] > 0


def test_an_executive_or_a_manager_cannot_open_the_compliance_page(app_test, review_log):
    for role in ("executive", "manager"):
        with pytest.raises(ValueError):
            app_test(role, "compliance")


# --- the evidence pack ------------------------------------------------------------------------------

def test_the_evidence_pack_csv_holds_the_breach_rule_evidence_contacts_and_reviews(db, tmp_path):
    import csv
    import io

    from analysis.compliance import evidence

    log = tmp_path / "r.sqlite"
    reviews.record(log, "k3", "state_ma_2in7", "dismissed", "alice", datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
                   reason="consent on file", note="form on file")
    d = workspace.breach_detail(db, "k3", "state_ma_2in7")
    rows = list(csv.DictReader(io.StringIO(evidence.evidence_csv(d, reviews.history(log, "k3", "state_ma_2in7")).decode())))
    assert [r["record"] for r in rows] == ["breach", "rule", "evidence", "evidence", "evidence", "review"]
    assert (rows[0]["contact_id"], rows[0]["ts_utc"], rows[0]["local_time"], rows[0]["timezone"]) == (
        "k3", "2026-01-07 15:00:00 UTC", "2026-01-07 09:00:00", "America/Chicago")
    assert "Massachusetts" in rows[1]["detail"] and "abc123def456" in rows[1]["detail"]
    assert [r["contact_id"] for r in rows if r["record"] == "evidence"] == ["k1", "k2", "k3"]
    assert "dismissed by alice (was unreviewed); reason: consent on file; note: form on file" == rows[-1]["detail"]


def test_the_timeline_is_drawn_on_the_local_time_axis_with_the_window_shaded(db):
    from analysis.compliance import evidence

    d = workspace.breach_detail(db, "k3", "state_ma_2in7")
    fig = evidence.timeline_figure(d)
    xs = [x for t in fig.data if t.x is not None for x in t.x if x is not None]
    # Local wall time (Chicago), not UTC: k3 was at 15:00 UTC = 09:00 local.
    assert pd.Timestamp("2026-01-07 09:00:00") in [pd.Timestamp(x) for x in xs]
    shaded = [(pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in fig.layout.shapes]
    assert (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-08")) in shaded  # the 7-day counting window
    assert (pd.Timestamp("2026-01-06 09:00:00"), pd.Timestamp("2026-01-13")) in shaded  # cooldown after k2


@pytest.mark.slow
def test_the_evidence_pack_pdf_has_the_rule_text_evidence_the_timeline_image_and_the_reviews(db, tmp_path):
    import io

    from pypdf import PdfReader

    from analysis.compliance import evidence

    log = tmp_path / "r.sqlite"
    reviews.record(log, "k3", "state_ma_2in7", "confirmed", "alice", datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    d = workspace.breach_detail(db, "k3", "state_ma_2in7")
    pdf = evidence.evidence_pdf(d, reviews.history(log, "k3", "state_ma_2in7"), datetime(2026, 3, 2, 10, 0, tzinfo=UTC), "alice")
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(p.extract_text() for p in reader.pages)
    for expected in ("Evidence pack: state_ma_2in7 on contact k3", "not a legal finding", "940 CMR 7.04(1)(f)",
                     "Counted call number 3", "2026-01-05 09:00:00", "2026-03-01 09:00:00 UTC, alice: confirmed (was unreviewed)", "Generated 2026-03-02 10:00"):
        assert expected in text, expected
    images = [img for p in reader.pages for img in p.images]
    assert images and images[0].image.width > 1000  # the kaleido-rendered timeline


def test_a_link_with_a_breach_opens_that_breach(app_test, review_log, demo_db):
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    contact_id, rule_id = con.execute("select contact_id, rule_id from breaches order by ts limit 1").fetchall()[0]
    con.close()
    at = app_test("compliance", "compliance", query_params={"breach": f"{contact_id}|{rule_id}"})
    at.segmented_control(key="cw_view").set_value("Breaches").run()
    assert not at.exception
    assert at.selectbox(key="cw_pick").value == f"{contact_id}|{rule_id}"
    assert any(h.value == f"{rule_id} · contact {contact_id}" for h in at.subheader)


def test_the_cooldown_named_in_the_evidence_stands_out_from_the_accounts_other_cooldowns(db):
    from analysis.compliance import evidence

    db.execute("""insert into contacts (contact_id, account_id, ts, channel, direction, outcome, agent_id)
        values ('k0', 'A1', '2026-01-02T15:00:00Z', 'call', 'inbound', 'conversation', null)""")
    fig = evidence.timeline_figure(workspace.breach_detail(db, "k3", "regf_post_conversation"))
    fills = {str(pd.Timestamp(s.x0)): s.fillcolor for s in fig.layout.shapes}
    assert fills["2026-01-06 09:00:00"] == evidence.SPAN_STYLE["cooldown"][0]  # after k2, the evidence
    assert fills["2026-01-02 09:00:00"] == evidence.SPAN_STYLE["cooldown_other"][0]  # after k0
