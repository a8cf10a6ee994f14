"""Real browser: a compliance officer labels a turn's sentiment in the transcript viewer and it is recorded."""
from __future__ import annotations

import pytest

from analysis.sentiment import labels
from tests.browser import sign_in, wait_for_app
from tests.test_sentiment_labels import OTHER, scored_turns

pytestmark = pytest.mark.browser


def test_a_compliance_officer_clicks_a_label_and_the_turn_shows_it_and_the_log_holds_it(page, app_server, demo_db):
    # The shared server keeps its labels beside the demo database (no DASHBOARD_LABELS in its environment).
    log = labels.default_path(demo_db, environ={})
    cid, turn, stored, model_id, _ = scored_turns(demo_db, 1)[0]
    before = labels.latest_id(log)
    wanted = OTHER[stored]
    sign_in(page, app_server, "compliance", path=f"conversations?conversation={cid}")
    wait_for_app(page)
    control = page.locator(f".st-key-conv_label_{turn}")
    control.wait_for()
    # the model's own label is marked on its button; the person chooses another
    assert control.get_by_role("radio", name=f"{stored} (model)").is_visible()
    control.get_by_role("radio", name=wanted, exact=True).click()
    wait_for_app(page)
    page.locator(f"div.turn[data-turn='{turn}'] .human-label").wait_for()
    assert f"human: {wanted}" in page.locator(f"div.turn[data-turn='{turn}']").inner_text()
    added = labels.history(log)
    added = added[added["label_id"] > before]
    assert list(zip(added["conversation_id"], added["turn"], added["label"], added["model_label"], added["model_id"],
                    added["labeller"])) == [(cid, turn, wanted, stored, model_id, "compliance")]
    assert labels.verify(log)[2] == []
