"""Contact headroom (issue 24, SPEC section 4 `plan`): each rule kind's bound at its boundaries.

Every window is checked two ways: against the figures the rule gives by hand (the 7th and 8th call,
the cooldown's last second, quiet hours in the consumer's zone and the phone's), and by the audit
itself: one more contact at `contact_from` and at `contact_until` breaches nothing, and one a second
outside the window breaches the rule that set that end. Times are written as local wall times and
turned into instants with Python's zoneinfo, independently of DuckDB's time-zone code.
"""
from __future__ import annotations

import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from analysis.compliance.engine import find_breaches
from analysis.compliance.rules import load_rules
from analysis.plan.headroom import headroom
from tests.test_rules_engine import add_account, add_contact, at

NY = "America/New_York"
LA = "America/Los_Angeles"
HNL = "Pacific/Honolulu"
DAY = date(2026, 1, 12)  # a Monday, no DST change near it
RULES = load_rules()
NEW = "~new"  # sorts after every other id: at the same instant it comes last in contact order


def calls_before(con, days: int, day: date = DAY, tz=NY, account_id="A", outcome=None):
    """One outbound call at 12:00 local on each of the `days` local dates before `day`."""
    for i in range(1, days + 1):
        d = (day - timedelta(days=i)).isoformat()
        add_contact(con, f"{account_id}-c{i}", at(f"{d} 12:00:00", tz), outcome=outcome, account_id=account_id)


def window(con, channel="call", account_id="A", day=DAY, rules=RULES) -> pd.Series:
    h = headroom(con, day, rules)
    return h[(h.account_id == account_id) & (h.channel == channel)].iloc[0]


def breaches_of_new(con, ts, channel, account_id="A", rules=RULES) -> set[str]:
    """The rules one more outbound contact at `ts` breaches, by the audit; the contact is removed again."""
    add_contact(con, NEW, ts, channel=channel, account_id=account_id)
    try:
        found = find_breaches(con, rules)
        return set(found.loc[found.contact_id == NEW, "rule_id"])
    finally:
        con.execute("delete from contacts where contact_id = ?", [NEW])


def assert_window_exact(con, channel="call", account_id="A", day=DAY, rules=RULES):
    """The audit agrees with the window: both ends breach nothing; a second outside each end that a
    rule set breaches that rule."""
    row = window(con, channel, account_id, day, rules)
    assert row.offered
    start, end = row.contact_from.to_pydatetime(), row.contact_until.to_pydatetime()
    assert start <= end
    assert breaches_of_new(con, start, channel, account_id, rules) == set()
    assert breaches_of_new(con, end, channel, account_id, rules) == set()
    if isinstance(row.from_rule, str):
        assert row.from_rule in breaches_of_new(con, start - timedelta(seconds=1), channel, account_id, rules)
    if isinstance(row.until_rule, str):
        assert row.until_rule in breaches_of_new(con, end + timedelta(seconds=1), channel, account_id, rules)
    return row


# --- windowed caps -----------------------------------------------------------------------------

def test_six_counted_calls_in_the_window_leave_one_call_for_the_whole_day(fresh_db):
    add_account(fresh_db)
    calls_before(fresh_db, 6)
    row = assert_window_exact(fresh_db)
    assert row.calls_left == 1
    assert row.contact_from == at("2026-01-12 08:00:00") and row.contact_until == at("2026-01-12 20:59:59")


def test_seven_counted_calls_in_the_window_leave_no_call_that_day_and_the_next_day_has_one(fresh_db):
    add_account(fresh_db)
    calls_before(fresh_db, 7)  # local days DAY-7 .. DAY-1: the 7-day window of DAY holds DAY-6 .. DAY-1 (six)
    assert window(fresh_db).calls_left == 1
    add_contact(fresh_db, "same-day", at("2026-01-12 07:30:00"))  # the 7th in DAY's window, before the hours
    row = window(fresh_db)
    assert not row.offered and row.blocked_by == "regf_7in7"
    assert breaches_of_new(fresh_db, at("2026-01-12 12:00:00"), "call") == {"regf_7in7"}
    # the next day's window drops DAY-6: one call left again
    nxt = assert_window_exact(fresh_db, day=DAY + timedelta(days=1))
    assert nxt.calls_left == 1


def test_a_call_made_on_the_day_ends_the_window_at_its_instant(fresh_db):
    add_account(fresh_db)
    calls_before(fresh_db, 5)
    add_contact(fresh_db, "d1", at("2026-01-12 09:00:00"))
    add_contact(fresh_db, "d2", at("2026-01-12 10:15:30.250"))  # the 7th: a new call must come before it
    row = assert_window_exact(fresh_db)
    assert row.calls_left == 2  # at the start of the day
    assert row.contact_until == at("2026-01-12 10:15:30") and row.until_rule == "regf_7in7"


def test_busy_and_not_connected_calls_and_consent_windows_do_not_use_the_cap(fresh_db):
    add_account(fresh_db)
    calls_before(fresh_db, 3, outcome="busy")
    for i, day in enumerate(("2026-01-09", "2026-01-10", "2026-01-11"), start=1):
        add_contact(fresh_db, f"k{i}", at(f"{day} 13:00:00"))
    fresh_db.execute("insert into consents values ('A', ?)", [at("2026-01-09 12:30:00")])  # covers k1..k3
    calls_before(fresh_db, 3)  # three counted calls at 12:00 on DAY-1..DAY-3 (before the consent on DAY-3)
    row = assert_window_exact(fresh_db)
    # counted: the 12:00 calls of DAY-3 (before the consent) only; DAY-2, DAY-1 12:00 are in the window
    counted = 1
    assert row.calls_left == 7 - counted


@pytest.mark.parametrize("state, vulnerable, cap, rule", [
    ("MA", None, 2, "state_ma_2in7"),
    (" ma ", None, 2, "state_ma_2in7"),
    ("NY", True, 3, "policy_vulnerable_3in7"),
])
def test_state_and_firm_caps_bound_the_window_at_their_own_cap(fresh_db, state, vulnerable, cap, rule):
    add_account(fresh_db, state=state, vulnerable=vulnerable)
    calls_before(fresh_db, cap - 1)
    row = assert_window_exact(fresh_db)
    assert row.calls_left == 1
    assert rule in row.caps and "regf_7in7 " + str(7 - (cap - 1)) in row.caps
    add_contact(fresh_db, "one-more", at("2026-01-11 18:00:00"))
    row = window(fresh_db)
    assert not row.offered and row.blocked_by == rule and row.calls_left == 0
    # other channels are not calls: the caps leave them alone
    assert window(fresh_db, "sms").offered


# --- cooldown after a telephone conversation -----------------------------------------------------

def test_a_conversation_blocks_calls_through_its_seventh_local_day_and_not_the_eighth(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "conv", at("2026-01-06 15:00:00"), outcome="conversation")  # DAY is day 7
    row = window(fresh_db)
    assert not row.offered and row.blocked_by == "regf_post_conversation"
    assert row.cooldown_ends == at("2026-01-13 00:00:00")
    assert breaches_of_new(fresh_db, at("2026-01-12 20:59:59"), "call") == {"regf_post_conversation"}
    nxt = assert_window_exact(fresh_db, day=DAY + timedelta(days=1))  # day 8: the cooldown's last second has passed
    assert breaches_of_new(fresh_db, at("2026-01-12 23:59:59"), "call") == {"regf_post_conversation", "inconvenient_time"}
    assert nxt.offered and window(fresh_db, "sms").offered  # calls only


def test_a_conversation_on_the_day_ends_the_window_at_its_own_second(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "conv", at("2026-01-12 11:30:00"), direction="inbound", outcome="conversation")
    row = assert_window_exact(fresh_db)
    assert row.contact_until == at("2026-01-12 11:30:00") and row.until_rule == "regf_post_conversation"


# --- quiet hours ------------------------------------------------------------------------------

def test_the_window_is_the_consumers_local_hours(fresh_db):
    add_account(fresh_db, tz=LA)
    row = assert_window_exact(fresh_db, "email")
    assert row.contact_from == at("2026-01-12 08:00:00", LA) and row.contact_until == at("2026-01-12 20:59:59", LA)
    assert row.from_rule == "inconvenient_time" == row.until_rule


@pytest.mark.parametrize("tz, phone_tz, first, last", [
    (NY, LA, ("2026-01-12 08:00:00", LA), ("2026-01-12 20:59:59", NY)),
    (HNL, NY, ("2026-01-12 08:00:00", HNL), ("2026-01-12 20:59:59", NY)),
])
def test_a_phone_in_another_zone_narrows_the_window_to_hours_convenient_in_both(fresh_db, tz, phone_tz, first, last):
    add_account(fresh_db, tz=tz, phone_tz=phone_tz)
    row = assert_window_exact(fresh_db, "sms")
    assert row.contact_from == at(*first) and row.contact_until == at(*last)


def test_the_window_on_a_dst_change_day_follows_the_wall_clock(fresh_db):
    add_account(fresh_db)
    day = date(2026, 3, 8)  # clocks go forward at 02:00 in New York
    row = assert_window_exact(fresh_db, "call", day=day)
    assert row.contact_from == datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc)  # 08:00 EDT
    assert row.contact_until == datetime(2026, 3, 9, 0, 59, 59, tzinfo=timezone.utc)  # 20:59:59 EDT


# --- opt-outs and cease ---------------------------------------------------------------------------

def test_a_channel_opt_out_during_the_day_ends_that_channels_window_only(fresh_db):
    add_account(fresh_db)
    fresh_db.execute("insert into preferences values ('A', 'sms', ?)", [at("2026-01-12 12:00:00.500")])
    row = assert_window_exact(fresh_db, "sms")
    assert row.contact_until == at("2026-01-12 12:00:00") and row.until_rule == "medium_opt_out"
    assert window(fresh_db, "call").contact_until == at("2026-01-12 20:59:59")


def test_a_cease_request_before_the_day_blocks_every_channel(fresh_db):
    add_account(fresh_db)
    fresh_db.execute("insert into preferences values ('A', 'all', ?)", [at("2026-01-10 09:00:00")])
    h = headroom(fresh_db, DAY)
    assert not h.offered.any() and set(h.blocked_by) == {"cease_communication"}
    for channel in ("call", "sms", "email"):
        assert "cease_communication" in breaches_of_new(fresh_db, at("2026-01-12 12:00:00"), channel)


# --- a firm's own rule, and accounts not yet placed ---------------------------------------------------

def test_a_firms_own_sms_cap_bounds_sms_from_configuration(fresh_db):
    from analysis.compliance.rules import parse_rules

    data = {"name": "firm", "version": "1", "rule": [{
        "id": "firm_sms_2in7", "kind": "windowed_cap", "title": "SMS cap", "citation": "firm", "text": "at most 2 SMS",
        "channels": ["sms"], "directions": ["outbound"], "window_days": 7, "cap": 2}]}
    rules = parse_rules(data)
    add_account(fresh_db)
    add_contact(fresh_db, "s1", at("2026-01-10 10:00:00"), channel="sms")
    row = assert_window_exact(fresh_db, "sms", rules=rules)
    assert row.calls_left == 1
    add_contact(fresh_db, "s2", at("2026-01-12 09:00:00"), channel="sms")
    row = assert_window_exact(fresh_db, "sms", rules=rules)
    assert row.contact_until == at("2026-01-12 08:59:59") and row.until_rule == "firm_sms_2in7"


def test_accounts_placed_after_the_day_have_no_row(fresh_db):
    add_account(fresh_db)
    fresh_db.execute("update accounts set placed_date = date '2026-02-01'")
    assert headroom(fresh_db, DAY).empty


# --- every window of a synthetic book, checked by the audit ----------------------------------------

def _as_contacts(frame: pd.DataFrame, when: pd.Series, tag: str) -> pd.DataFrame:
    return pd.DataFrame({
        "contact_id": [f"~{tag}-{i}" for i in range(len(frame))], "account_id": frame.account_id.to_numpy(),
        "ts": when.to_numpy(), "channel": frame.channel.to_numpy(), "direction": "outbound",
        "outcome": ["no_answer" if c == "call" else "sent" for c in frame.channel]})


def _audit_added(con, added: pd.DataFrame) -> pd.Series:
    """The rules each added contact breaches by the audit (contact_id -> set); the contacts are removed again."""
    con.register("added", added)
    try:
        con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) "
                    "select contact_id, account_id, ts, channel, direction, outcome from added")
        found = find_breaches(con)
    finally:
        con.execute("delete from contacts where contact_id like '~%'")
        con.unregister("added")
    return found[found.contact_id.str.startswith("~")].groupby("contact_id").rule_id.agg(set)


@pytest.mark.parametrize("per_account, day", [(125, date(2026, 2, 20)), (125, date(2026, 3, 29)), (10, date(2026, 3, 8))])
def test_every_window_of_a_synthetic_book_is_exact_by_the_audit(fresh_db, per_account, day):
    """bench_audit's synthetic book (skewed volumes, ties at whole minutes, phones in other zones,
    consents, opt-outs, cease requests; dense: over half its contacts breach), planned mid-history (its
    later contacts in place: they come after the new contact, so they cannot change its breaches), and
    on a DST change. One more contact at every window's start, and at every end, breaches nothing (each
    set added at once: with the default rules one account's rows on different channels cannot meet).
    Then, without the exceptions the plan never claims (inbound messages a contact could reply to,
    consent windows), one a second outside an end that a rule set breaches that rule: the window is
    not narrower than it must be."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.bench_audit import generate

    generate(fresh_db, 40_000 if per_account > 10 else 8_000, seed=5, per_account=per_account)
    room = headroom(fresh_db, day)
    offered = room[room.offered]
    assert 0 < len(offered) < len(room), "the book should leave some windows empty and others not"
    for edge in ("contact_from", "contact_until"):
        breached = _audit_added(fresh_db, _as_contacts(offered, offered[edge], edge))
        assert breached.empty, breached.head()

    fresh_db.execute("delete from contacts where direction = 'inbound'")
    fresh_db.execute("delete from consents")
    room = headroom(fresh_db, day)
    offered = room[room.offered]
    if per_account > 10:  # the dense book ends windows mid-day by caps and cooldowns, not only by the hours
        assert {"regf_7in7", "regf_post_conversation", "inconvenient_time"} <= set(offered["until_rule"].dropna())
    for edge, rule_col, step in (("contact_until", "until_rule", 1), ("contact_from", "from_rule", -1)):
        bound = offered[offered[rule_col].notna()]
        assert len(bound) > 0
        breached = _audit_added(fresh_db, _as_contacts(bound, bound[edge] + pd.Timedelta(seconds=step), edge))
        ids = [f"~{edge}-{i}" for i in range(len(bound))]
        missed = [(cid, rule) for cid, rule in zip(ids, bound[rule_col]) if rule not in breached.get(cid, set())]
        assert not missed, (len(missed), missed[:5])
