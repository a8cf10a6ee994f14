"""NPS and CSAT (SPEC section 3) on hand-made survey tables: golden rows, month boundaries, intervals."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis import experience, stats
from analysis.db import query_df
from analysis.errors import UserError
from analysis.filters import ALL, Filters


def add_accounts(con):
    con.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, portfolio, team, strategy)
        values ('A1', 'C1', date '2025-01-01', 100, 'UTC', 'Retail', 'North', 'champion'),
               ('A2', 'C2', date '2025-01-01', 100, 'UTC', 'Telco', 'South', 'challenger')""")
    con.execute("insert into agents values ('G1', 'East', 'Leeds', 'Ann'), ('G2', null, 'Leeds', 'Bob')")


def survey(con, rid, account, ts, nps, csat, comment=None, channel="sms", agent=None):
    con.execute("insert into surveys values (?, ?, ?::timestamptz, ?, ?, ?, ?, ?)",
                [rid, account, ts, nps, csat, comment, channel, agent])


def counts(con, dimension="all", tz="UTC", filters=ALL):
    return query_df(con, "nps_csat_counts", {**filters.params(), "tz": tz, "dimension": dimension})


def test_counts_query_gives_one_row_per_segment_and_month_with_the_spec_bands(fresh_db):
    add_accounts(fresh_db)
    # nps 9 and 10 promote, 7-8 are passive, 0-6 detract; csat 4-5 satisfied; null answers not counted
    for i, (nps, csat) in enumerate([(10, 5), (9, 4), (8, 3), (7, None), (6, 1), (0, 2), (None, 5)]):
        survey(fresh_db, f"s{i}", "A1", "2025-03-10 12:00:00Z", nps, csat)
    survey(fresh_db, "t1", "A2", "2025-04-02 12:00:00Z", 3, None)
    df = counts(fresh_db)
    assert df.to_dict("records") == [
        {"segment": "All", "month": pd.Timestamp("2025-03-01"), "promoters": 2, "passives": 2, "detractors": 2,
         "nps_responses": 6, "csat_satisfied": 3, "csat_responses": 6},
        {"segment": "All", "month": pd.Timestamp("2025-04-01"), "promoters": 0, "passives": 0, "detractors": 1,
         "nps_responses": 1, "csat_satisfied": 0, "csat_responses": 0},
    ]


def test_nps_and_csat_follow_the_spec_formula(fresh_db):
    add_accounts(fresh_db)
    for i, (nps, csat) in enumerate([(10, 5), (9, 4), (8, 3), (7, None), (6, 1), (0, 2), (None, 5)]):
        survey(fresh_db, f"s{i}", "A1", "2025-03-10 12:00:00Z", nps, csat)
    row = experience.monthly(fresh_db).iloc[0]
    # 100 x (2 - 2) / 6 = 0; csat 100 x 3 / 6 = 50
    assert row["nps"] == pytest.approx(0.0)
    assert row["nps_responses"] == 6
    assert row["csat_pct"] == pytest.approx(50.0)
    assert row["csat_responses"] == 6
    assert (row["csat_low"], row["csat_high"]) == pytest.approx(tuple(100 * x for x in stats.wilson_interval(3, 6)))
    assert row["nps_small"] and row["csat_small"]


def test_a_response_on_the_first_second_of_a_month_counts_in_that_month_in_utc(fresh_db):
    add_accounts(fresh_db)
    survey(fresh_db, "a", "A1", "2025-02-28 23:59:59Z", 10, 5)
    survey(fresh_db, "b", "A1", "2025-03-01 00:00:00Z", 0, 1)
    df = experience.monthly(fresh_db)
    assert list(df["month"]) == [date(2025, 2, 1), date(2025, 3, 1)]
    assert list(df["nps"]) == [100.0, -100.0]


def test_the_month_follows_the_reporting_zone_not_utc(fresh_db):
    add_accounts(fresh_db)
    # 05:00 UTC on 1 March is 23:00 on 28 February in Chicago (CST, UTC-6);
    # 06:00 UTC is the first second... of March 1st there: 00:00:00 local.
    survey(fresh_db, "a", "A1", "2025-03-01 05:59:59Z", 10, 5)
    survey(fresh_db, "b", "A1", "2025-03-01 06:00:00Z", 0, 1)
    chicago = experience.monthly(fresh_db, tz="America/Chicago")
    assert list(chicago["month"]) == [date(2025, 2, 1), date(2025, 3, 1)]
    assert list(chicago["nps"]) == [100.0, -100.0]
    utc = experience.monthly(fresh_db, tz="UTC")
    assert list(utc["month"]) == [date(2025, 3, 1)]
    assert utc["nps"].iloc[0] == pytest.approx(0.0)


def test_a_month_without_responses_has_empty_figures_not_zero(fresh_db):
    add_accounts(fresh_db)
    survey(fresh_db, "a", "A1", "2025-01-15 12:00:00Z", 10, 5)
    survey(fresh_db, "b", "A1", "2025-03-15 12:00:00Z", 10, None)
    df = experience.monthly(fresh_db).set_index("month")
    feb = df.loc[date(2025, 2, 1)]
    assert feb["nps_responses"] == 0 and feb["csat_responses"] == 0
    assert pd.isna(feb["nps"]) and pd.isna(feb["csat_pct"]) and pd.isna(feb["nps_low"])
    # March has an nps but no csat: csat is empty there too
    assert pd.isna(df.loc[date(2025, 3, 1), "csat_pct"])
    # no change is computed across the empty month
    assert pd.isna(df.loc[date(2025, 3, 1), "nps_change"])


def test_a_database_without_surveys_gives_empty_tables_not_errors(fresh_db):
    add_accounts(fresh_db)
    assert experience.monthly(fresh_db).empty
    assert experience.segment_monthly(fresh_db, dimension="team", segment="North").empty
    assert experience.by_segment(fresh_db, dimension="team").empty
    assert experience.theme_drivers(fresh_db)["detractor_share_pct"].isna().all()


def test_month_over_month_change_is_significant_only_when_the_test_says_so(fresh_db):
    add_accounts(fresh_db)
    i = 0
    for month, promoters, detractors in (("2025-01", 20, 20), ("2025-02", 35, 5), ("2025-03", 34, 6)):
        for k in range(promoters + detractors):
            survey(fresh_db, f"r{i}", "A1", f"{month}-10 12:00:00Z", 10 if k < promoters else 2, None)
            i += 1
    df = experience.monthly(fresh_db)
    feb, mar = df.iloc[1], df.iloc[2]
    assert feb["nps_change"] == pytest.approx(75.0)  # 0 -> 75
    assert bool(feb["nps_change_significant"]) is True
    assert mar["nps_change"] == pytest.approx(-5.0)  # 75 -> 70
    assert bool(mar["nps_change_significant"]) is False


def test_segments_use_the_agents_team_else_the_accounts_and_small_ones_are_not_ranked(fresh_db):
    add_accounts(fresh_db)
    i = 0
    for account, agent, n, score in (("A1", None, 30, 10), ("A2", None, 40, 0), ("A2", "G1", 5, 10), ("A1", "G2", 1, 0)):
        for _ in range(n):
            survey(fresh_db, f"r{i}", account, "2025-03-10 12:00:00Z", score, None, agent=agent)
            i += 1
    df = experience.by_segment(fresh_db, dimension="team").set_index("segment")
    # G1's team East; G2 has no team so the account's (North) applies
    assert df.loc["North", "nps_responses"] == 31
    assert df.loc["South", "nps_responses"] == 40
    assert df.loc["East", "nps_responses"] == 5
    assert df.loc["North", "nps_rank"] == 1 and df.loc["South", "nps_rank"] == 2
    assert pd.isna(df.loc["East", "nps_rank"]) and bool(df.loc["East", "nps_small"])
    # the best NPS (East, 100) is a small sample and is listed after the ranked ones
    assert list(df.index) == ["North", "South", "East"]


def test_one_segments_months_are_its_own_with_empty_months_listed(fresh_db):
    add_accounts(fresh_db)
    survey(fresh_db, "a", "A1", "2025-01-10 12:00:00Z", 10, 5)   # North
    survey(fresh_db, "b", "A2", "2025-02-10 12:00:00Z", 0, 1)    # South only in February
    survey(fresh_db, "c", "A1", "2025-03-10 12:00:00Z", 0, 1)    # North
    df = experience.segment_monthly(fresh_db, dimension="team", segment="North")
    assert list(df["month"]) == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert df["nps_responses"].tolist() == [1, 0, 1]
    assert df["nps"].iloc[0] == 100.0 and pd.isna(df["nps"].iloc[1]) and df["nps"].iloc[2] == -100.0


def test_filters_apply_to_the_account_and_the_survey_channel(fresh_db):
    add_accounts(fresh_db)
    survey(fresh_db, "a", "A1", "2025-03-10 12:00:00Z", 10, 5, channel="sms")
    survey(fresh_db, "b", "A2", "2025-03-10 12:00:00Z", 0, 1, channel="email")
    survey(fresh_db, "c", "A2", "2025-03-11 12:00:00Z", 0, 1, channel="sms")
    assert experience.monthly(fresh_db, Filters(portfolios=("Retail",)))["nps_responses"].tolist() == [1]
    assert experience.monthly(fresh_db, Filters(channels=("sms",)))["nps_responses"].tolist() == [2]
    assert experience.monthly(fresh_db, Filters(start=date(2025, 3, 11)))["nps_responses"].tolist() == [1]


def test_verbatims_show_comments_without_scores_until_sentiment_is_derived(fresh_db):
    add_accounts(fresh_db)
    survey(fresh_db, "a", "A1", "2025-03-10 12:00:00Z", 2, 1, comment="Too many calls, every day")
    survey(fresh_db, "b", "A1", "2025-03-11 12:00:00Z", 10, 5, comment="Very helpful agent")
    survey(fresh_db, "c", "A1", "2025-03-12 12:00:00Z", 10, 5, comment="  ")
    df = experience.verbatims(fresh_db)
    assert list(df["response_id"]) == ["b", "a"]
    assert "sentiment_score" not in df.columns
    fresh_db.execute("insert into meta values ('sentiment_model', 'vader')")  # the conversations step has run
    fresh_db.execute("insert into comment_sentiment values ('a', -0.6, 'negative', 'vader')")
    df = experience.verbatims(fresh_db, band="detractor")
    assert df[["response_id", "sentiment_score", "sentiment_label"]].values.tolist() == [["a", -0.6, "negative"]]


@pytest.mark.parametrize("scored", [False, True], ids=["without_sentiment", "with_sentiment"])
def test_verbatims_list_only_the_comments_in_the_filters(fresh_db, scored):
    add_accounts(fresh_db)
    # r0: North (account A1), sms, 10 March; r1: South (A2), email; r2: agent G1's team East on A2;
    # r3: 12 March (UTC); r4: agent G2 has no team, so the account's (North)
    survey(fresh_db, "r0", "A1", "2025-03-10 12:00:00Z", 2, None, comment="too many calls", channel="sms")
    survey(fresh_db, "r1", "A2", "2025-03-10 12:00:00Z", 9, None, comment="fine", channel="email")
    survey(fresh_db, "r2", "A2", "2025-03-10 13:00:00Z", 2, None, comment="rude", channel="sms", agent="G1")
    survey(fresh_db, "r3", "A1", "2025-03-12 12:00:00Z", None, 4, comment="ok", channel="sms")
    survey(fresh_db, "r4", "A1", "2025-03-10 14:00:00Z", 7, None, comment="slow", channel="sms", agent="G2")
    if scored:  # the conversations step has run: verbatims_with_sentiment.sql
        fresh_db.execute("insert into meta values ('sentiment_model', 'vader')")
        fresh_db.execute("insert into comment_sentiment values ('r2', -0.5, 'negative', 'vader')")

    def listed(filters=ALL, tz="UTC", band=""):
        df = experience.verbatims(fresh_db, filters, band=band, tz=tz)
        assert ("sentiment_label" in df.columns) == scored
        return sorted(df["response_id"])

    assert listed() == ["r0", "r1", "r2", "r3", "r4"]
    assert listed(Filters(teams=("North",))) == ["r0", "r3", "r4"]
    assert listed(Filters(teams=("East",))) == ["r2"]  # the answering agent's team before the account's
    assert listed(Filters(portfolios=("Telco",))) == ["r1", "r2"]
    assert listed(Filters(strategies=("champion",))) == ["r0", "r3", "r4"]
    assert listed(Filters(channels=("email",))) == ["r1"]
    assert listed(Filters(end=date(2025, 3, 11))) == ["r0", "r1", "r2", "r4"]
    assert listed(Filters(start=date(2025, 3, 12), end=date(2025, 3, 12)), tz="Pacific/Kiritimati") == []  # 13 March there
    assert listed(Filters(start=date(2025, 3, 13), end=date(2025, 3, 13)), tz="Pacific/Kiritimati") == ["r3"]
    assert listed(band="no_nps") == ["r3"]
    assert listed(band="passive") == ["r4"]
    row = experience.verbatims(fresh_db, Filters(teams=("East",))).iloc[0]
    assert (row["team"], row["band"], row["survey_channel"], row["agent_id"]) == ("East", "detractor", "sms", "G1")
    if scored:
        assert (row["sentiment_score"], row["sentiment_label"]) == (-0.5, "negative")


def test_theme_drivers_compare_detractor_and_promoter_mentions(fresh_db):
    add_accounts(fresh_db)
    comments = [(2, "too many calls"), (3, "TOO MANY texts"), (1, "rude man"), (0, "nothing"),
                (10, "helpful, too many letters though"), (9, "helpful"), (8, "too many")]
    for i, (nps, text) in enumerate(comments):
        survey(fresh_db, f"r{i}", "A1", "2025-03-10 12:00:00Z", nps, None, comment=text)
    themes = (("Volume", "too many"), ("Rude", r"\brude"), ("Website", "website"))
    df = experience.theme_drivers(fresh_db, themes=themes).set_index("theme")
    assert df.loc["Volume", "detractor_mentions"] == 2 and df.loc["Volume", "detractor_comments"] == 4
    assert df.loc["Volume", "promoter_mentions"] == 1 and df.loc["Volume", "promoter_comments"] == 2
    assert df.loc["Volume", "lift"] == pytest.approx((2 / 4) / (1 / 2))
    assert pd.isna(df.loc["Rude", "lift"])  # no promoter mentions rudeness: no lift, not infinity
    assert df.loc["Website", "detractor_mentions"] == 0
    assert list(df.index)[0] == "Volume"


def test_theme_mentions_query_golden_rows_one_row_per_band(fresh_db):
    add_accounts(fresh_db)
    for i, (nps, text) in enumerate([(2, "Too many calls"), (3, "fine"), (7, "too many"), (10, "ok"), (None, "too many")]):
        survey(fresh_db, f"r{i}", "A1", "2025-03-10 12:00:00Z", nps, 3, comment=text)
    df = experience.theme_mentions(fresh_db, ALL, "UTC", ["too many"])[0]
    # the response without an nps is in no band
    assert df.to_dict("records") == [
        {"band": "detractor", "mentions": 1, "comments": 2},
        {"band": "passive", "mentions": 1, "comments": 1},
        {"band": "promoter", "mentions": 0, "comments": 1},
    ]


def test_theme_mentions_count_only_the_comments_in_the_filters(fresh_db):
    add_accounts(fresh_db)
    # r0: North (account A1), sms, 10 March; r1: South (A2), email; r2: agent G1's team East on A2; r3: 12 March (UTC)
    survey(fresh_db, "r0", "A1", "2025-03-10 12:00:00Z", 2, None, comment="too many calls", channel="sms")
    survey(fresh_db, "r1", "A2", "2025-03-10 12:00:00Z", 2, None, comment="too many calls", channel="email")
    survey(fresh_db, "r2", "A2", "2025-03-10 12:00:00Z", 2, None, comment="too many calls", channel="sms", agent="G1")
    survey(fresh_db, "r3", "A1", "2025-03-12 12:00:00Z", 2, None, comment="too many calls", channel="sms")

    def mentions(filters, tz="UTC"):
        return experience.theme_mentions(fresh_db, filters, tz, ["too many"])[0]["mentions"].sum()

    assert mentions(ALL) == 4
    assert mentions(Filters(teams=("North",))) == 2
    assert mentions(Filters(teams=("East",))) == 1  # the answering agent's team before the account's
    assert mentions(Filters(portfolios=("Telco",))) == 2
    assert mentions(Filters(strategies=("champion",))) == 2
    assert mentions(Filters(channels=("email",))) == 1
    assert mentions(Filters(end=date(2025, 3, 11))) == 3
    assert mentions(Filters(start=date(2025, 3, 12), end=date(2025, 3, 12)), tz="Pacific/Kiritimati") == 0  # 13 March there


def test_the_shipped_theme_config_loads_and_every_pattern_compiles_in_duckdb(fresh_db):
    themes = experience.load_themes()
    assert len(themes) >= 5
    for pattern in themes.values():
        fresh_db.execute("select regexp_matches('x', ?)", [pattern]).fetchall()


def test_bad_arguments_are_user_errors(fresh_db):
    with pytest.raises(UserError, match="time zone"):
        experience.monthly(fresh_db, tz="Mars/Olympus")
    with pytest.raises(UserError, match="dimension"):
        experience.by_segment(fresh_db, dimension="colour")
    with pytest.raises(UserError, match="band"):
        experience.verbatims(fresh_db, band="fans")


# --- the page, through AppTest on the demo database ---------------------------------------------

def _sidebar_filters(db_path, **chosen):
    """The Filters the sidebar builds by default (the data's whole date span) plus the chosen lists."""
    from analysis import catalog
    from analysis.db import connect

    con = connect(db_path, read_only=True)
    try:
        opts = catalog.filter_options(con)
    finally:
        con.close()
    return Filters(opts["min_date"], opts["max_date"], **chosen)


def _analysis(db_path, func, *args):
    from analysis.db import connect

    con = connect(db_path, read_only=True)
    try:
        return func(con, *args)
    finally:
        con.close()


@pytest.mark.parametrize("view", ["Trend", "By segment", "Drivers", "Verbatims"])
def test_every_view_of_the_experience_page_runs_without_an_exception(app_test, view):
    at = app_test("manager", "experience", query_params={"view": view})
    assert not at.exception
    assert at.segmented_control(key="cx_view").value == view
    assert [m.label[:4] for m in at.metric[:2]] == ["NPS ", "CSAT"]


def test_the_headline_nps_is_the_latest_months_figure_of_the_analysis(app_test, demo_db):
    at = app_test("executive", "experience")
    months = _analysis(demo_db, experience.monthly, _sidebar_filters(demo_db), "UTC")
    last = months.iloc[-1]
    nps = at.metric[0]
    assert nps.label == f"NPS ({last['month']:%Y-%m})"
    assert nps.value == f"{last['nps']:.1f}"


def test_choosing_a_team_in_the_sidebar_changes_the_nps_to_that_teams(app_test, demo_db):
    at = app_test("manager", "experience")
    teams = at.multiselect(key="f_team").options
    team = teams[0]
    at.multiselect(key="f_team").select(team).run()
    assert not at.exception
    months = _analysis(demo_db, experience.monthly, _sidebar_filters(demo_db, teams=(team,)), "UTC")
    last = months.iloc[-1]
    expected = "–" if pd.isna(last["nps"]) else f"{last['nps']:.1f}"
    assert at.metric[0].value == expected


def test_verbatim_comments_are_withheld_from_managers_and_shown_to_compliance(app_test, demo_db):
    shown = app_test("compliance", "experience", query_params={"view": "Verbatims"})
    hidden = app_test("manager", "experience", query_params={"view": "Verbatims"})
    assert not shown.exception and not hidden.exception
    comments_shown = shown.dataframe[0].value["comment"].tolist()
    comments_hidden = hidden.dataframe[0].value["comment"].tolist()
    assert comments_shown and len(comments_shown) == len(comments_hidden)
    assert not any(c in comments_hidden for c in comments_shown if c)
    assert "[withheld]" in " ".join(map(str, comments_hidden)) or set(comments_hidden) <= {"", None}
