"""Complaint handling on hand-made tables: golden rows per query, the 8-week and 3-business-day
boundaries, empty months, backlog ageing, CFPB timeliness and the link to contact-rule breaches."""
from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest

from analysis import complaints
from analysis.db import query_df
from analysis.errors import UserError
from analysis.filters import ALL, Filters

UTC = timezone.utc


def add_accounts(con):
    con.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, portfolio, team, strategy)
        values ('A1', 'C1', date '2025-01-01', 100, 'UTC', 'Retail', 'North', 'champion'),
               ('A2', 'C2', date '2025-01-31', 100, 'UTC', 'Telco', 'South', 'challenger'),
               ('A3', 'C3', date '2025-02-01', 100, 'UTC', 'Telco', 'South', 'challenger')""")


def complaint(con, cid, account, received, resolved=None, category="billing", source="consumer",
              outcome=None, redress=None, timely=None, issue=None):
    con.execute("""insert into complaints (complaint_id, account_id, received_at, resolved_at, category, source,
                   outcome, redress_amount, timely_response, issue)
                   values (?, ?, ?::timestamptz, ?::timestamptz, ?, ?, ?, ?, ?, ?)""",
                [cid, account, received, resolved, category, source, outcome, redress, timely, issue])


def params(filters=ALL, tz="UTC", **extra):
    p = {**filters.params(), "tz": tz, **extra}
    p.pop("channels")
    return p


def test_monthly_counts_golden_rows(fresh_db):
    add_accounts(fresh_db)
    # received Mon 6 Jan, resolved Thu 9 Jan 23:59:59: the last second of the 3rd business day
    complaint(fresh_db, "c1", "A1", "2025-01-06 10:00:00Z", "2025-01-09 23:59:59Z", redress=25)
    # exactly 56 days: within 8 weeks
    complaint(fresh_db, "c2", "A1", "2025-01-10 10:00:00Z", "2025-03-07 10:00:00Z")
    # 56 days + 1 second: not within
    complaint(fresh_db, "c3", "A2", "2025-01-10 10:00:00Z", "2025-03-07 10:00:01Z")
    # no account: counted when no account filter is set
    complaint(fresh_db, "c4", None, "2025-04-10 10:00:00Z")
    df = query_df(fresh_db, "complaint_monthly_counts", params())
    got = df.drop(columns=["median_resolution_days", "p90_resolution_days"]).to_dict("records")
    assert got == [
        {"month": pd.Timestamp("2025-01-01"), "received": 3, "accounts_in_book": 2, "resolved": 1,
         "resolved_within_8_weeks": 1, "resolved_within_3_business_days": 1, "redress_paid": 25, "open_end_of_month": 2},
        # February: nothing happens, but the month is listed and two complaints are still open
        {"month": pd.Timestamp("2025-02-01"), "received": 0, "accounts_in_book": 3, "resolved": 0,
         "resolved_within_8_weeks": 0, "resolved_within_3_business_days": 0, "redress_paid": 0, "open_end_of_month": 2},
        {"month": pd.Timestamp("2025-03-01"), "received": 0, "accounts_in_book": 3, "resolved": 2,
         "resolved_within_8_weeks": 1, "resolved_within_3_business_days": 0, "redress_paid": 0, "open_end_of_month": 0},
        {"month": pd.Timestamp("2025-04-01"), "received": 1, "accounts_in_book": 3, "resolved": 0,
         "resolved_within_8_weeks": 0, "resolved_within_3_business_days": 0, "redress_paid": 0, "open_end_of_month": 1},
    ]
    # medians in days of 86,400 s: (3 days 13:59:59) in January; (56 d, 56 d + 1 s) in March
    assert df["median_resolution_days"].iloc[0] == pytest.approx((3 * 86400 + 13 * 3600 + 59 * 60 + 59) / 86400)
    assert df["median_resolution_days"].iloc[2] == pytest.approx(56 + 0.5 / 86400)
    assert pd.isna(df["median_resolution_days"].iloc[1])


def test_resolved_after_exactly_56_days_is_within_8_weeks_and_one_second_more_is_not(fresh_db):
    add_accounts(fresh_db)
    complaint(fresh_db, "in", "A1", "2025-01-10 10:00:00Z", "2025-03-07 10:00:00Z")
    complaint(fresh_db, "out", "A1", "2025-01-10 10:00:00Z", "2025-03-07 10:00:01Z")
    df = complaints.by_segment(fresh_db, dimension="category")
    assert df.loc[0, "resolved"] == 2 and df.loc[0, "resolved_within_8_weeks"] == 1
    fresh_db.execute("delete from complaints where complaint_id = 'out'")
    m = complaints.monthly(fresh_db).set_index("month")
    assert m.loc[date(2025, 3, 1), "resolved_within_8_weeks_pct"] == pytest.approx(100.0)


@pytest.mark.parametrize("received, resolved, within", [
    ("2025-01-06 10:00:00Z", "2025-01-09 23:59:59Z", True),   # Mon -> end of Thu
    ("2025-01-06 10:00:00Z", "2025-01-10 00:00:00Z", False),  # Mon -> first second of Fri
    ("2025-01-08 10:00:00Z", "2025-01-13 23:59:59Z", True),   # Wed -> Thu, Fri, Mon
    ("2025-01-10 10:00:00Z", "2025-01-15 23:59:59Z", True),   # Fri -> Mon, Tue, Wed
    ("2025-01-10 10:00:00Z", "2025-01-16 00:00:00Z", False),
    ("2025-01-11 10:00:00Z", "2025-01-15 23:59:59Z", True),   # Sat -> Mon, Tue, Wed
    ("2025-01-12 10:00:00Z", "2025-01-15 23:59:59Z", True),   # Sun -> Mon, Tue, Wed
    ("2025-01-12 10:00:00Z", "2025-01-16 00:00:00Z", False),
])
def test_summary_resolution_ends_with_the_third_business_day_after_receipt(fresh_db, received, resolved, within):
    add_accounts(fresh_db)
    complaint(fresh_db, "c", "A1", received, resolved)
    row = complaints.monthly(fresh_db).iloc[-1]
    assert row["resolved_within_3_business_days"] == int(within)


def test_business_days_are_counted_in_the_reporting_zone(fresh_db):
    add_accounts(fresh_db)
    # Received Mon 6 Jan 03:00 UTC = Sun 5 Jan 21:00 in Chicago: the deadline there is the end of
    # Wed 8 Jan local (06:00 UTC on the 9th), a day earlier than in UTC (end of Thu 9 Jan).
    complaint(fresh_db, "c", "A1", "2025-01-06 03:00:00Z", "2025-01-09 12:00:00Z")
    assert complaints.monthly(fresh_db, tz="UTC").iloc[0]["resolved_within_3_business_days"] == 1
    assert complaints.monthly(fresh_db, tz="America/Chicago").iloc[0]["resolved_within_3_business_days"] == 0


def test_empty_months_give_empty_rates_not_zero(fresh_db):
    add_accounts(fresh_db)
    complaint(fresh_db, "c1", "A1", "2025-01-06 10:00:00Z", "2025-01-07 10:00:00Z")
    complaint(fresh_db, "c2", "A1", "2025-03-06 10:00:00Z")
    m = complaints.monthly(fresh_db).set_index("month")
    feb = m.loc[date(2025, 2, 1)]
    assert feb["resolved"] == 0
    assert pd.isna(feb["resolved_within_8_weeks_pct"]) and pd.isna(feb["median_resolution_days"])
    assert feb["complaints_per_1000_accounts"] == pytest.approx(0.0)  # 0 complaints over 3 accounts is a real 0
    assert m.loc[date(2025, 1, 1), "complaints_per_1000_accounts"] == pytest.approx(1000 * 1 / 2)


def test_per_1000_accounts_is_empty_when_the_book_is_empty(fresh_db):
    complaint(fresh_db, "c1", None, "2024-06-06 10:00:00Z")
    m = complaints.monthly(fresh_db)
    assert m["accounts_in_book"].tolist() == [0]
    assert pd.isna(m["complaints_per_1000_accounts"].iloc[0])


def test_account_filters_drop_complaints_without_an_account(fresh_db):
    add_accounts(fresh_db)
    complaint(fresh_db, "c1", "A1", "2025-01-06 10:00:00Z")
    complaint(fresh_db, "c2", "A2", "2025-01-06 10:00:00Z")
    complaint(fresh_db, "c3", None, "2025-01-06 10:00:00Z")
    assert complaints.monthly(fresh_db)["received"].tolist() == [3]
    south = complaints.monthly(fresh_db, Filters(teams=("South",)))
    assert south["received"].tolist() == [1]
    assert south["accounts_in_book"].tolist() == [1]  # A2 only; A3 is placed in February


def test_segment_counts_golden_rows(fresh_db):
    add_accounts(fresh_db)
    complaint(fresh_db, "c1", "A1", "2025-01-06 10:00:00Z", "2025-01-08 10:00:00Z", category="contact frequency",
              outcome="upheld", redress=50)
    complaint(fresh_db, "c2", "A2", "2025-01-07 10:00:00Z", "2025-04-08 10:00:00Z", category="billing", outcome="not_upheld")
    complaint(fresh_db, "c3", "A2", "2025-01-08 10:00:00Z", category="billing", source="ombudsman")
    at = datetime(2025, 2, 1, tzinfo=UTC)
    df = query_df(fresh_db, "complaint_counts_by_segment", params(dimension="category", as_of=at))
    assert df.to_dict("records") == [
        # c2 resolved after as_of: open at the end, and still counted as resolved (in the open range)
        {"segment": "billing", "received": 2, "resolved": 1, "resolved_within_8_weeks": 0,
         "median_resolution_days": 91.0, "open_at_end": 2, "redress_paid": 0},
        {"segment": "contact frequency", "received": 1, "resolved": 1, "resolved_within_8_weeks": 1,
         "median_resolution_days": 2.0, "open_at_end": 0, "redress_paid": 50},
    ]
    src = query_df(fresh_db, "complaint_counts_by_segment", params(dimension="source", as_of=at))
    assert dict(zip(src["segment"], src["received"])) == {"consumer": 2, "ombudsman": 1}
    out = query_df(fresh_db, "complaint_counts_by_segment", params(dimension="outcome", as_of=at))
    assert dict(zip(out["segment"], out["received"])) == {"(none)": 1, "not_upheld": 1, "upheld": 1}


def test_resolution_days_are_seconds_over_86400(fresh_db):
    add_accounts(fresh_db)
    complaint(fresh_db, "c1", "A1", "2025-01-06 10:00:00Z", "2025-01-07 22:00:00Z")
    complaint(fresh_db, "c2", "A1", "2025-01-06 10:00:00Z")
    df = complaints.resolution_days(fresh_db)
    assert df["complaint_id"].tolist() == ["c1"]
    assert df["resolution_days"].iloc[0] == pytest.approx(1.5)


def test_backlog_ageing_lists_every_band_at_the_end_of_the_range(fresh_db):
    add_accounts(fresh_db)
    at = datetime(2025, 6, 1, tzinfo=UTC)
    complaint(fresh_db, "d7", "A1", "2025-05-25 00:00:00Z")            # exactly 7 days old
    complaint(fresh_db, "d7s", "A1", "2025-05-24 23:59:59Z")           # 7 days + 1 s
    complaint(fresh_db, "d56", "A1", "2025-04-06 00:00:00Z")           # exactly 56 days
    complaint(fresh_db, "d100", "A1", "2025-02-21 00:00:00Z")          # 100 days
    complaint(fresh_db, "closed", "A1", "2025-05-01 00:00:00Z", "2025-05-02 00:00:00Z")
    complaint(fresh_db, "closes_later", "A1", "2025-05-01 00:00:00Z", "2025-06-02 00:00:00Z")  # open at `at`
    complaint(fresh_db, "future", "A1", "2025-06-01 00:00:00Z")        # received at `at`: not yet in
    df = complaints.backlog_ageing(fresh_db, at=at)
    assert df[["age_band", "open_complaints"]].values.tolist() == [
        ["0-7 days", 1], ["8-28 days", 1], ["29-56 days", 2], ["57-90 days", 0], ["over 90 days", 1]]


def test_as_of_is_the_end_of_the_range_but_not_after_the_data(fresh_db):
    fresh_db.execute("insert into meta values ('data_as_of', '2025-03-10T08:00:00+00:00')")
    assert complaints.as_of(fresh_db, Filters(end=date(2025, 2, 28))) == datetime(2025, 3, 1, tzinfo=UTC)
    assert complaints.as_of(fresh_db, Filters(end=date(2025, 12, 31))) == datetime(2025, 3, 10, 8, tzinfo=UTC)


def test_cfpb_timeliness_uses_the_timely_flag_else_the_resolution_time(fresh_db):
    add_accounts(fresh_db)
    kw = {"source": "cfpb"}
    complaint(fresh_db, "f1", None, "2025-01-01 12:00:00Z", timely=True, **kw)             # flag: within
    complaint(fresh_db, "f2", None, "2025-01-01 12:00:00Z", timely=False, **kw)            # flag: not within
    complaint(fresh_db, "r1", "A1", "2025-01-01 12:00:00Z", "2025-01-16 12:00:00Z", **kw)  # exactly 15 d; final <= 60
    complaint(fresh_db, "r2", "A1", "2025-01-01 12:00:00Z", "2025-03-03 12:00:00Z", **kw)  # 61 d
    complaint(fresh_db, "young", "A1", "2025-03-05 12:00:00Z", **kw)  # open 5 days at as_of: not known yet
    complaint(fresh_db, "own", "A1", "2025-01-01 12:00:00Z", "2025-01-02 12:00:00Z")  # not cfpb
    at = datetime(2025, 3, 10, 12, tzinfo=UTC)
    row = query_df(fresh_db, "complaint_cfpb_timeliness", params(as_of=at)).iloc[0].to_dict()
    assert row == {"cfpb_received": 5, "timely_flag_given": 2, "responded_15_known": 4, "responded_within_15_days": 2,
                   # f1 and f2 are open for 68 days with no final response: known, not within 60
                   "final_60_known": 4, "final_within_60_days": 1}


def test_contact_complaints_sit_next_to_breaches_in_the_30_days_before(fresh_db):
    add_accounts(fresh_db)
    complaint(fresh_db, "k1", "A1", "2025-03-31 10:00:00Z", category="Communication tactics")
    complaint(fresh_db, "k2", "A2", "2025-03-31 10:00:00Z", category="contact frequency")
    complaint(fresh_db, "b1", "A1", "2025-03-31 10:00:00Z", category="billing")
    assert complaints.contact_complaints_with_breaches(fresh_db) is None  # the audit has not run yet
    fresh_db.execute("insert into meta values ('rule_set', 'test rules')")  # as the audit's refresh records it
    fresh_db.execute("""insert into breaches values
        ('x1', 'A1', 'regf_7in7', '2025-03-01 10:00:00Z', null, '', ''),          -- exactly 30 days before: in
        ('x0', 'A1', 'regf_7in7', '2025-03-01 09:59:59Z', null, '', ''),          -- 30 days + 1 s: out
        ('x2', 'A1', 'inconvenient_time', '2025-03-31 09:59:59Z', null, '', ''),  -- just before: in
        ('x2', 'A1', 'regf_7in7', '2025-03-31 09:59:59Z', null, '', ''),
        ('x3', 'A1', 'regf_7in7', '2025-03-31 10:00:00Z', null, '', ''),          -- at receipt: not before
        ('y1', 'A3', 'regf_7in7', '2025-03-20 10:00:00Z', null, '', '')           -- another account""")
    df = complaints.contact_complaints_with_breaches(fresh_db)
    assert df[["complaint_id", "breaches_30d", "breached_contacts_30d", "rules"]].values.tolist() == [
        ["k1", 3, 2, "inconvenient_time, regf_7in7"], ["k2", 0, 0, ""]]


def test_contact_pattern_catches_the_cfpb_contact_sub_issues_but_not_other_issues(fresh_db):
    import duckdb
    con = duckdb.connect()
    def hit(text):
        return con.execute("select regexp_matches(lower(?), ?)", [text, complaints.CONTACT_PATTERN]).fetchall()[0][0]
    for text in ("Communication tactics", "Frequent or repeated calls", "Called before 8am or after 9pm",
                 "You told them to stop contacting you, but they keep trying", "Called after sent written cease of comm"):
        assert hit(text), text
    for text in ("Attempts to collect debt not owed", "Written notification about debt", "billing"):
        assert not hit(text), text


def test_summary_over_the_range(fresh_db):
    add_accounts(fresh_db)
    complaint(fresh_db, "c1", "A1", "2025-01-06 10:00:00Z", "2025-01-07 10:00:00Z", redress=10)
    complaint(fresh_db, "c2", "A1", "2025-01-06 10:00:00Z", "2025-01-09 10:00:00Z", redress=5)
    complaint(fresh_db, "c3", "A2", "2025-02-06 10:00:00Z")
    s = complaints.summary(fresh_db, Filters(end=date(2025, 2, 28)))
    assert (s["received"], s["resolved"], s["open_at_end"]) == (3, 2, 1)
    assert s["median_resolution_days"] == pytest.approx(2.0)
    assert s["within_8_weeks"].value == pytest.approx(100.0) and s["within_8_weeks"].n == 2
    assert s["redress_paid"] == pytest.approx(15.0)
    assert s["per_1000_accounts"] == pytest.approx(1000 * 3 / 3)


def test_unknown_dimension_is_a_user_error(fresh_db):
    with pytest.raises(UserError, match="dimension"):
        complaints.by_segment(fresh_db, dimension="colour")


# --- the page, through AppTest on the demo database ---------------------------------------------

@pytest.mark.parametrize("view", ["Monthly", "Breakdown", "Resolution time", "Backlog", "CFPB", "Contact and breaches"])
def test_every_view_of_the_complaints_page_runs_without_an_exception(app_test, view):
    at = app_test("manager", "complaints", query_params={"view": view})
    assert not at.exception
    assert at.segmented_control(key="cp_view").value == view


def test_the_complaints_headline_matches_the_analysis_for_the_sidebar_range(app_test, demo_db):
    from analysis import catalog
    from analysis.db import connect

    at = app_test("executive", "complaints")
    con = connect(demo_db, read_only=True)
    try:
        opts = catalog.filter_options(con)
        s = complaints.summary(con, Filters(opts["min_date"], opts["max_date"]), "UTC")
    finally:
        con.close()
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Received"] == f"{s['received']:,}"
    assert tiles["Open at end"] == f"{s['open_at_end']:,}"
    assert s["received"] > 0  # the demo has complaints, so the comparison means something


def test_the_benchmark_page_states_the_caveats_of_the_cfpb_data(app_test):
    at = app_test("executive", "benchmark")
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "routing time, not the company's resolution time" in text
    assert "stops in April 2017" in text and "1,231" in text
    labels = [m.label for m in at.metric]
    assert "CFPB: timely response (15 days)" in labels and "Firm: resolved within 15 days" in labels


@pytest.mark.parametrize("tz", ["UTC", "America/Chicago"])
def test_the_pages_and_the_scorecard_agree_on_every_shared_metric_of_the_demo(demo_db, tz):
    # The Complaints and Experience pages and the Scorecard read the same definitions (queries/semantic/:
    # complaint_months, survey_facts), so every month of the demo, in two zones, gives the same figures
    # (counts and medians to the last bit).
    from analysis import experience, scorecard
    from analysis.db import connect

    con = connect(demo_db, read_only=True)
    try:
        mine_k = complaints.monthly(con, tz=tz)
        mine_e = experience.monthly(con, tz=tz)
        months = sorted(set(mine_k["month"]) & set(mine_e["month"]))
        sc = scorecard.monthly_metrics(con, months[0], months[-1], tz)
    finally:
        con.close()
    sc = sc.assign(month=pd.to_datetime(sc["month_start"]).dt.date).set_index("month").loc[months]
    k = mine_k.set_index("month").loc[months]
    e = mine_e.set_index("month").loc[months]
    pairs = [("nps", e["nps"]), ("nps_responses", e["nps_responses"]), ("csat_pct", e["csat_pct"]),
             ("complaints_received", k["received"]), ("complaints_per_1000_accounts", k["complaints_per_1000_accounts"]),
             ("complaint_median_resolution_days", k["median_resolution_days"]),
             ("complaints_resolved_within_8_weeks_pct", k["resolved_within_8_weeks_pct"]),
             ("complaints_open_end_of_month", k["open_end_of_month"]), ("complaints_resolved", k["resolved"]),
             ("csat_responses", e["csat_responses"])]
    assert len(months) >= 3
    for name, mine in pairs:
        theirs = pd.to_numeric(sc[name], errors="coerce").astype("float64").to_numpy()
        ours = pd.to_numeric(mine, errors="coerce").astype("float64").to_numpy()
        if name.endswith(("_pct", "_accounts")) or name == "nps":
            # rates: the same counts, divided in Python by the page's interval code (x / n * 100) and
            # by the scorecard's ratio (100 * x / n), which may differ in the last bit
            assert ours == pytest.approx(theirs, rel=1e-12, nan_ok=True), name
        else:
            assert np.array_equal(ours, theirs, equal_nan=True), (name, ours, theirs)


def test_resolution_histogram_bands_include_their_upper_edge():
    days = pd.Series([0.5, 3.0, 3.0001, 56.0, 56.00001, 91.0])
    bins = complaints.histogram(days)
    got = dict(zip(bins["band"], bins["complaints"]))
    assert got == {"up to 3 days": 2, "3-7 days": 1, "7-14 days": 0, "14-28 days": 0, "28-56 days": 1,
                   "56-90 days": 1, "over 90 days": 1}
    assert bins["complaints"].sum() == len(days)


def test_a_database_without_complaints_gives_empty_figures_not_errors(fresh_db):
    add_accounts(fresh_db)
    s = complaints.summary(fresh_db)
    assert (s["received"], s["resolved"], s["open_at_end"]) == (0, 0, 0)
    assert s["per_1000_accounts"] is None and s["median_resolution_days"] is None
    assert s["within_8_weeks"].value is None
    assert complaints.monthly(fresh_db).empty
    assert complaints.by_segment(fresh_db).empty
    assert complaints.backlog_ageing(fresh_db)["open_complaints"].sum() == 0
    assert complaints.cfpb_timeliness(fresh_db)["within_15_days"].value is None


@pytest.mark.parametrize("page_key", ["experience", "complaints", "benchmark"])
def test_the_pages_run_on_a_database_with_no_surveys_or_complaints(tmp_path, monkeypatch, page_key):
    # A firm that imports only accounts and contacts must get "nothing here" messages, not a traceback.
    from streamlit.testing.v1 import AppTest

    from analysis.db import ROOT, connect
    from analysis.schema import create_schema

    db = tmp_path / "bare.duckdb"
    con = connect(db)
    create_schema(con)
    con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone) "
                "values ('A1', 'C1', date '2025-01-01', 10, 'UTC')")
    con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) "
                "values ('k1', 'A1', timestamptz '2025-02-01 10:00:00+00', 'call', 'outbound', 'no_answer')")
    con.close()
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    from tests.conftest import firm_credentials  # a firm's database: the demo users are refused there

    monkeypatch.setenv("DASHBOARD_CREDENTIALS", str(firm_credentials(tmp_path / "credentials.yaml")))
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.session_state["user"] = {"username": "admin", "name": "Admin", "role": "admin"}
    at.run()
    at.switch_page(f"app_pages/{page_key}.py").run()
    assert not at.exception
    if page_key == "experience":
        assert "No survey responses" in " ".join(i.value for i in at.info)
    if page_key == "complaints":
        assert {m.label: m.value for m in at.metric}["Received"] == "0"
