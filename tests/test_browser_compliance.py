"""The Compliance page in a real Chromium against `streamlit run` (see conftest.py and tests/browser.py)."""
from __future__ import annotations

import re

import pytest

from analysis.compliance import reviews
from tests.browser import nav_labels, sign_in, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture
def compliance_server(demo_db, tmp_path):
    """A server of its own with a private review log, so the shared demo database's log stays empty."""
    from conftest import start_server, stop_server

    log = tmp_path / "reviews.sqlite"
    proc, url = start_server(demo_db, tmp_path / "streamlit.log", extra_env={"DASHBOARD_REVIEWS": str(log)})
    yield url, log
    stop_server(proc)


def choose_view(page, name: str) -> None:
    # st.segmented_control renders as a radio group named after its label.
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name=name, exact=True).click()
    wait_for_app(page)


def test_a_compliance_officer_reviews_a_breach_and_sees_it_in_the_log(page, compliance_server, demo_db, tmp_path):
    url, log = compliance_server
    page.set_viewport_size({"width": 1400, "height": 2600})  # Streamlit scrolls inside its main block: see it all
    sign_in(page, url, "compliance", path="compliance")  # signing in keeps the page asked for
    assert "Compliance" in nav_labels(page)
    page.get_by_role("heading", name="Compliance").wait_for()
    page.locator('[data-testid="stMain"] .js-plotly-plot svg').first.wait_for()  # the chart has rendered
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    choose_view(page, "Breaches")
    page.locator('[data-testid="stPlotlyChart"] svg').first.wait_for()  # the account's timeline
    opened = page.get_by_role("heading", name=re.compile(r" · contact ")).inner_text()  # the opened breach
    rule_id, contact_id = re.fullmatch(r"(\S+) · contact (\S+)", opened.strip()).groups()

    form = page.locator('[data-testid="stForm"]')
    form.get_by_text("dismissed", exact=True).click()
    form.locator('[data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="reply to consumer").click()
    form.get_by_label("Note").fill("consumer texted first; reply within the hour")
    form.get_by_role("button", name="Record review").click()
    wait_for_app(page)
    page.get_by_text("Recorded: dismissed by compliance (was unreviewed).").wait_for()
    page.screenshot(path=str(tmp_path / "breaches.png"), full_page=True)

    # The examiner's PDF is made on click (kaleido renders the timeline inside the server).
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Evidence pack (PDF)").click()
    pdf = tmp_path / "pack.pdf"
    download.value.save_as(pdf)
    from pypdf import PdfReader

    # pypdf may space out words of wrapped lines ("reply  to  consumer"): compare with single spaces.
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
    assert f"Evidence pack: {rule_id} on contact {contact_id}" in text
    assert "reply to consumer" in text  # the review just recorded is in the pack

    # The list's download has every breach (the table shows at most ui.SHOWN_ROWS, AppTest checks that).
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    total = con.execute("select count(*) from breaches").fetchall()[0][0]
    con.close()
    # The PDF button's click reruns the script; a click that lands mid-rerun can be lost (seen once in a
    # full run on a busy machine): let the page settle first, as before any other action.
    wait_for_app(page)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Download the list (CSV)").click()
    listed = tmp_path / "breaches.csv"
    download.value.save_as(listed)
    import pandas as pd

    rows = pd.read_csv(listed, dtype=str)
    assert len(rows) == total
    assert (rows["review_state"] == "dismissed").sum() == 1  # the review just recorded

    choose_view(page, "Review log")
    latest = page.locator('[data-testid="stMarkdown"]').filter(has_text="Latest reviews")
    latest.wait_for()
    text = latest.inner_text()
    assert f"compliance marked {contact_id} / {rule_id} dismissed (was unreviewed) · reply to consumer" in text
    page.screenshot(path=str(tmp_path / "log.png"), full_page=True)
    logged = reviews.history(log)
    assert list(zip(logged["contact_id"], logged["rule_id"], logged["state"])) == [(contact_id, rule_id, "dismissed")]
    assert reviews.verify(log)[2] == []

    # Who signed in, what they saw (with the filters in force) and what they downloaded, on record.
    from analysis import accesslog

    access_log = accesslog.default_path()  # this test's (conftest), which its server writes
    seen = accesslog.entries(access_log).iloc[::-1]
    assert seen["event"].iloc[0] == "sign_in" and set(seen["username"]) == {"compliance"}
    assert set(seen["client"]) == {"localhost"}  # Streamlit gives no address for loopback
    views = seen[seen["event"] == "page_view"]["detail"]
    assert views.str.contains('"page": "compliance"').all()
    assert views.str.contains(f'"breach": \\["{contact_id}\\|{rule_id}"').any()  # the breach opened, by its key
    downloads = seen[seen["event"] == "download"]["detail"].tolist()
    assert [d for d in downloads if f'"what": "evidence pack {contact_id} {rule_id}"' in d and ".pdf" in d]
    assert [d for d in downloads if '"what": "breach list"' in d and f'"rows": {total}' in d]
    assert accesslog.verify(access_log)[2] == []


def test_an_executive_cannot_reach_the_compliance_page(page, compliance_server):
    url, _ = compliance_server
    sign_in(page, url, "executive", path="compliance")  # asking for the page's address does not open it
    assert "Compliance" not in nav_labels(page)
    page.get_by_role("heading").first.wait_for()
    titles = page.locator('[data-testid="stMain"] h1').all_inner_texts()
    assert titles and "Compliance" not in [t.strip() for t in titles]  # it landed on its own first page
    assert page.get_by_role("radio", name="Policy what-if").count() == 0
    assert page.get_by_text("Open a breach").count() == 0
