"""The Conversations page through AppTest on the demo database (built by the real demo builder and pipeline)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.db import connect
from analysis.sentiment import report

VIEWS = ["Sentiment", "Lowest and transcripts", "QA checks", "Vulnerability"]


def markdown_text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("role", ["manager", "compliance", "admin"])
@pytest.mark.parametrize("view", VIEWS)
def test_every_view_of_the_page_runs_for_every_entitled_role(app_test, role, view):
    at = app_test(role, "conversations")
    at.session_state["conv_view"] = view
    at.run()
    assert not at.exception, at.exception


def test_the_headline_shows_the_share_of_negative_conversations_from_the_database(app_test, demo_db):
    con = connect(demo_db, read_only=True)
    try:
        o = report.overview(con)
    finally:
        con.close()
    at = app_test("manager", "conversations")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Conversations"] == f"{o['conversations']:,}"
    assert metrics["Negative (customer)"] == f"{o['negative_pct']:.1f}%"


def test_the_lowest_conversation_opens_with_its_text_for_compliance(app_test, demo_db):
    con = connect(demo_db, read_only=True)
    try:
        first = report.lowest(con, limit=1)
        cid = first["conversation_id"][0]
        text = report.transcript(con, cid, "compliance")["turns"]["text"].tolist()
    finally:
        con.close()
    at = app_test("compliance", "conversations")
    at.session_state["conv_view"] = "Lowest and transcripts"
    at.run()
    shown = markdown_text(at)
    assert cid in shown
    # the customer's own words appear (HTML-escaped apostrophes aside)
    assert any(t.split()[0] in shown for t in text if t)
    assert "[withheld]" not in shown


def test_a_manager_sees_the_scores_but_not_the_transcript_text(app_test, demo_db):
    con = connect(demo_db, read_only=True)
    try:
        cid = report.lowest(con, limit=1)["conversation_id"][0]
        texts = [t for t in report.transcript(con, cid, "compliance")["turns"]["text"] if len(t) > 20]
    finally:
        con.close()
    at = app_test("manager", "conversations", query_params={"conversation": cid})
    at.session_state["conv_view"] = "Lowest and transcripts"
    at.run()
    shown = markdown_text(at)
    assert "[withheld]" in shown
    assert not any(t in shown for t in texts)
    assert "score" in shown


@pytest.mark.parametrize("by", ["team", "channel"])
def test_the_sentiment_views_figures_from_one_query_match_counts_of_the_stored_conversations(demo_db, by):
    """The headline, histogram, trend and breakdown are summed from one query's cells: each must equal a
    count made here in pandas from conversation_sentiment and accounts, under a team and date filter."""
    from datetime import date

    from analysis.filters import Filters

    con = connect(demo_db, read_only=True)
    try:
        team = con.cursor().execute("select team from accounts group by team order by count(*) desc limit 1").fetchall()[0][0]
        f = Filters(start=date(2026, 3, 1), teams=(team,))
        cells = report.sentiment_cells(con, f, by)
        flagged = len(report.vulnerable_accounts(con, f))
        s = con.cursor().execute("select s.*, a.team from conversation_sentiment as s left join accounts as a using (account_id)").df()
    finally:
        con.close()
    s = s[(s["started_at"].dt.tz_convert("UTC").dt.date >= f.start) & (s["team"] == team)]
    assert len(s) > 100, "the filter should keep conversations"
    scored = s[s["customer_mean"].notna()]

    o = report.overview_of(cells, flagged)
    assert o["conversations"] == len(s) and o["scored"] == len(scored)
    assert o["negative"] == int((s["label"] == "negative").sum())
    assert o["mean_customer_score"] == pytest.approx(scored["customer_mean"].mean())

    groups = s[by].fillna("(none)")
    bg = report.by_group_of(cells, by).set_index(by)
    assert bg["conversations"].to_dict() == groups.value_counts().to_dict()
    assert bg["negative"].to_dict() == {g: int((s.loc[groups == g, "label"] == "negative").sum()) for g in bg.index}
    month = s["started_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    tr = report.trend_of(cells, by)
    assert dict(zip(zip(tr[by], pd.to_datetime(tr["month"]).dt.strftime("%Y-%m")), tr["conversations"])) == \
        {k: v for k, v in s.groupby([groups, month]).size().items()}

    hist = report.histogram_of(cells)
    bins = (scored["customer_mean"] * 10).apply(lambda x: min(math.floor(x), 9)) / 10.0
    expected = scored.groupby([bins.round(1), scored["label"]]).size()
    assert dict(zip(zip(hist["bin_start"].round(1), hist["label"]), hist["conversations"])) == expected.to_dict()


def test_the_lowest_conversations_carry_their_own_failed_qa_rules_and_cues(demo_db):
    con = connect(demo_db, read_only=True)
    try:
        low = report.lowest(con, limit=500)
        failed = dict(con.cursor().execute("select conversation_id, count(*) from qa_results where not passed group by 1").fetchall())
        cues = dict(con.cursor().execute("select conversation_id, count(*) from vulnerability_flags group by 1").fetchall())
        scored = con.cursor().execute("select customer_mean, conversation_id from conversation_sentiment "
                                      "where customer_mean is not null order by 1, 2 limit 500").fetchall()
    finally:
        con.close()
    assert list(zip(low["customer_mean"], low["conversation_id"])) == scored
    assert low["qa_failed"].tolist() == [failed.get(c, 0) for c in low["conversation_id"]]
    assert low["cues"].tolist() == [cues.get(c, 0) for c in low["conversation_id"]]
    assert low["qa_failed"].sum() > 0 and low["cues"].sum() > 0


def test_the_vulnerability_views_total_and_first_rows_from_one_query_are_the_whole_lists(demo_db):
    """vulnerable_view asks its query for the first rows with the total on each (168k accounts at 1M):
    both must be the whole list's, for any filter."""
    from datetime import date

    from analysis.filters import Filters

    con = connect(demo_db, read_only=True)
    try:
        team = con.cursor().execute("select min(team) from accounts").fetchall()[0][0]
        checked = 0
        for f in (Filters(), Filters(teams=(team,)), Filters(start=date(2026, 6, 1)), Filters(channels=("chat",)),
                  Filters(start=date(2030, 1, 1))):
            every = report.vulnerable_accounts(con, f)
            for limit in (1, 7):
                view = report.vulnerable_view(con, f, limit)
                assert view["total"] == len(every)
                pd.testing.assert_frame_equal(view["shown"], every.head(limit))
            checked += len(every) > 7
    finally:
        con.close()
    assert checked >= 3


def test_the_vulnerability_list_sends_the_latest_flagged_accounts_and_the_headline_counts_them_all(app_test, demo_db,
                                                                                                   monkeypatch):
    from dashboard import ui

    shown_rows = 5  # the demo's list is short: a smaller cap (AppTest runs the page in this process)
    monkeypatch.setattr(ui, "SHOWN_ROWS", shown_rows)
    con = connect(demo_db, read_only=True)
    try:
        flagged = con.cursor().execute("select count(distinct account_id) from vulnerability_flags").fetchall()[0][0]
        every = report.vulnerable_accounts(con)
    finally:
        con.close()
    assert len(every) == flagged > shown_rows
    at = app_test("admin", "conversations")
    assert {m.label: m.value for m in at.metric}["Accounts with vulnerability cues"] == f"{flagged:,}"
    at.session_state["conv_view"] = "Vulnerability"
    at.run()
    assert not at.exception, at.exception
    listed = at.dataframe[-1].value
    assert listed["account_id"].tolist() == every["account_id"].head(shown_rows).tolist()
    assert any(c.value.startswith(f"{flagged:,} accounts, the latest flagged first")
               and f"the latest flagged {shown_rows} are listed here" in c.value for c in at.caption)
    assert [b for b in at.get("download_button") if "accounts" in b.proto.label]
