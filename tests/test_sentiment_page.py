"""The Conversations page through AppTest on the demo database (built by the real demo builder and pipeline)."""
from __future__ import annotations

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
