"""Real browser: the issue's crafted link shows its text in the Scorecard's error box, not a link.

AppTest sees the Markdown a page sends; this checks what Streamlit's renderer makes of it.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import sign_in, wait_for_app

pytestmark = pytest.mark.browser

ATTACK = "[Sign in again](https://x.example) ![i](https://x.example/i.png) :red[x] $x^2$"  # under 80 characters


def test_a_crafted_month_in_a_link_is_shown_as_typed_with_no_link_image_or_formula(page, app_server):
    sign_in(page, app_server, "executive", path=f"scorecard?month={quote(ATTACK)}")
    wait_for_app(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="has no data here")
    alert.wait_for()
    assert alert.locator("code").inner_text() == ATTACK
    assert alert.locator("a, img, .katex, .stMarkdownColoredText").count() == 0
