"""The balance between recovery and experience: golden rows, the estimators, the comparison, the page."""
from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from analysis import balance
from analysis.errors import UserError
from analysis.filters import Filters

ALL = Filters()


def add_account(con, account_id, balance_, team, strategy, placed=date(2026, 1, 5)):
    con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, team, strategy, portfolio) "
                "values (?, ?, ?, ?, 'America/Chicago', ?, ?, 'Cards')", [account_id, "C" + account_id, placed, balance_, team, strategy])


def add_contact(con, cid, acc, ts, agent, direction="outbound"):
    con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome, agent_id) "
                "values (?, ?, cast(? as timestamptz), 'call', ?, 'no_answer', ?)", [cid, acc, ts, direction, agent])


@pytest.fixture
def small(fresh_db):
    con = fresh_db
    add_account(con, "A1", 100, "North", "champion")
    add_account(con, "A2", 100, "North", "champion")
    add_account(con, "A3", 400, "South", "challenger")
    # A1: G1 twice, G2 once -> G1. A2: G2 once, G3 once -> tie -> G2 (lowest id). A3: no agent -> "(no agent)".
    add_contact(con, "K1", "A1", "2026-02-01T15:00:00Z", "G1")
    add_contact(con, "K2", "A1", "2026-02-02T15:00:00Z", "G1")
    add_contact(con, "K3", "A1", "2026-02-03T15:00:00Z", "G2")
    add_contact(con, "K4", "A2", "2026-02-04T15:00:00Z", "G3")
    add_contact(con, "K5", "A2", "2026-02-05T15:00:00Z", "G2")
    add_contact(con, "K6", "A3", "2026-02-06T15:00:00Z", None)
    add_contact(con, "K7", "A3", "2026-02-07T15:00:00Z", "G9", direction="inbound")  # inbound: not made, not an agent's
    for pid, acc, ts, amount in [("P1", "A1", "2026-02-10T12:00:00Z", 10), ("P2", "A2", "2026-02-11T12:00:00Z", 30),
                                 ("P3", "A3", "2026-02-12T12:00:00Z", 100), ("P4", "A3", "2026-03-12T12:00:00Z", 50)]:
        con.execute("insert into payments values (?, ?, cast(? as timestamptz), ?, 'card')", [pid, acc, ts, amount])
    con.execute("insert into complaints (complaint_id, account_id, received_at) values ('C1', 'A3', timestamptz '2026-02-20 10:00:00+00')")
    # Surveys: A1 promoter (own agent G5), A2 detractor (no agent), A3 passive.
    con.execute("""insert into surveys (response_id, account_id, responded_at, nps, agent_id) values
        ('S1', 'A1', timestamptz '2026-02-15 10:00:00+00', 10, 'G5'),
        ('S2', 'A2', timestamptz '2026-02-15 10:00:00+00', 3, null),
        ('S3', 'A3', timestamptz '2026-02-15 10:00:00+00', 8, null)""")
    # The engine's stored breaches: K1 breaks two rules (one breaching contact), K6 one.
    con.execute("""insert into breaches (contact_id, account_id, rule_id, ts) select * from (values
        ('K1', 'A1', 'regf_7in7', timestamptz '2026-02-01 15:00:00+00'),
        ('K1', 'A1', 'state_ma_2in7', timestamptz '2026-02-01 15:00:00+00'),
        ('K6', 'A3', 'inconvenient_time', timestamptz '2026-02-06 15:00:00+00')) t(contact_id, account_id, rule_id, ts)""")
    con.execute("""insert into conversation_sentiment (conversation_id, account_id, agent_id, started_at, label)
        select * from (values
        ('V1', 'A1', 'G1', timestamptz '2026-02-01 15:00:00+00', 'negative'),
        ('V2', 'A1', 'G1', timestamptz '2026-02-02 15:00:00+00', 'positive'),
        ('V3', 'A3', null, timestamptz '2026-02-06 15:00:00+00', 'neutral')) t(conversation_id, account_id, agent_id, started_at, label)""")
    # as the pipeline's steps record that they ran (analysis.pipeline.RAN)
    con.execute("insert into meta values ('rule_set', 'test rules'), ('sentiment_model', 'test model')")
    return con


FEB = Filters(start=date(2026, 2, 1), end=date(2026, 2, 28))


def test_golden_rows_per_team(small):
    df = balance.groups(small, FEB, "team").set_index("group_name")
    assert list(df.index) == ["North", "South", "All"]
    north, south = df.loc["North"], df.loc["South"]
    assert (north["accounts"], north["placed_balance"], north["collected_amount"], north["contacts_made"]) == (2, 200, 40, 5)
    assert (north["breach_contacts"], north["complaints"], north["promoters"], north["detractors"]) == (1, 0, 1, 1)
    assert (north["conversations_scored"], north["conversations_negative"]) == (2, 1)
    # South: P4 is in March, outside the range; K7 is inbound.
    assert (south["accounts"], south["collected_amount"], south["contacts_made"], south["breach_contacts"]) == (1, 100, 1, 1)
    assert (south["complaints"], south["passives"]) == (1, 1)
    assert north["recovery_pct"] == pytest.approx(20.0) and south["recovery_pct"] == pytest.approx(25.0)
    assert north["collected_per_contact"] == pytest.approx(8.0)
    assert north["breach_rate_pct"] == pytest.approx(20.0) and north["negative_share_pct"] == pytest.approx(50.0)
    assert north["nps"] == pytest.approx(0.0) and south["complaints_per_1000"] == pytest.approx(1000.0)
    assert df.loc["All", "accounts"] == 3 and df.loc["All", "recovery_pct"] == pytest.approx(100 * 140 / 600)


def test_an_account_belongs_to_the_agent_who_contacted_it_most_and_surveys_to_their_own_agent(small):
    df = balance.groups(small, FEB, "agent").set_index("group_name")
    assert df.loc["G1", "accounts"] == 1 and df.loc["G1", "collected_amount"] == 10  # A1
    assert df.loc["G2", "accounts"] == 1 and df.loc["G2", "collected_amount"] == 30  # A2: tie G2/G3 -> G2
    assert df.loc["(no agent)", "accounts"] == 1  # A3
    assert "G3" not in df.index
    # S1 names G5, who owns no account; S2 has no agent and falls to A2's agent G2.
    assert (df.loc["G5", "promoters"], df.loc["G5", "accounts"]) == (1, 0)
    assert df.loc["G2", "detractors"] == 1 and df.loc["G1", "promoters"] == 0
    assert df.loc["G5", "recovery_pct"] is None or math.isnan(df.loc["G5", "recovery_pct"])  # no placed balance: empty


def test_the_ratio_estimator_interval_matches_a_hand_computation():
    # y = 10, 30 over x = 100, 100: R = 0.2, residuals -10, +10, RSS 200, SE = sqrt(2/1 * 200) / 200 = 0.1.
    value, low, high, se = balance.ratio_estimate(40, 200, 2, 10**2 + 30**2, 2 * 100**2, 10 * 100 + 30 * 100, 100.0)
    assert (value, se) == pytest.approx((20.0, 10.0))
    assert (low, high) == pytest.approx((20.0 - 19.599640, 20.0 + 19.599640), abs=1e-5)
    assert balance.ratio_estimate(5, 0, 3, 1, 0, 0) == (None, None, None, None)
    assert balance.ratio_estimate(5, 10, 1, 25, 100, 50)[1:] == (None, None, None)


def test_complaints_per_1000_use_an_exact_poisson_interval():
    value, low, high = balance.poisson_rate(0, 1000)
    assert value == 0.0 and low == 0.0 and high == pytest.approx(3.6889, abs=1e-4)  # the "rule of 3.69"
    value, low, high = balance.poisson_rate(10, 1000)
    assert value == 10.0 and (low, high) == pytest.approx((4.7954, 18.3904), abs=1e-3)
    assert balance.poisson_rate(3, 0) == (None, None, None)


def test_the_negative_share_is_empty_without_the_sentiment_table(small):
    small.execute("delete from conversation_sentiment")  # the conversations step has not run
    small.execute("delete from meta where key = 'sentiment_model'")
    df = balance.groups(small, FEB, "team").set_index("group_name")
    assert df["conversations_scored"].eq(0).all()
    assert df["negative_share_pct"].isna().all()
    assert not balance.has_sentiment(small)


def test_a_verdict_only_where_the_difference_is_significant(fresh_db):
    con = fresh_db
    # 40 accounts per arm; 2 of every 5 challenger contacts breach, no champion contact does; recovery is identical.
    for i in range(40):
        for arm, prefix in (("champion", "X"), ("challenger", "Y")):
            acc = f"{prefix}{i}"
            add_account(con, acc, 100, "North", arm)
            con.execute("insert into payments values (?, ?, timestamptz '2026-02-10 12:00:00+00', 10, 'card')", ["P" + acc, acc])
            for k in range(5):
                add_contact(con, f"K{acc}-{k}", acc, f"2026-02-{10 + k}T15:00:00Z", "G1")
    con.execute("""insert into breaches (contact_id, account_id, rule_id, ts) select contact_id, account_id, 'regf_7in7', ts from contacts
        where account_id like 'Y%' and (contact_id like '%-0' or contact_id like '%-1')""")
    cmp = balance.compare(con, FEB, "champion", "challenger").set_index("key")
    assert cmp.loc["breach_rate_pct", "significant"]
    assert cmp.loc["breach_rate_pct", "verdict"].startswith("Challenger has 40.00 points more of its contacts presumed in breach than champion")
    assert cmp.loc["breach_rate_pct", "verdict"].endswith("worse for challenger.")
    assert cmp.loc["recovery_pct", "difference"] == pytest.approx(0.0) and cmp.loc["recovery_pct", "verdict"] == ""
    assert cmp.loc["nps", "verdict"] == ""  # no responses at all
    with pytest.raises(UserError, match="strategy 'dragon' has no accounts"):
        balance.compare(con, FEB, "champion", "dragon")


def test_no_verdict_for_small_samples_even_when_the_test_says_so(small):
    cmp = balance.compare(small, FEB, "champion", "challenger")
    assert (cmp["verdict"] == "").all()  # 2 and 1 accounts: small samples


def test_the_balance_month_by_month(small):
    df = balance.monthly(small, ALL, "strategy")
    got = df[["month", "grp", "collected_amount", "contacts_made", "accounts_in_book", "placed_balance_in_book"]]
    assert got.astype({"collected_amount": float, "placed_balance_in_book": float}).values.tolist() == [
        ["2026-02", "challenger", 100.0, 1, 1, 400.0],
        ["2026-02", "champion", 40.0, 5, 2, 200.0],
        ["2026-03", "challenger", 50.0, 0, 1, 400.0],
    ]
    assert df["recovery_pct"].tolist() == pytest.approx([25.0, 20.0, 12.5])
    assert df.loc[1, "breach_rate_pct"] == pytest.approx(20.0)
    assert pd.isna(df.loc[2, "breach_rate_pct"])  # no contacts in March: empty, not 0


# --- the page -----------------------------------------------------------------------------------

@pytest.mark.parametrize("view", ["Recovery vs experience", "Champion vs challenger", "Over time"])
def test_every_view_of_the_balance_page_runs(app_test, view):
    at = app_test("executive", "balance", query_params={"view": view})
    assert not at.exception
    assert at.title[0].value == "Balance"
    assert len(at.dataframe) >= 1


def test_the_champion_challenger_view_shows_the_verdicts_of_the_analysis(app_test, demo_db):
    from analysis.db import connect

    at = app_test("executive", "balance", query_params={"view": "Champion vs challenger"})
    con = connect(demo_db, read_only=True)
    try:
        start, end = at.session_state["f_dates"]
        cmp = balance.compare(con, Filters(start=start, end=end), "champion", "challenger")
    finally:
        con.close()
    shown = [e.value for e in at.success] + [e.value for e in at.warning]
    assert shown == [v for v in cmp["verdict"] if v] or (not shown and any("No figure differs" in i.value for i in at.info))
