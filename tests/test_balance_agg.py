"""The Balance page from the aggregate `balance_months` (issue 20, stop 33): a date range's whole UTC months
are read from one row per account and month, its part months at either end from the events of those days.
Every figure must be the one the query over the contract's tables gives, whatever the range's bounds (on the
first of a month, mid-month, both in one month, before or after the data), filters and grouping; and after an
import that adds only survey responses, complaints or conversations, the per-account refresh must give the
full rebuild's rows."""
from __future__ import annotations

import shutil
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from analysis import aggregates, balance, db
from analysis.db import install_layer
from analysis.filters import Filters
from analysis.ingest import find_sources, import_sources, plan
from analysis.pipeline import refresh


@pytest.fixture(scope="module")
def built(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("balance_agg") / "demo.duckdb"
    shutil.copyfile(demo_db, path)
    con = db.connect(path)
    con.execute("set threads = 1")  # float sums of squares in one order (tests/test_aggregates.py)
    first, last = db.query_rows(con, "contact_date_span")[0]
    teams = [r[0] for r in db.rows(con, "select team from accounts group by team order by count(*) desc")]
    portfolios = [r[0] for r in db.rows(con, "select portfolio from accounts group by portfolio order by count(*) desc")]
    yield con, first, last, teams, portfolios
    con.close()


def _month(d: date, k: int) -> date:
    """The first day of the k-th month after d's."""
    m = d.month - 1 + k
    return date(d.year + m // 12, m % 12 + 1, 1)


def _filters(first: date, last: date, teams: list[str], portfolios: list[str]) -> list[Filters]:
    m2, m3, m5 = _month(first, 2), _month(first, 3), _month(first, 5)
    return [
        Filters(),  # every month whole
        Filters(first + timedelta(days=9), last, teams=(teams[0],)),  # the sidebar's usual: a start mid-month
        Filters(m2, m5 - timedelta(days=1)),  # whole months only: first day to last day
        Filters(m2 + timedelta(days=14), m5 + timedelta(days=9), strategies=("champion",)),  # mid-month both ends
        Filters(m3 + timedelta(days=4), m3 + timedelta(days=19), teams=tuple(teams[:2])),  # within one month
        Filters(m3 - timedelta(days=10), m3 + timedelta(days=9), portfolios=(portfolios[0],)),  # two part months
        Filters(m2, m3 + timedelta(days=12), channels=("call",)),  # from a first day to mid-month
        Filters(m2 + timedelta(days=1), m3 - timedelta(days=1)),  # mid-month to a month's last day
        Filters(date(2000, 1, 1), date(2100, 12, 30)),  # bounds outside the data
        Filters(m3, m3),  # one day, the first of a month
        Filters(m3 + timedelta(days=3), m3 + timedelta(days=3), teams=("no such team",)),  # nothing chosen
    ]


READERS = [
    ("groups per team", lambda con, f: balance.groups(con, f, "team")),
    ("groups per strategy", lambda con, f: balance.groups(con, f, "strategy")),
    ("groups per agent", lambda con, f: balance.groups(con, f, "agent")),
    ("monthly per team", lambda con, f: balance.monthly(con, f, "team")),
    ("monthly per strategy", lambda con, f: balance.monthly(con, f, "strategy")),
]


@pytest.mark.parametrize("name,reader", READERS, ids=[r[0] for r in READERS])
def test_the_balance_from_whole_and_part_months_equals_the_query_over_the_contract_tables(built, name, reader):
    con, first, last, teams, portfolios = built
    assert aggregates.ready(con)
    assert balance._stem(con, "balance_groups", "team") == "balance_groups_months"
    assert balance._stem(con, "balance_monthly", "strategy") == "balance_monthly_months"
    compared = 0
    for f in _filters(first, last, teams, portfolios):
        fast = reader(con, f)
        db.set_meta(con, "aggregates", "stale")  # the readers fall back to the contract tables' queries
        try:
            slow = reader(con, f)
        finally:
            db.set_meta(con, "aggregates", aggregates.VERSION)
        pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12, atol=0, obj=f"{name} {f}")
        compared += len(slow) > 1
    assert compared >= 8  # most ranges hold data: the equality is not one of empty frames


def test_champion_against_challenger_reads_the_same_figures(built):
    con, first, last, teams, portfolios = built
    f = Filters(first + timedelta(days=17), last - timedelta(days=11))
    fast = balance.compare(con, f, "champion", "challenger")
    db.set_meta(con, "aggregates", "stale")
    try:
        slow = balance.compare(con, f, "champion", "challenger")
    finally:
        db.set_meta(con, "aggregates", aggregates.VERSION)
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12, atol=0)


def test_the_whole_and_part_months_of_a_range_cover_each_of_its_days_once():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    install_layer(con)
    days = [date(2025, 12, 20) + timedelta(days=i) for i in range(75)]
    for start in days[::2]:
        for end in [d for d in days[::3] if d >= start]:
            bad = con.execute("""
                with d as (
                    select cast(unnest(generate_series($s::date - 40, $e::date + 40, interval 1 day)) as date) as day
                )
                select count(*) from d
                where cast(day between $s and $e as integer)
                    <> cast(part_month_day(day, $s, $e) as integer)
                    + cast(in_whole_months(cast(date_trunc('month', day) as date), $s, $e) as integer)
                    or part_month_day(day, $s, $e)
                    <> utc_part_month_day(cast(day as timestamptz) + interval 23 hour, $s, $e)
                """, {"s": start, "e": end}).fetchall()[0][0]
            assert bad == 0, (start, end)
    con.close()


def _one_row_copy(con, table: str, where: str, replace: str, path, params=None) -> None:
    con.execute(f"copy (select * replace ({replace}) from {table} where {where} limit 1) to '{path}' "
                "(header, timestampformat '%Y-%m-%dT%H:%M:%S.%g%z')", params or [])


def test_an_import_of_surveys_complaints_and_conversations_alone_refreshes_their_accounts(demo_db, tmp_path):
    # balance_months counts an account's NPS responses, complaints and conversation labels: an import of
    # only those must refresh their accounts' rows (no contact or payment of theirs changed).
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db, path)
    con = db.connect(path)
    day = tmp_path / "day"
    day.mkdir()
    survey = db.rows(con, "select account_id from surveys where nps >= 9 order by response_id limit 1")[0][0]
    complaint = db.rows(con, "select account_id from complaints order by complaint_id limit 1")[0][0]
    conversation, account = db.rows(con, """
        select v.conversation_id, v.account_id from conversation_sentiment as v
        where v.label = 'negative' and v.conversation_id in (select conversation_id from turns)
        order by v.conversation_id limit 1""")[0]
    _one_row_copy(con, "surveys", "nps >= 9 and account_id = ?", "'zz-survey' as response_id, 3 as nps",
                  day / "surveys.csv", [survey])
    _one_row_copy(con, "complaints", "account_id = ?", "'zz-complaint' as complaint_id", day / "complaints.csv",
                  [complaint])
    _one_row_copy(con, "conversations", "conversation_id = ?", "'zz-conversation' as conversation_id",
                  day / "conversations.csv", [conversation])
    con.execute(f"copy (select * replace ('zz-conversation' as conversation_id) from turns where conversation_id = ?) "
                f"to '{day / 'turns.csv'}' (header, timestampformat '%Y-%m-%dT%H:%M:%S.%g%z')", [conversation])
    touched = {survey, complaint, account}
    before = db.rows(con, "select account_id, month_start, promoters, detractors, complaints, conversations_scored "
                          "from balance_months where account_id in (select unnest($a)) order by all", {"a": sorted(touched)})
    files, _ = find_sources(day)
    result = import_sources(con, plan(files))
    assert result.quarantined == 0
    assert not result.changed.values("account_id", "contacts", "payments", "accounts")
    refresh(con, progress=False, changed=result.changed)
    assert db.get_meta(con, "derived_mode_aggregates") == "incremental"
    assert db.get_meta(con, "derived_mode_conversations") == "incremental"
    after = db.rows(con, "select * from balance_months order by all")
    changed = db.rows(con, "select account_id, month_start, promoters, detractors, complaints, conversations_scored "
                           "from balance_months where account_id in (select unnest($a)) order by all", {"a": sorted(touched)})
    assert changed != before  # the new rows moved these accounts' sums
    refresh(con, progress=False)  # the full rebuild of the same data
    assert db.get_meta(con, "derived_mode_aggregates") == "full"
    assert db.rows(con, "select * from balance_months order by all") == after
    con.close()
