"""Best hour and channel to reach each account (issue 24, `analysis.plan.reach`).

A hand-built database (the contract's schema, a few accounts in three segments) where the answers are
known by construction: who picks up at which local hour, who answers texts rather than calls, whose
payment follows a text within 72 hours. Times are written as local wall times and turned into instants
with Python's zoneinfo. Then the real demo: the shape of the frame, and the evening hours its generator
favours for calls.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from analysis import db
from analysis.plan import PLAN_CHANNELS
from analysis.plan.reach import PLAN_HOURS, reach
from analysis.schema import create_schema

AS_OF = date(2026, 6, 1)
UNTIL = datetime(2026, 6, 1, tzinfo=timezone.utc)
NY, LA, CHI = "America/New_York", "America/Los_Angeles", "America/Chicago"


def at(local: str, tz: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


class World:
    """A fresh database file with the contract's tables and helpers to write a history into it."""

    def __init__(self, path):
        self.con = duckdb.connect(str(path))
        self.con.execute("set TimeZone = 'UTC'")
        create_schema(self.con)
        self.n = 0

    def account(self, account_id, tz, portfolio, state, placed=date(2026, 1, 5), balance=1000):
        self.con.execute(
            "insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, state, portfolio)"
            " values (?, ?, ?, ?, ?, ?, ?)", [account_id, "P-" + account_id, placed, balance, tz, state, portfolio])

    def contact(self, account_id, ts, channel="call", direction="outbound", outcome=None):
        if outcome is None:
            outcome = "no_answer" if channel == "call" else ("sent" if direction == "outbound" else "received")
        self.n += 1
        self.con.execute(
            "insert into contacts (contact_id, account_id, ts, channel, direction, outcome) values (?, ?, ?, ?, ?, ?)",
            [f"C{self.n:06d}", account_id, ts, channel, direction, outcome])

    def payment(self, account_id, ts, amount=10):
        self.n += 1
        self.con.execute("insert into payments (payment_id, account_id, paid_at, amount) values (?, ?, ?, ?)",
                         [f"P{self.n:06d}", account_id, ts, amount])

    def calls(self, account_id, tz, hour, days, outcome):
        """One placed call at hour:20 local on each of `days` (days of May 2026)."""
        for d in days:
            self.contact(account_id, at(f"2026-05-{d:02d} {hour:02d}:20:00", tz), outcome=outcome)


def history(w: World) -> None:
    """Three segments (portfolio x state) whose best hours differ, and accounts that differ from theirs."""
    # Cards/NY: three accounts answer 3 calls in 5 at 14:00 and none at 10:00 or 18:00; EVENING answers at
    # 18:00, never at 09:00; NEW_NY has no history (its segment's figures).
    for i in range(3):
        a = f"MIDDAY{i}"
        w.account(a, NY, "Cards", "NY")
        w.calls(a, NY, 14, range(2, 5), "conversation")
        w.calls(a, NY, 14, range(5, 7), "no_answer")
        w.calls(a, NY, 18, range(2, 7), "no_answer")
        w.calls(a, NY, 10, range(2, 7), "voicemail")
    w.account("EVENING", NY, "Cards", "NY")
    w.calls("EVENING", NY, 18, range(1, 21, 2), "conversation")
    w.calls("EVENING", NY, 9, range(2, 22, 2), "no_answer")
    w.account("NEW_NY", NY, "Cards", "NY")
    # Utilities/CA: four accounts answer at 10:00 and never at 14:00.
    for i in range(4):
        a = f"MORNING{i}"
        w.account(a, LA, "Utilities", "CA")
        w.calls(a, LA, 10, range(3, 13), "conversation")
        w.calls(a, LA, 14, range(3, 13), "no_answer")
    w.account("NEW_CA", LA, "Utilities", "CA")
    # Telco/TX: TEXTER answers every text within half an hour and no call; CALLER the other way round.
    for a in ("TEXTER", "CALLER"):
        w.account(a, CHI, "Telco", "TX")
    for d in range(4, 12):
        sms = at(f"2026-05-{d:02d} 12:05:00", CHI)
        w.contact("TEXTER", sms, "sms")
        w.contact("TEXTER", sms + timedelta(minutes=30), "sms", "inbound")
        w.contact("CALLER", sms, "sms")
    w.calls("TEXTER", CHI, 12, range(4, 12), "no_answer")
    w.calls("CALLER", CHI, 12, range(4, 12), "conversation")
    # Not open at AS_OF: paid in full before it, or placed on it.
    w.account("PAID", NY, "Cards", "NY", balance=50)
    w.payment("PAID", at("2026-05-20 10:00:00", NY), 50)
    w.account("LATER", NY, "Cards", "NY", placed=AS_OF)


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path / "reach.duckdb")
    history(w)
    yield w
    w.con.close()


def row(df: pd.DataFrame, account_id: str, channel: str = "call") -> pd.Series:
    hit = df[(df.account_id == account_id) & (df.channel == channel)]
    assert len(hit) == 1, (account_id, channel, len(hit))
    return hit.iloc[0]


def check_shape(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["account_id", "channel", "reach_rate", "best_local_hour", "hours"]
    assert not df.duplicated(["account_id", "channel"]).any()
    assert set(df.channel) <= set(PLAN_CHANNELS)
    assert df.groupby("account_id").channel.count().eq(len(PLAN_CHANNELS)).all()
    assert df.reach_rate.dropna().between(0, 1).all()
    assert all(sorted(h) == list(PLAN_HOURS) for h in df.hours)
    assert all(isinstance(h, int) for h in df.hours.iloc[0])
    assert (df.best_local_hour == df.hours.map(lambda h: h[0])).all()


def test_one_row_per_open_account_and_channel_with_rates_between_0_and_1(world):
    df = reach(world.con, AS_OF)
    check_shape(df)
    assert "PAID" not in set(df.account_id) and "LATER" not in set(df.account_id)
    assert len(df) == 12 * len(PLAN_CHANNELS)
    # Nobody here was ever emailed: no evidence, no rate (rather than a made-up one); every other is one.
    assert df[df.channel == "email"].reach_rate.isna().all()
    assert df[df.channel != "email"].reach_rate.notna().all()


def test_an_account_that_answers_at_18_and_never_at_9_is_best_reached_at_18_against_its_segment(world):
    df = reach(world.con, AS_OF)
    evening = row(df, "EVENING")
    assert evening.best_local_hour == 18
    assert evening.hours.index(9) > evening.hours.index(14)  # its own misses at 09:00 rank that hour low
    assert row(df, "MIDDAY0").best_local_hour == 14  # its segment's hour, where it answers too


def test_an_account_without_history_gets_its_segments_best_hour_not_the_firms(world):
    df = reach(world.con, AS_OF)
    assert row(df, "NEW_NY").best_local_hour == 14
    assert row(df, "NEW_CA").best_local_hour == 10
    # The segment's own rate over all hours, for every channel, the same as any other account's prior.
    assert row(df, "NEW_NY").reach_rate < row(df, "EVENING").reach_rate


def test_the_channel_ranking_follows_the_responses(world):
    df = reach(world.con, AS_OF)
    assert row(df, "TEXTER", "sms").reach_rate > row(df, "TEXTER", "call").reach_rate
    assert row(df, "CALLER", "call").reach_rate > row(df, "CALLER", "sms").reach_rate
    assert row(df, "TEXTER", "sms").best_local_hour == 12


def test_a_payment_or_any_inbound_contact_within_72_hours_of_a_text_is_a_response(world):
    w = world
    for a, after, pay in (("FAST_PAY", timedelta(hours=71), True), ("CALLBACK", timedelta(hours=2), False),
                          ("SLOW_PAY", timedelta(hours=73), True), ("SILENT", None, False)):
        w.account(a, CHI, "Telco", "TX")
        for d in (1, 8, 15, 22):
            sms = at(f"2026-04-{d:02d} 11:00:00", CHI)
            w.contact(a, sms, "sms")
            if after is not None and pay:
                w.payment(a, sms + after)
            elif after is not None:
                w.contact(a, sms + after, "call", "inbound", "conversation")
    df = reach(w.con, AS_OF)
    silent = row(df, "SILENT", "sms").reach_rate
    assert row(df, "FAST_PAY", "sms").reach_rate > silent
    assert row(df, "CALLBACK", "sms").reach_rate > silent
    assert row(df, "SLOW_PAY", "sms").reach_rate == pytest.approx(silent)


def test_nothing_on_or_after_as_of_changes_the_figures(world):
    before = reach(world.con, AS_OF)
    w = world
    # The reverse of every habit, from as_of 00:00 UTC on: EVENING answers at 09:00, TEXTER calls, ...
    w.contact("EVENING", UNTIL, "call", outcome="conversation")
    for d in range(1, 20):
        w.contact("EVENING", at(f"2026-06-{d:02d} 09:20:00", NY), outcome="conversation")
        w.contact("NEW_NY", at(f"2026-06-{d:02d} 20:20:00", NY), outcome="conversation")
        w.contact("TEXTER", at(f"2026-06-{d:02d} 12:20:00", CHI), outcome="conversation")
        w.contact("CALLER", at(f"2026-06-{d:02d} 12:00:00", CHI), "sms")
        w.contact("CALLER", at(f"2026-06-{d:02d} 12:10:00", CHI), "sms", "inbound")
    # A text in the last 72 hours before as_of, answered after it, counts neither way.
    w.contact("SILENT_LATE", UNTIL - timedelta(hours=10), "sms")
    w.contact("CALLER", UNTIL - timedelta(hours=1), "sms")
    w.contact("CALLER", UNTIL + timedelta(minutes=5), "sms", "inbound")
    w.payment("MIDDAY0", UNTIL, 1000)  # pays off on as_of: still open at as_of
    after = reach(w.con, AS_OF)
    pd.testing.assert_frame_equal(before.drop(columns="hours"), after.drop(columns="hours"))
    assert before.hours.tolist() == after.hours.tolist()


def test_no_history_at_all_gives_empty_rates_and_the_hours_in_order(tmp_path):
    w = World(tmp_path / "empty.duckdb")
    w.account("A", NY, "Cards", "NY")
    df = reach(w.con, AS_OF)
    assert len(df) == len(PLAN_CHANNELS)
    assert df.reach_rate.isna().all()
    assert all(h == list(PLAN_HOURS) for h in df.hours)
    w.con.close()


def test_the_demo_favours_evening_calls_and_runs_on_a_read_only_connection(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        last = db.rows(con, "select cast(timezone('UTC', max(ts)) as date) from contacts")[0][0]
        as_of = last + timedelta(days=1)
        started = time.perf_counter()
        df = reach(con, as_of)
        print(f"reach on the test demo: {len(df)} rows in {time.perf_counter() - started:.2f} s")
    finally:
        con.close()
    check_shape(df)
    assert df.reach_rate.notna().all()
    # The demo's generator gives right-party conversations 0.19 at 17-20 local, 0.11 by day, 0.07 before 10.
    calls = df[df.channel == "call"]
    assert calls.best_local_hour.between(17, 20).mean() > 0.5
    assert (calls.best_local_hour >= 10).all()


def test_hours_are_the_accounts_local_hours_across_midnight_utc_and_a_dst_change(tmp_path):
    # Honolulu's 19:00 is 05:00 UTC the next day; New York's 19:00 is 23:00 UTC in summer, 00:00 UTC in
    # winter: a UTC hour, or one fixed offset, would split or move each.
    w = World(tmp_path / "zones.duckdb")
    w.account("HNL", "Pacific/Honolulu", "Cards", "HI")
    w.account("NYC", NY, "Cards", "NY")
    for month, days in (("2026-02", range(1, 9)), ("2026-04", range(1, 9))):
        for d in days:
            for a, tz in (("HNL", "Pacific/Honolulu"), ("NYC", NY)):
                w.contact(a, at(f"{month}-{d:02d} 19:10:00", tz), outcome="conversation")
                w.contact(a, at(f"{month}-{d:02d} 11:10:00", tz), outcome="no_answer")
    df = reach(w.con, AS_OF)
    for a in ("HNL", "NYC"):
        assert row(df, a).best_local_hour == 19
        assert row(df, a).hours[-1] == 11  # never answered there: below the hours nobody was called at
    w.con.close()


def test_an_as_of_that_is_not_a_date_is_a_user_error(world):
    from analysis.errors import UserError

    with pytest.raises(UserError, match="as_of must be a date"):
        reach(world.con, datetime(2026, 6, 1))
    with pytest.raises(UserError, match="as_of must be a date"):
        reach(world.con, "2026-06-01")
