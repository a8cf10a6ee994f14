"""Risk signals at their boundaries, on tiny tables in a real DuckDB (analysis/compliance/signals.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from analysis import pipeline
from analysis.compliance import signals
from analysis.errors import UserError

UTC = timezone.utc
# Tuesday 10 March 2026, 15:00 UTC = 10:00 in Chicago (CDT, UTC-5): an ordinary weekday, no holiday.
TUESDAY = datetime(2026, 3, 10, 15, 0, 0, tzinfo=UTC)


def add_account(con, account_id, consumer_id="P1", tz="America/Chicago", state=None):
    con.execute(
        "insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, state) values (?, ?, '2026-01-01', 100, ?, ?)",
        [account_id, consumer_id, tz, state])


def add_call(con, contact_id, account_id, ts, outcome="no_answer", direction="outbound", channel="call"):
    con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) values (?, ?, ?, ?, ?, ?)",
                [contact_id, account_id, ts, channel, direction, outcome])


def stored_signals(con, signal=None, consumer_max_calls=None):
    signals.refresh(con, consumer_max_calls=consumer_max_calls)
    cur = con.cursor()
    found = cur.execute("""select signal, account_id, consumer_id, contact_id, detail from risk_signals
                           where $signal is null or signal = $signal order by signal, contact_id""",
                        {"signal": signal}).fetchall()
    cur.close()
    return found


@pytest.mark.parametrize("gap_s, flagged", [(299, True), (300, True), (301, False)])
def test_a_second_unanswered_call_is_a_signal_up_to_five_minutes_after_the_first(fresh_db, gap_s, flagged):
    add_account(fresh_db, "A1")
    add_call(fresh_db, "c1", "A1", TUESDAY, "voicemail")
    add_call(fresh_db, "c2", "A1", TUESDAY + timedelta(seconds=gap_s), "busy")
    found = stored_signals(fresh_db, "unanswered_pair_5min")
    assert [r[3] for r in found] == (["c2"] if flagged else [])


def test_an_answered_call_in_between_does_not_break_a_pair_but_an_answered_call_is_never_one_of_the_two(fresh_db):
    add_account(fresh_db, "A1")
    add_call(fresh_db, "c1", "A1", TUESDAY, "no_answer")
    add_call(fresh_db, "c2", "A1", TUESDAY + timedelta(seconds=60), "conversation")
    add_call(fresh_db, "c3", "A1", TUESDAY + timedelta(seconds=120), "dropped")
    add_call(fresh_db, "c4", "A1", TUESDAY + timedelta(seconds=1000), "conversation")
    add_call(fresh_db, "c5", "A1", TUESDAY + timedelta(seconds=1100), "third_party")  # answered by someone
    assert [r[3] for r in stored_signals(fresh_db, "unanswered_pair_5min")] == ["c3"]


def test_unanswered_calls_to_two_different_accounts_are_not_a_pair(fresh_db):
    add_account(fresh_db, "A1")
    add_account(fresh_db, "A2")
    add_call(fresh_db, "c1", "A1", TUESDAY)
    add_call(fresh_db, "c2", "A2", TUESDAY + timedelta(seconds=10))
    assert stored_signals(fresh_db, "unanswered_pair_5min") == []


@pytest.mark.parametrize("calls, flagged", [(6, False), (7, True), (9, True)])
def test_seven_or_more_calls_on_one_local_day_is_one_signal_at_the_seventh_call(fresh_db, calls, flagged):
    add_account(fresh_db, "A1")
    for i in range(calls):  # an hour apart so no two are an unanswered pair
        add_call(fresh_db, f"c{i + 1}", "A1", TUESDAY + timedelta(hours=i), "conversation")
    found = stored_signals(fresh_db, "calls_7_in_day")
    assert [(r[3], r[4]) for r in found] == ([("c7", f"{calls} placed calls on local date 2026-03-10")] if flagged else [])


def test_the_day_of_seven_calls_is_the_local_date_not_the_utc_date(fresh_db):
    add_account(fresh_db, "A1")  # Chicago, CDT = UTC-5
    # Six calls on the local Tuesday, the seventh at 23:59:59 local Tuesday = 04:59:59 UTC Wednesday.
    for i in range(6):
        add_call(fresh_db, f"c{i + 1}", "A1", TUESDAY + timedelta(hours=i), "conversation")
    add_call(fresh_db, "c7", "A1", datetime(2026, 3, 11, 4, 59, 59, tzinfo=UTC), "conversation")
    assert [r[3] for r in stored_signals(fresh_db, "calls_7_in_day")] == ["c7"]
    # One second later it is local Wednesday: only six calls on Tuesday.
    fresh_db.execute("update contacts set ts = ts + interval 1 second where contact_id = 'c7'")
    assert stored_signals(fresh_db, "calls_7_in_day") == []


def test_inbound_calls_and_other_channels_are_not_counted_as_calls_placed(fresh_db):
    add_account(fresh_db, "A1")
    for i in range(6):
        add_call(fresh_db, f"c{i + 1}", "A1", TUESDAY + timedelta(hours=i), "conversation")
    add_call(fresh_db, "in", "A1", TUESDAY + timedelta(hours=7), "conversation", direction="inbound")
    add_call(fresh_db, "sms", "A1", TUESDAY + timedelta(hours=8), "sent", channel="sms")
    assert stored_signals(fresh_db, "calls_7_in_day") == []


def test_a_call_is_on_a_sunday_by_the_accounts_local_date(fresh_db):
    add_account(fresh_db, "A1")  # Chicago; 2026-03-08 is a Sunday, and the day the clocks go forward
    add_call(fresh_db, "sat", "A1", datetime(2026, 3, 8, 5, 59, 59, tzinfo=UTC))  # Sat 23:59:59 CST
    add_call(fresh_db, "sun", "A1", datetime(2026, 3, 8, 6, 0, 0, tzinfo=UTC))  # Sun 00:00:00 CST
    add_call(fresh_db, "sun_late", "A1", datetime(2026, 3, 9, 4, 59, 59, tzinfo=UTC))  # Sun 23:59:59 CDT, Monday in UTC
    add_call(fresh_db, "mon", "A1", datetime(2026, 3, 9, 5, 0, 0, tzinfo=UTC))  # Mon 00:00:00 CDT
    found = stored_signals(fresh_db, "sunday_call")
    assert [r[3] for r in found] == ["sun", "sun_late"]
    assert found[0][4] == "placed call on Sunday 2026-03-08 (local)"


def test_a_call_on_july_4th_local_time_is_a_holiday_call(fresh_db):
    add_account(fresh_db, "A1", tz="America/Los_Angeles")  # PDT = UTC-7
    add_call(fresh_db, "eve", "A1", datetime(2026, 7, 4, 6, 59, 59, tzinfo=UTC))  # 3 July 23:59:59 local
    add_call(fresh_db, "fourth", "A1", datetime(2026, 7, 4, 7, 0, 0, tzinfo=UTC))  # 4 July 00:00:00 local
    add_call(fresh_db, "late", "A1", datetime(2026, 7, 5, 6, 59, 59, tzinfo=UTC))  # 4 July 23:59:59 local, 5 July UTC
    add_call(fresh_db, "after", "A1", datetime(2026, 7, 6, 7, 0, 0, tzinfo=UTC))  # Monday 6 July
    found = {r[3]: r[4] for r in stored_signals(fresh_db, "holiday_call")}
    # 3 July 2026 is the federal observance of the 4th (a Saturday), so the eve counts too.
    assert set(found) == {"eve", "fourth", "late"}
    assert found["fourth"] == "placed call on Independence Day, 2026-07-04 (local)"
    assert "observed" in found["eve"]


def test_a_state_holiday_counts_only_for_accounts_in_that_state(fresh_db):
    # Patriots' Day (third Monday of April) is a Massachusetts holiday, not a federal one.
    add_account(fresh_db, "MA1", state="MA", tz="America/New_York")
    add_account(fresh_db, "TX1", state="TX", tz="America/New_York")
    add_account(fresh_db, "XX1", state="ZZ", tz="America/New_York")  # unknown state: federal only
    for acct in ("MA1", "TX1", "XX1"):
        add_call(fresh_db, f"{acct}-c", acct, datetime(2026, 4, 20, 15, 0, 0, tzinfo=UTC))
    found = stored_signals(fresh_db, "holiday_call")
    assert [(r[1], r[4]) for r in found] == [("MA1", "placed call on Patriots' Day, 2026-04-20 (local)")]


def test_many_calls_to_one_consumer_across_two_debts_is_a_signal_once(fresh_db):
    add_account(fresh_db, "A1", consumer_id="P1")
    add_account(fresh_db, "A2", consumer_id="P1")
    # Eight calls in five days, alternating debts: more than 7, across 2 accounts; a ninth and tenth
    # keep the consumer over the limit and must not repeat the signal.
    for i in range(10):
        add_call(fresh_db, f"c{i:02d}", "A1" if i % 2 == 0 else "A2", TUESDAY + timedelta(hours=12 * i), "conversation")
    found = stored_signals(fresh_db, "consumer_multi_debt", consumer_max_calls=7)
    assert [(r[2], r[3], r[4]) for r in found] == [
        ("P1", "c07", "8 placed calls to the consumer in 7 days across 2 accounts")]


def test_many_calls_to_one_debt_alone_is_not_a_multi_debt_signal(fresh_db):
    add_account(fresh_db, "A1", consumer_id="P1")
    add_account(fresh_db, "A2", consumer_id="P1")
    for i in range(8):
        add_call(fresh_db, f"c{i}", "A1", TUESDAY + timedelta(hours=12 * i), "conversation")
    assert stored_signals(fresh_db, "consumer_multi_debt", consumer_max_calls=7) == []


@pytest.mark.parametrize("last_offset, flagged", [(timedelta(days=7), True), (timedelta(days=7, seconds=1), False)])
def test_the_consumer_window_is_seven_days_of_elapsed_time_both_ends_included(fresh_db, last_offset, flagged):
    add_account(fresh_db, "A1", consumer_id="P1")
    add_account(fresh_db, "A2", consumer_id="P1")
    add_call(fresh_db, "first", "A2", TUESDAY, "conversation")
    for i in range(6):
        add_call(fresh_db, f"mid{i}", "A1", TUESDAY + timedelta(days=1, hours=i), "conversation")
    add_call(fresh_db, "last", "A1", TUESDAY + last_offset, "conversation")
    found = stored_signals(fresh_db, "consumer_multi_debt", consumer_max_calls=7)
    assert [r[3] for r in found] == (["last"] if flagged else [])


def test_the_consumer_threshold_is_configurable_and_checked(fresh_db, monkeypatch):
    add_account(fresh_db, "A1", consumer_id="P1")
    add_account(fresh_db, "A2", consumer_id="P1")
    for i in range(3):
        add_call(fresh_db, f"c{i}", "A1" if i % 2 else "A2", TUESDAY + timedelta(hours=i), "conversation")
    monkeypatch.setenv(signals.CONSUMER_MAX_CALLS_ENV, "2")
    assert [r[3] for r in stored_signals(fresh_db, "consumer_multi_debt")] == ["c2"]
    monkeypatch.setenv(signals.CONSUMER_MAX_CALLS_ENV, "lots")
    with pytest.raises(UserError, match="RISK_CONSUMER_MAX_CALLS"):
        signals.refresh(fresh_db)


def test_the_pipeline_stores_risk_signals_after_the_breaches(fresh_db):
    names = [name for name, _ in pipeline.STEPS]
    assert "risk_signals" in names
    if "breaches" in names:
        assert names.index("breaches") < names.index("risk_signals")
    add_account(fresh_db, "A1")
    add_call(fresh_db, "sun", "A1", datetime(2026, 3, 8, 18, 0, 0, tzinfo=UTC))
    target = dict(pipeline.STEPS)["risk_signals"]
    module, func = target.split(":")
    __import__(module, fromlist=[func]).__dict__[func](fresh_db)
    cur = fresh_db.cursor()
    assert cur.execute("select signal, contact_id from risk_signals").fetchall() == [("sunday_call", "sun")]
    cur.close()


def test_an_empty_database_stores_an_empty_signal_table(fresh_db):
    assert stored_signals(fresh_db) == []


def test_each_listed_signal_names_the_agent_of_its_call(demo_db):
    """The signal list reads the agent stored with each signal: it must be the agent of the signal's contact."""
    from analysis.compliance import workspace
    from analysis.db import connect
    from analysis.filters import ALL

    con = connect(demo_db, read_only=True)
    try:
        listed = workspace.signal_list(con, ALL)
        agents = dict(con.cursor().execute("select contact_id, agent_id from contacts").fetchall())
    finally:
        con.close()
    assert len(listed) > 100 and listed["agent_id"].notna().any()
    assert [None if a != a else a for a in listed["agent_id"]] == [agents[c] for c in listed["contact_id"]]


def test_signals_stored_by_an_older_version_ask_for_a_refresh_instead_of_failing(demo_db_copy):
    """A database whose risk_signals predates agent_id: the page's readiness check says no, so the page
    shows its "run refresh" message instead of DuckDB's binder error."""
    from analysis.compliance import workspace
    from analysis.db import connect

    con = connect(demo_db_copy)
    try:
        assert workspace.signals_ready(con)
        con.execute("alter table risk_signals drop column agent_id")
        assert not workspace.signals_ready(con)
    finally:
        con.close()


def test_the_pages_signal_total_and_first_rows_are_the_whole_lists(demo_db):
    """The page counts the signals from signal_counts and lists the first rows by a limit in the query
    (the whole list is 1.9M rows at 1M accounts): both must be the whole list's, for any filter and choice."""
    from datetime import date

    import pandas as pd

    from analysis.compliance import workspace
    from analysis.db import connect
    from analysis.filters import Filters

    con = connect(demo_db, read_only=True)
    try:
        team = con.cursor().execute("select min(team) from accounts").fetchall()[0][0]
        names = [r[0] for r in con.cursor().execute("select distinct signal from risk_signals order by 1").fetchall()]
        assert len(names) >= 2
        checked = 0
        for f in (Filters(), Filters(teams=(team,)), Filters(start=date(2026, 6, 1)), Filters(channels=("sms",))):
            for chosen in ((), (names[0],), tuple(names[1:])):
                every = workspace.signal_list(con, f, chosen)
                assert workspace.signal_total(workspace.signal_counts(con, f), chosen) == len(every)
                first = workspace.signal_list(con, f, chosen, 7)
                pd.testing.assert_frame_equal(first, every.head(7))
                checked += len(every) > 7
    finally:
        con.close()
    assert checked >= 6  # most cases are longer than the page's cut
