"""AppTest of the Scorecard page: the executive's landing page, a chosen month, an unknown month."""
from __future__ import annotations

from analysis import scorecard
from analysis.db import connect


def test_an_executive_lands_on_the_scorecard_with_a_table_per_section(app_test, demo_db):
    at = app_test("executive")
    assert not at.exception
    assert at.title[0].value == "Scorecard"
    assert [s.value for s in at.main.subheader] == list(scorecard.SECTIONS)
    con = connect(demo_db, read_only=True)
    try:
        default = scorecard.default_month(con)
    finally:
        con.close()
    assert at.selectbox(key="sc_month").value == default
    assert [m.label for m in at.metric] == list(scorecard.HEADLINE.values())


def test_a_month_from_the_url_shows_that_months_figures(app_test, demo_db):
    con = connect(demo_db, read_only=True)
    try:
        month = scorecard.month_choices(con)[3]
        values = scorecard.month_values(con, month)
    finally:
        con.close()
    at = app_test("executive", "scorecard", query_params={"month": month})
    assert not at.exception
    assert at.selectbox(key="sc_month").value == month
    recovery = at.dataframe[3].value  # the Recovery section
    row = recovery[recovery["Metric"] == scorecard.BY_NAME["collected_amount"].label].iloc[0]
    assert row["This month"] == scorecard.display_value("collected_amount", values["collected_amount"])


def test_an_unknown_month_in_the_url_gets_a_clear_message(app_test):
    at = app_test("executive", "scorecard", query_params={"month": "2031-01"})
    assert not at.exception
    assert any("month 2031-01 has no data: the data spans" in e.value for e in at.error)
    at = app_test("manager", "scorecard", query_params={"month": "January"})
    assert any("is not in the form YYYY-MM" in e.value for e in at.error)


def test_changing_the_reporting_zone_keeps_a_valid_month(app_test):
    at = app_test("executive")
    at.selectbox(key="sc_tz").select("America/Los_Angeles").run()
    assert not at.exception
    assert at.query_params["tz"] in ("America/Los_Angeles", ["America/Los_Angeles"])
