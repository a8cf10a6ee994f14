"""Real browser: the Customer experience and Complaints pages in Chromium against `streamlit run`."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from analysis import catalog, complaints, experience
from analysis.db import connect
from analysis.filters import Filters
from tests.browser import sign_in, wait_for_app

pytestmark = pytest.mark.browser


def default_filters(db) -> Filters:
    con = connect(db, read_only=True)
    try:
        opts = catalog.filter_options(con)
    finally:
        con.close()
    return Filters(opts["min_date"], opts["max_date"])


def run(db, func, *args):
    con = connect(db, read_only=True)
    try:
        return func(con, *args)
    finally:
        con.close()


def metric_value(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def wait_for_charts(page, n: int = 1) -> None:
    # Plotly draws into an SVG once its data has arrived; assert only after that.
    page.locator('[data-testid="stPlotlyChart"] svg.main-svg').nth(n - 1).wait_for()
    wait_for_app(page)


def test_a_manager_reads_nps_and_csat_trends_and_switches_to_segments(app_server, page, demo_db):
    sign_in(page, app_server, "manager", path="experience")
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("h1").first.inner_text().strip() == "Customer experience"
    wait_for_charts(page, 2)  # NPS and CSAT trends
    months = run(demo_db, experience.monthly, default_filters(demo_db), "UTC")
    last = months.iloc[-1]
    assert metric_value(page, f"NPS ({last['month']:%Y-%m})") == f"{last['nps']:.1f}"
    # both trend charts draw a line of months and a shaded interval each
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 2

    # a segmented control is a radio group in the DOM
    main.get_by_role("radio", name="By segment", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Segment by").wait_for()
    assert parse_qs(urlparse(page.url).query)["view"] == ["By segment"]
    main.get_by_role("radio", name="Strategy", exact=True).click()
    wait_for_app(page)
    seg = run(demo_db, experience.by_segment, default_filters(demo_db), "strategy", "UTC")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    # every strategy segment is a row of the table; the grid draws on a canvas, so read the
    # accessible table it keeps in the DOM (text_content: that table is visually hidden)
    text = grid.text_content()
    for name in seg["segment"]:
        assert name in text


def test_a_detractor_view_lists_the_themes_detractors_mention_most(app_server, page, demo_db):
    sign_in(page, app_server, "manager", path="experience?view=Drivers")
    wait_for_charts(page)
    drivers = run(demo_db, experience.theme_drivers, default_filters(demo_db), "UTC")
    assert page.get_by_text("What detractors talk about").is_visible()
    top = drivers.iloc[0]["theme"]
    assert top in page.locator('[data-testid="stPlotlyChart"]').first.inner_text()


def test_a_compliance_officer_reads_complaint_handling_and_the_backlog(app_server, page, demo_db):
    sign_in(page, app_server, "compliance", path="complaints")
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("h1").first.inner_text().strip() == "Complaints"
    wait_for_charts(page)
    s = run(demo_db, complaints.summary, default_filters(demo_db), "UTC")
    assert metric_value(page, "Received") == f"{s['received']:,}"
    assert metric_value(page, "Open at end") == f"{s['open_at_end']:,}"

    main.get_by_role("radio", name="Backlog", exact=True).click()
    wait_for_app(page)
    wait_for_charts(page)
    assert "over 90 days" in page.locator('[data-testid="stPlotlyChart"]').first.inner_text()
    assert parse_qs(urlparse(page.url).query)["view"] == ["Backlog"]

    main.get_by_role("radio", name="Contact and breaches", exact=True).click()
    wait_for_app(page)
    linked = run(demo_db, complaints.contact_complaints_with_breaches, default_filters(demo_db), "UTC")
    label = "Contact complaints with a presumed breach in the 30 days before"
    if linked is not None and len(linked):
        with_breach = int((linked["breaches_30d"] > 0).sum())
        assert metric_value(page, label) == f"{with_breach} of {len(linked)}"
    else:
        assert page.get_by_text("No complaints about contact").or_(page.get_by_text("Breaches are not derived")).is_visible()
