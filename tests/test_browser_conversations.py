"""Real browser: open a transcript on the Conversations page and see its highlights."""
from __future__ import annotations

import pytest

from analysis.db import connect, rows
from tests.browser import sign_in, wait_for_app

pytestmark = pytest.mark.browser


def conversation_with_cue_and_scored_words(db) -> tuple[str, str]:
    """A conversation whose customer voiced a vulnerability cue, and the cue's matched text."""
    con = connect(db, read_only=True)
    try:
        found = rows(con, """select v.conversation_id, v.matched_text from vulnerability_flags v
                             join conversation_sentiment s using (conversation_id)
                             where s.customer_mean < 0 order by s.customer_mean, v.conversation_id limit 1""")
    finally:
        con.close()
    assert found, "the demo database should contain a negative conversation with a vulnerability cue"
    return found[0]


def test_a_compliance_officer_opens_a_transcript_and_sees_words_and_cues_highlighted(page, app_server, demo_db):
    cid, cue_text = conversation_with_cue_and_scored_words(demo_db)
    sign_in(page, app_server, "compliance", path=f"conversations?conversation={cid}")
    wait_for_app(page)
    turns = page.locator("div.turn")
    turns.first.wait_for()
    # the transcript's header line names the conversation that the link asked for
    assert page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=cid).first.is_visible()
    # words that carried VADER's score are marked, and the cue is marked with its own class
    assert page.locator("mark.hl-word").count() > 0
    cue = page.locator("mark.hl-cue")
    assert cue.count() > 0
    assert cue_text.lower() in " ".join(cue.all_inner_texts()).lower()
    # the highlight names its weight or driver when hovered
    assert page.locator("mark.hl-word").first.get_attribute("title").startswith(("+", "-"))


def test_a_manager_opening_the_same_transcript_sees_no_text_and_no_word_highlights(page, app_server, demo_db):
    cid, cue_text = conversation_with_cue_and_scored_words(demo_db)
    sign_in(page, app_server, "manager", path=f"conversations?conversation={cid}")
    wait_for_app(page)
    page.locator("div.turn").first.wait_for()
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "[withheld]" in body
    assert cue_text not in body
    assert page.locator("mark.hl-word").count() == 0
