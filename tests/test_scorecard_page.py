"""AppTest of the Scorecard page: the executive's landing page, a chosen month, an unknown month, and the
stored audit behind the breach metrics (the page never reruns it; the command still counts the default rules)."""
from __future__ import annotations

import re

from analysis import scorecard
from analysis.db import ROOT, connect, rows


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
    assert any(re.match(r"Month ` 2031-01 ` has no data here \(YYYY-MM, \d{4}-\d{2} to \d{4}-\d{2}\): showing \d{4}-\d{2}; "
                        "choose a month from the list", e.value) for e in at.error)
    at = app_test("manager", "scorecard", query_params={"month": "January"})
    assert any(e.value.startswith("Month ` January ` has no data here (YYYY-MM") for e in at.error)


def test_changing_the_reporting_zone_keeps_a_valid_month(app_test):
    at = app_test("executive")
    at.selectbox(key="sc_tz").select("America/Los_Angeles").run()
    assert not at.exception
    assert at.query_params["tz"] in ("America/Los_Angeles", ["America/Los_Angeles"])


def test_the_page_counts_the_stored_audit_of_another_rule_set_and_the_command_the_default_rules(
        app_test, demo_db_copy, monkeypatch, tmp_path):
    # The stored audit of a rule set that is not the default (one rule of it): the page counts that
    # table and names its rule set, without rerunning the engine; the command still writes SPEC's
    # figure, the default rules' breaches.
    import csv
    import subprocess
    import sys

    import analysis.compliance.engine as engine
    from analysis.compliance.rules import load_rules

    con = connect(demo_db_copy, read_only=True)
    try:  # the busiest month of the default rules' audit, and its least frequent rule there
        per_rule = rows(con, "select strftime(ts, '%Y-%m') as month, rule_id, count(*) as n from breaches group by all")
        totals = {m: sum(n for mm, _, n in per_rule if mm == m) for m, _, _ in per_rule}
        month = max(totals, key=lambda m: (totals[m], m))
        rule_id = min((n, r) for m, r, n in per_rule if m == month)[1]
        default = scorecard.month_values(con, month)
    finally:
        con.close()
    custom = load_rules().only(rule_id)
    con = connect(demo_db_copy)
    try:
        engine.refresh(con, custom)
    finally:
        con.close()
    con = connect(demo_db_copy, read_only=True)
    try:
        stored = rows(con, "select count(*), count(distinct account_id) from (select distinct contact_id, rule_id,"
                           " account_id from breaches where strftime(ts, '%Y-%m') = ?)", [month])[0]
    finally:
        con.close()
    assert 0 < stored[0] < default["contact_breaches"]

    out = tmp_path / "card.csv"
    done = subprocess.run([sys.executable, "-m", "analysis", "scorecard", "--db", str(demo_db_copy), "--month", month,
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with out.open(newline="", encoding="utf-8") as fh:
        got = dict(list(csv.reader(fh))[1:])
    assert (int(got["contact_breaches"]), int(got["accounts_with_breach"])) == \
        (default["contact_breaches"], default["accounts_with_breach"])
    assert custom.label in done.stderr and "default rules" in done.stderr

    def refuse(*args, **kwargs):
        raise AssertionError("a page request ran the compliance engine")

    monkeypatch.setattr(engine, "find_breaches", refuse)
    monkeypatch.setenv("DASHBOARD_DB", str(demo_db_copy))
    at = app_test("executive", "scorecard", query_params={"month": month})
    assert not at.exception, at.exception
    contact = at.dataframe[2].value  # the Contact and compliance section
    shown = contact.set_index("Metric")["This month"]
    assert shown[scorecard.BY_NAME["contact_breaches"].label] == scorecard.display_value("contact_breaches", stored[0])
    assert shown[scorecard.BY_NAME["accounts_with_breach"].label] == scorecard.display_value("accounts_with_breach", stored[1])
    captions = " ".join(c.value for c in at.caption)
    assert f"rule set {custom.label}" in captions and "not the default rule set" in captions


def test_the_page_names_the_default_rule_set_behind_the_breach_metrics(app_test):
    from analysis.compliance.rules import load_rules

    at = app_test("executive", "scorecard")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert f"rule set {load_rules().label} (the default rules, config/rules.toml)" in captions
