"""The seven contact rules of SPEC section 2, each boundary tested on both sides at one second.

Golden tiny tables in an in-memory DuckDB; the rules run exactly as the audit runs them. Times are
written as local wall times and turned into instants with Python's zoneinfo, independently of
DuckDB's time-zone code, so a mistake in either shows up here.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analysis.compliance.engine import COLUMNS, find_breaches
from analysis.compliance.rules import load_rules

NY = "America/New_York"
PHX = "America/Phoenix"
LA = "America/Los_Angeles"
RULES = load_rules()


def at(local: str, tz: str = NY, fold: int = 0) -> datetime:
    """The instant (UTC) of a wall time in a zone."""
    naive = datetime.fromisoformat(local)
    return naive.replace(tzinfo=ZoneInfo(tz), fold=fold).astimezone(timezone.utc)


def add_account(con, account_id="A", tz=NY, phone_tz=None, state=None, vulnerable=None):
    con.execute(
        "insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, phone_timezone, state, vulnerable)"
        " values (?, ?, date '2026-01-01', 100, ?, ?, ?, ?)",
        [account_id, "P-" + account_id, tz, phone_tz, state, vulnerable],
    )


def add_contact(con, contact_id, ts, channel="call", direction="outbound", outcome=None, account_id="A"):
    if outcome is None:
        outcome = "no_answer" if channel == "call" else ("sent" if direction == "outbound" else "received")
    con.execute(
        "insert into contacts (contact_id, account_id, ts, channel, direction, outcome) values (?, ?, ?, ?, ?, ?)",
        [contact_id, account_id, ts, channel, direction, outcome],
    )


def breaching(con, rule_id, rules=None) -> list[str]:
    """Contact ids breaching one rule, in contact order."""
    rules = (rules or RULES).only(rule_id)
    found = find_breaches(con, rules)
    assert set(found["rule_id"]) <= {rule_id}
    return list(found["contact_id"])


def calls_on_days(con, first_day: str, days: int, time="12:00:00", tz=NY, prefix="c", account_id="A", outcome=None):
    """One outbound call per local day at a fixed wall time; ids c1, c2, ... in order."""
    start = datetime.fromisoformat(first_day)
    ids = []
    for i in range(days):
        day = (start + timedelta(days=i)).date().isoformat()
        cid = f"{prefix}{i + 1}"
        add_contact(con, cid, at(f"{day} {time}", tz), outcome=outcome, account_id=account_id)
        ids.append(cid)
    return ids


# --- rule 1: regf_7in7 ------------------------------------------------------------------------

def test_the_eighth_counted_call_in_seven_local_days_breaches_and_the_seventh_does_not(fresh_db):
    add_account(fresh_db)
    calls_on_days(fresh_db, "2026-01-05", 7)
    assert breaching(fresh_db, "regf_7in7") == []
    add_contact(fresh_db, "c8", at("2026-01-11 15:00:00"))
    assert breaching(fresh_db, "regf_7in7") == ["c8"]


@pytest.mark.parametrize("first_day", ["1969-12-28", "1969-12-29", "2025-12-27"])
def test_the_cap_counts_across_week_buckets_and_before_1970(fresh_db, first_day):
    # The windowed cap prunes by 7-day buckets of local day numbers (day 0 = 1970-01-01, so a bucket
    # starts on 1970-01-01 and on 2026-01-01) and numbers days before 1970 negatively; the eight
    # calls here straddle a bucket start. A second account with calls on the same days stays apart.
    add_account(fresh_db)
    add_account(fresh_db, "B")
    calls_on_days(fresh_db, first_day, 7)
    calls_on_days(fresh_db, first_day, 7, prefix="b", account_id="B")
    assert breaching(fresh_db, "regf_7in7") == []
    last = (datetime.fromisoformat(first_day) + timedelta(days=6)).date().isoformat()
    add_contact(fresh_db, "c8", at(f"{last} 15:00:00"))
    assert breaching(fresh_db, "regf_7in7") == ["c8"]


@pytest.mark.parametrize("last,breach", [("2026-01-11 23:59:59", True), ("2026-01-12 00:00:00", False)])
def test_the_window_edge_is_local_midnight_of_day_eight(fresh_db, last, breach):
    # The first call is at 23:59:59 on Jan 5; a call on Jan 11 still has it in its window
    # (Jan 5..11), a call at 00:00:00 on Jan 12 does not (Jan 6..12).
    add_account(fresh_db)
    add_contact(fresh_db, "c1", at("2026-01-05 23:59:59"))
    for i, day in enumerate(["06", "07", "08", "09", "10", "11"], start=2):
        add_contact(fresh_db, f"c{i}", at(f"2026-01-{day} 12:00:00"))
    add_contact(fresh_db, "x", at(last))
    assert breaching(fresh_db, "regf_7in7") == (["x"] if breach else [])


def test_the_window_is_taken_in_local_dates_not_utc_dates(fresh_db):
    # 20:00 in New York on Jan 11 is Jan 12 in UTC; locally it is still day 7 of the window.
    add_account(fresh_db)
    calls_on_days(fresh_db, "2026-01-05", 7, time="09:00:00")
    add_contact(fresh_db, "evening", at("2026-01-11 20:00:00"))
    assert at("2026-01-11 20:00:00").date().isoformat() == "2026-01-12"
    assert breaching(fresh_db, "regf_7in7") == ["evening"]


@pytest.mark.parametrize("outcome", ["busy", "not_connected"])
def test_busy_and_not_connected_calls_are_not_counted(fresh_db, outcome):
    add_account(fresh_db)
    calls_on_days(fresh_db, "2026-01-05", 7)
    add_contact(fresh_db, "x", at("2026-01-11 18:00:00"), outcome=outcome)
    add_contact(fresh_db, "y", at("2026-01-11 19:00:00"), outcome=outcome)
    assert breaching(fresh_db, "regf_7in7") == []


@pytest.mark.parametrize("outcome", ["no_answer", "voicemail", "conversation", "third_party", "dropped"])
def test_every_other_call_outcome_is_counted(fresh_db, outcome):
    add_account(fresh_db)
    calls_on_days(fresh_db, "2026-01-05", 7)
    add_contact(fresh_db, "x", at("2026-01-11 18:00:00"), outcome=outcome)
    assert breaching(fresh_db, "regf_7in7") == ["x"]


def test_inbound_calls_and_other_channels_are_not_placed_calls(fresh_db):
    add_account(fresh_db)
    calls_on_days(fresh_db, "2026-01-05", 7)
    add_contact(fresh_db, "in", at("2026-01-11 18:00:00"), direction="inbound", outcome="conversation")
    add_contact(fresh_db, "sms", at("2026-01-11 18:30:00"), channel="sms")
    add_contact(fresh_db, "letter", at("2026-01-11 18:40:00"), channel="letter")
    assert breaching(fresh_db, "regf_7in7") == []


def test_tied_timestamps_are_ordered_by_contact_id_as_text(fresh_db):
    # "c-10" sorts before "c-9" as text, so at the same instant "c-9" is the eighth call.
    add_account(fresh_db)
    for i, day in enumerate(["05", "06", "07", "08", "09", "10"], start=1):
        add_contact(fresh_db, f"c-{i}", at(f"2026-01-{day} 12:00:00"))
    same = at("2026-01-11 12:00:00")
    add_contact(fresh_db, "c-9", same)
    add_contact(fresh_db, "c-10", same)
    assert breaching(fresh_db, "regf_7in7") == ["c-9"]


def test_window_evidence_lists_the_counted_calls_of_the_window_in_contact_order(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "old", at("2026-01-04 12:00:00"))  # outside the window of Jan 5..11
    ids = calls_on_days(fresh_db, "2026-01-05", 7)
    add_contact(fresh_db, "busy", at("2026-01-11 13:00:00"), outcome="busy")
    add_contact(fresh_db, "c8", at("2026-01-11 15:00:00"))
    add_contact(fresh_db, "c9", at("2026-01-11 16:00:00"))
    found = find_breaches(fresh_db, RULES.only("regf_7in7"))
    assert list(found["contact_id"]) == ["c8", "c9"]
    ev = {row.contact_id: json.loads(row.evidence) for row in found.itertuples()}
    assert ev["c8"] == {"contacts": ids + ["c8"]}
    assert ev["c9"] == {"contacts": ids + ["c8", "c9"]}
    assert "more than the cap of 7" in found.set_index("contact_id").loc["c8", "explanation"]


def test_march_dst_change_new_york_local_dates(fresh_db):
    # DST starts 2026-03-08 02:00 EST. Local midnight of Mar 9 is 04:00 UTC (EDT), not 05:00.
    add_account(fresh_db)
    calls_on_days(fresh_db, "2026-03-02", 7, time="00:00:00")  # Mar 2..8 at local midnight
    assert at("2026-03-08 23:59:59") == datetime(2026, 3, 9, 3, 59, 59, tzinfo=timezone.utc)
    add_contact(fresh_db, "before", at("2026-03-08 23:59:59"))  # Mar 8: 8 calls in Mar 2..8
    add_contact(fresh_db, "after", at("2026-03-09 00:00:00"))   # Mar 9: window Mar 3..9, 8 calls (c2..c7, before, after)
    add_contact(fresh_db, "next_day", at("2026-03-10 00:00:00"))  # Mar 10: window Mar 4..10: c3..c7, before, after, next_day = 8
    assert breaching(fresh_db, "regf_7in7") == ["before", "after", "next_day"]


@pytest.mark.parametrize("tz,first_day,instant,breach", [
    # DST starts 2026-03-08 02:00 EST: local midnight of Mar 9 is 04:00 UTC (EDT). With a fixed
    # EST offset 04:00:00 UTC would still be Mar 8 and breach.
    (NY, "2026-03-02", datetime(2026, 3, 9, 3, 59, 59, tzinfo=timezone.utc), True),   # 23:59:59 EDT Mar 8
    (NY, "2026-03-02", datetime(2026, 3, 9, 4, 0, 0, tzinfo=timezone.utc), False),    # 00:00:00 EDT Mar 9
    # DST ends 2026-11-01 02:00 EDT: local midnight of Nov 2 is 05:00 UTC (EST), not 04:00.
    (NY, "2026-10-26", datetime(2026, 11, 2, 4, 59, 59, tzinfo=timezone.utc), True),  # 23:59:59 EST Nov 1
    (NY, "2026-10-26", datetime(2026, 11, 2, 5, 0, 0, tzinfo=timezone.utc), False),   # 00:00:00 EST Nov 2
    # Phoenix keeps MST all year: local midnight of Mar 9 stays at 07:00 UTC.
    (PHX, "2026-03-02", datetime(2026, 3, 9, 6, 59, 59, tzinfo=timezone.utc), True),
    (PHX, "2026-03-02", datetime(2026, 3, 9, 7, 0, 0, tzinfo=timezone.utc), False),
])
def test_local_midnight_at_the_dst_changes_and_in_phoenix(fresh_db, tz, first_day, instant, breach):
    add_account(fresh_db, tz=tz)
    calls_on_days(fresh_db, first_day, 7, time="12:00:00", tz=tz)
    add_contact(fresh_db, "x", instant)
    assert breaching(fresh_db, "regf_7in7") == (["x"] if breach else [])


def test_calls_of_other_accounts_do_not_count(fresh_db):
    add_account(fresh_db, "A")
    add_account(fresh_db, "B")
    calls_on_days(fresh_db, "2026-01-05", 4, account_id="A", prefix="a")
    calls_on_days(fresh_db, "2026-01-05", 4, account_id="B", prefix="b")
    assert breaching(fresh_db, "regf_7in7") == []


# --- consent windows (shared by rules 1, 2, 6, 7) -------------------------------------------

def test_consent_window_runs_from_the_consent_to_the_end_of_local_day_seven(fresh_db):
    # Cap 0 makes every counted call a breach, so the breaches are exactly the counted calls.
    rules = RULES.with_rule("regf_7in7", cap=0)
    add_account(fresh_db)
    fresh_db.execute("insert into consents values ('A', ?)", [at("2026-03-02 15:00:00")])
    add_contact(fresh_db, "before_g", at("2026-03-02 14:59:59"))
    add_contact(fresh_db, "at_g", at("2026-03-02 15:00:00"))
    add_contact(fresh_db, "day1", at("2026-03-02 23:59:59"))
    add_contact(fresh_db, "day7_end", at("2026-03-08 23:59:59"))   # d(G)+6, across the DST change
    add_contact(fresh_db, "day8_start", at("2026-03-09 00:00:00"))  # d(G)+7
    assert breaching(fresh_db, "regf_7in7", rules) == ["before_g", "day8_start"]


def test_consent_day_is_the_local_date_of_the_consent(fresh_db):
    # 23:30 in New York on Mar 2 is Mar 3 in UTC; day 7 is Mar 8 locally.
    rules = RULES.with_rule("regf_7in7", cap=0)
    add_account(fresh_db)
    fresh_db.execute("insert into consents values ('A', ?)", [at("2026-03-02 23:30:00")])
    add_contact(fresh_db, "day7", at("2026-03-08 23:59:59"))
    add_contact(fresh_db, "day8", at("2026-03-09 00:00:00"))
    assert breaching(fresh_db, "regf_7in7", rules) == ["day8"]


def test_consent_windows_keep_calls_out_of_the_seven_in_seven_count(fresh_db):
    add_account(fresh_db)
    calls_on_days(fresh_db, "2026-01-05", 7, time="10:00:00")
    fresh_db.execute("insert into consents values ('A', ?)", [at("2026-01-11 11:00:00")])
    add_contact(fresh_db, "consented", at("2026-01-11 12:00:00"))
    assert breaching(fresh_db, "regf_7in7") == []


def test_a_consent_of_another_account_does_not_apply(fresh_db):
    rules = RULES.with_rule("regf_7in7", cap=0)
    add_account(fresh_db, "A")
    add_account(fresh_db, "B")
    fresh_db.execute("insert into consents values ('B', ?)", [at("2026-03-02 08:00:00")])
    add_contact(fresh_db, "x", at("2026-03-02 12:00:00"))
    assert breaching(fresh_db, "regf_7in7", rules) == ["x"]


def test_an_earlier_consent_still_covers_when_a_later_one_exists(fresh_db):
    rules = RULES.with_rule("regf_7in7", cap=0)
    add_account(fresh_db)
    fresh_db.execute("insert into consents values ('A', ?), ('A', ?)",
                     [at("2026-03-02 08:00:00"), at("2026-03-04 08:00:00")])
    add_contact(fresh_db, "in_both", at("2026-03-05 12:00:00"))
    add_contact(fresh_db, "second_only", at("2026-03-09 12:00:00"))  # d(G2)+5
    add_contact(fresh_db, "after_both", at("2026-03-11 00:00:00"))   # d(G2)+7
    assert breaching(fresh_db, "regf_7in7", rules) == ["after_both"]


# --- rules 6 and 7: vulnerable and MA caps ---------------------------------------------------

def test_a_vulnerable_account_breaches_on_the_fourth_counted_call_in_seven_days(fresh_db):
    add_account(fresh_db, "V", vulnerable=True)
    add_account(fresh_db, "N", vulnerable=False)
    add_account(fresh_db, "U", vulnerable=None)
    for acc in ("V", "N", "U"):
        calls_on_days(fresh_db, "2026-01-05", 4, account_id=acc, prefix=acc)
    add_contact(fresh_db, "V5", at("2026-01-12 12:00:00"), account_id="V")  # window Jan 6..12: V2, V3, V4, V5 = 4
    assert breaching(fresh_db, "policy_vulnerable_3in7") == ["V4", "V5"]


@pytest.mark.parametrize("last,breach", [("2026-01-11 23:59:59", True), ("2026-01-12 00:00:00", False)])
def test_vulnerable_cap_counts_like_rule_one(fresh_db, last, breach):
    add_account(fresh_db, "V", vulnerable=True)
    calls_on_days(fresh_db, "2026-01-05", 3, time="09:00:00", account_id="V", prefix="V")
    add_contact(fresh_db, "busy", at("2026-01-07 13:00:00"), account_id="V", outcome="busy")
    add_contact(fresh_db, "x", at(last), account_id="V")
    # Jan 11: V1..V3 and x are 4 counted calls in Jan 5..11; Jan 12: V2, V3 and x in Jan 6..12.
    assert breaching(fresh_db, "policy_vulnerable_3in7") == (["x"] if breach else [])


@pytest.mark.parametrize("state", ["MA", " ma ", "Ma"])
def test_massachusetts_accounts_breach_on_the_third_counted_call(fresh_db, state):
    add_account(fresh_db, "M", state=state)
    add_account(fresh_db, "O", state="ME")
    add_account(fresh_db, "X", state=None)
    for acc in ("M", "O", "X"):
        calls_on_days(fresh_db, "2026-01-05", 3, account_id=acc, prefix=acc)
    assert breaching(fresh_db, "state_ma_2in7") == ["M3"]


def test_massachusetts_window_edge_at_local_midnight(fresh_db):
    add_account(fresh_db, "M", state="MA")
    add_contact(fresh_db, "m1", at("2026-01-05 09:00:00"), account_id="M")
    add_contact(fresh_db, "m2", at("2026-01-06 09:00:00"), account_id="M")
    add_contact(fresh_db, "m3", at("2026-01-12 00:00:00"), account_id="M")  # window Jan 6..12: m2, m3
    assert breaching(fresh_db, "state_ma_2in7") == []
    add_contact(fresh_db, "m0", at("2026-01-11 23:59:59"), account_id="M")  # window Jan 5..11: m1, m2, m0
    assert breaching(fresh_db, "state_ma_2in7") == ["m0", "m3"]


# --- rule 2: regf_post_conversation ----------------------------------------------------------

@pytest.mark.parametrize("direction", ["outbound", "inbound"])
def test_a_counted_call_through_day_seven_after_a_conversation_breaches(fresh_db, direction):
    add_account(fresh_db)
    add_contact(fresh_db, "v", at("2026-01-05 10:00:00"), direction=direction, outcome="conversation")
    add_contact(fresh_db, "day7", at("2026-01-11 23:59:59"))
    add_contact(fresh_db, "day8", at("2026-01-12 00:00:00"))
    assert breaching(fresh_db, "regf_post_conversation") == ["day7"]
    found = find_breaches(fresh_db, RULES.only("regf_post_conversation"))
    assert json.loads(found.loc[0, "evidence"])["conversation"] == "v"


def test_the_conversation_date_is_day_one_even_late_in_the_evening(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "v", at("2026-01-05 23:59:59"), outcome="conversation")
    add_contact(fresh_db, "day2", at("2026-01-06 00:00:00"))
    add_contact(fresh_db, "day7", at("2026-01-11 08:00:00"))
    add_contact(fresh_db, "day8", at("2026-01-12 08:00:00"))
    assert breaching(fresh_db, "regf_post_conversation") == ["day2", "day7"]


def test_a_call_at_the_same_instant_as_the_conversation_is_not_after_it(fresh_db):
    # Rule 2 compares timestamps as written: v.ts < c.ts strictly, contact ids do not break ties.
    add_account(fresh_db)
    t = at("2026-01-05 10:00:00")
    add_contact(fresh_db, "a", t, outcome="conversation")
    add_contact(fresh_db, "b", t)
    add_contact(fresh_db, "c", t + timedelta(seconds=1))
    assert breaching(fresh_db, "regf_post_conversation") == ["c"]


def test_a_second_conversation_call_is_itself_a_breach_and_busy_calls_are_not(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "v1", at("2026-01-05 10:00:00"), outcome="conversation")
    add_contact(fresh_db, "busy", at("2026-01-06 10:00:00"), outcome="busy")
    add_contact(fresh_db, "nc", at("2026-01-06 11:00:00"), outcome="not_connected")
    add_contact(fresh_db, "v2", at("2026-01-07 10:00:00"), outcome="conversation")
    add_contact(fresh_db, "sms", at("2026-01-07 11:00:00"), channel="sms")
    assert breaching(fresh_db, "regf_post_conversation") == ["v2"]


def test_a_later_conversation_restarts_the_cooldown(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "v1", at("2026-01-05 10:00:00"), outcome="conversation", direction="inbound")
    add_contact(fresh_db, "v2", at("2026-01-09 10:00:00"), outcome="conversation", direction="inbound")
    add_contact(fresh_db, "c", at("2026-01-15 23:59:59"))  # day 7 after v2, day 11 after v1
    add_contact(fresh_db, "d", at("2026-01-16 00:00:00"))  # day 8 after v2
    assert breaching(fresh_db, "regf_post_conversation") == ["c"]
    found = find_breaches(fresh_db, RULES.only("regf_post_conversation"))
    assert json.loads(found.loc[0, "evidence"])["conversation"] == "v2"


def test_sms_or_chat_conversations_are_not_telephone_conversations(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "chat", at("2026-01-05 10:00:00"), channel="chat", direction="inbound", outcome="conversation")
    add_contact(fresh_db, "c", at("2026-01-06 10:00:00"))
    assert breaching(fresh_db, "regf_post_conversation") == []


def test_a_call_in_a_consent_window_after_a_conversation_is_not_counted(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "v", at("2026-01-05 10:00:00"), outcome="conversation")
    fresh_db.execute("insert into consents values ('A', ?)", [at("2026-01-05 10:05:00")])
    add_contact(fresh_db, "consented", at("2026-01-06 10:00:00"))
    assert breaching(fresh_db, "regf_post_conversation") == []


def test_cooldown_days_across_the_november_dst_change(fresh_db):
    # Conversation on Nov 1 (25-hour day); day 7 ends at 23:59:59 EST on Nov 7 = 04:59:59 UTC Nov 8.
    add_account(fresh_db)
    add_contact(fresh_db, "v", at("2026-11-01 09:00:00"), outcome="conversation")
    add_contact(fresh_db, "day7", datetime(2026, 11, 8, 4, 59, 59, tzinfo=timezone.utc))
    add_contact(fresh_db, "day8", datetime(2026, 11, 8, 5, 0, 0, tzinfo=timezone.utc))
    assert breaching(fresh_db, "regf_post_conversation") == ["day7"]


def test_conversations_of_another_account_do_not_start_a_cooldown(fresh_db):
    add_account(fresh_db, "A")
    add_account(fresh_db, "B")
    add_contact(fresh_db, "v", at("2026-01-05 10:00:00"), outcome="conversation", account_id="B")
    add_contact(fresh_db, "c", at("2026-01-06 10:00:00"), account_id="A")
    assert breaching(fresh_db, "regf_post_conversation") == []


# --- rule 3: inconvenient_time ---------------------------------------------------------------

@pytest.mark.parametrize("local_time,breach", [
    ("07:59:59", True), ("08:00:00", False), ("20:59:59", False), ("21:00:00", True),
    ("00:00:00", True), ("23:59:59", True), ("12:00:00", False),
])
def test_quiet_hours_edges_in_the_account_zone(fresh_db, local_time, breach):
    add_account(fresh_db)
    add_contact(fresh_db, "x", at(f"2026-01-15 {local_time}"))
    assert breaching(fresh_db, "inconvenient_time") == (["x"] if breach else [])


@pytest.mark.parametrize("day,local_time,breach", [
    ("2026-03-08", "07:59:59", True), ("2026-03-08", "08:00:00", False),   # DST starts at 02:00 that day
    ("2026-03-08", "20:59:59", False), ("2026-03-08", "21:00:00", True),
    ("2026-11-01", "07:59:59", True), ("2026-11-01", "08:00:00", False),   # DST ends at 02:00 that day
    ("2026-11-01", "20:59:59", False), ("2026-11-01", "21:00:00", True),
])
def test_quiet_hours_on_the_dst_change_days_in_new_york(fresh_db, day, local_time, breach):
    add_account(fresh_db)
    add_contact(fresh_db, "x", at(f"{day} {local_time}"))
    assert breaching(fresh_db, "inconvenient_time") == (["x"] if breach else [])


def test_quiet_hours_use_the_offset_in_force_after_the_march_change(fresh_db):
    # 12:00:00 UTC on Mar 8 is 08:00:00 EDT (fine); with a stale EST offset it would look like 07:00.
    add_account(fresh_db)
    add_contact(fresh_db, "ok", datetime(2026, 3, 8, 12, 0, 0, tzinfo=timezone.utc))
    add_contact(fresh_db, "early", datetime(2026, 3, 8, 11, 59, 59, tzinfo=timezone.utc))
    assert breaching(fresh_db, "inconvenient_time") == ["early"]


@pytest.mark.parametrize("utc,breach", [((15, 0, 0), False), ((14, 59, 59), True), ((3, 59, 59), False), ((4, 0, 0), True)])
def test_phoenix_in_summer_stays_on_mst(fresh_db, utc, breach):
    # July: Phoenix is UTC-7 (no DST): 08:00 = 15:00 UTC, 21:00 = 04:00 UTC next day.
    add_account(fresh_db, tz=PHX)
    add_contact(fresh_db, "x", datetime(2026, 7, 15, *utc, tzinfo=timezone.utc))
    assert breaching(fresh_db, "inconvenient_time") == (["x"] if breach else [])


def test_a_phone_zone_that_differs_from_the_address_zone_must_also_be_convenient(fresh_db):
    add_account(fresh_db, "A", tz=NY, phone_tz=LA)
    add_contact(fresh_db, "la_early", at("2026-01-15 07:59:59", LA))   # 10:59:59 in New York
    add_contact(fresh_db, "la_ok", at("2026-01-15 08:00:00", LA))
    add_contact(fresh_db, "ny_late", at("2026-01-15 21:00:00", NY))    # 18:00 in Los Angeles
    add_contact(fresh_db, "ny_ok", at("2026-01-15 20:59:59", NY))
    assert breaching(fresh_db, "inconvenient_time") == ["la_early", "ny_late"]
    found = find_breaches(fresh_db, RULES.only("inconvenient_time")).set_index("contact_id")
    assert json.loads(found.loc["la_early", "evidence"]) == {"zone": LA, "local_time": "2026-01-15T07:59:59"}
    assert json.loads(found.loc["ny_late", "evidence"]) == {"zone": NY, "local_time": "2026-01-15T21:00:00"}


def test_without_a_phone_zone_only_the_account_zone_counts(fresh_db):
    add_account(fresh_db, "A", tz=NY, phone_tz=None)
    add_contact(fresh_db, "x", at("2026-01-15 08:30:00", NY))
    assert breaching(fresh_db, "inconvenient_time") == []


@pytest.mark.parametrize("channel,direction,breach", [
    ("call", "outbound", True), ("sms", "outbound", True), ("email", "outbound", True), ("chat", "outbound", True),
    ("letter", "outbound", False), ("call", "inbound", False), ("sms", "inbound", False),
])
def test_quiet_hours_cover_outbound_calls_sms_email_and_chat_only(fresh_db, channel, direction, breach):
    add_account(fresh_db)
    add_contact(fresh_db, "x", at("2026-01-15 06:00:00"), channel=channel, direction=direction)
    assert breaching(fresh_db, "inconvenient_time") == (["x"] if breach else [])


@pytest.mark.parametrize("outcome", ["busy", "not_connected", "no_answer"])
def test_quiet_hours_apply_to_calls_of_any_outcome(fresh_db, outcome):
    add_account(fresh_db)
    add_contact(fresh_db, "x", at("2026-01-15 06:00:00"), outcome=outcome)
    assert breaching(fresh_db, "inconvenient_time") == ["x"]


@pytest.mark.parametrize("gap,exempt", [(timedelta(hours=24), True), (timedelta(hours=24, seconds=1), False),
                                        (timedelta(minutes=5), True)])
def test_a_reply_within_24_hours_of_an_inbound_message_is_exempt(fresh_db, gap, exempt):
    add_account(fresh_db)
    i = at("2026-01-15 22:00:00")
    add_contact(fresh_db, "i", i, channel="sms", direction="inbound")
    add_contact(fresh_db, "o", i + gap, channel="sms")
    assert breaching(fresh_db, "inconvenient_time") == ([] if exempt else ["o"])


def test_the_reply_window_is_24_hours_of_elapsed_time_across_dst(fresh_db):
    # Mar 7 22:00 EST -> Mar 8 22:30 EDT is 23.5 hours elapsed (24.5 on the wall clock): exempt.
    add_account(fresh_db)
    add_contact(fresh_db, "i", at("2026-03-07 22:00:00"), channel="sms", direction="inbound")
    add_contact(fresh_db, "o", at("2026-03-08 22:30:00"), channel="sms")
    add_contact(fresh_db, "j", at("2026-10-31 22:00:00"), channel="email", direction="inbound")
    add_contact(fresh_db, "p", at("2026-11-01 21:30:00"), channel="email")  # 24.5 h elapsed: not exempt
    assert breaching(fresh_db, "inconvenient_time") == ["p"]


def test_another_outbound_on_the_channel_in_between_ends_the_exemption(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "i", at("2026-01-15 06:00:00"), channel="sms", direction="inbound")
    add_contact(fresh_db, "o1", at("2026-01-15 06:10:00"), channel="sms")
    add_contact(fresh_db, "o2", at("2026-01-15 06:20:00"), channel="sms")
    assert breaching(fresh_db, "inconvenient_time") == ["o2"]


def test_outbound_on_another_channel_in_between_does_not_end_the_exemption(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "i", at("2026-01-15 06:00:00"), channel="sms", direction="inbound")
    add_contact(fresh_db, "call", at("2026-01-15 06:05:00"), channel="call")
    add_contact(fresh_db, "o", at("2026-01-15 06:10:00"), channel="sms")
    add_contact(fresh_db, "i2", at("2026-01-15 06:12:00"), channel="sms", direction="inbound")
    add_contact(fresh_db, "o2", at("2026-01-15 06:15:00"), channel="sms")  # a new inbound renews it
    assert breaching(fresh_db, "inconvenient_time") == ["call"]


def test_an_inbound_message_on_another_channel_does_not_exempt(fresh_db):
    add_account(fresh_db)
    add_contact(fresh_db, "i", at("2026-01-15 06:00:00"), channel="call", direction="inbound", outcome="conversation")
    add_contact(fresh_db, "o", at("2026-01-15 06:10:00"), channel="sms")
    assert breaching(fresh_db, "inconvenient_time") == ["o"]


def test_an_inbound_message_of_another_account_does_not_exempt(fresh_db):
    add_account(fresh_db, "A")
    add_account(fresh_db, "B")
    add_contact(fresh_db, "i", at("2026-01-15 06:00:00"), channel="sms", direction="inbound", account_id="B")
    add_contact(fresh_db, "o", at("2026-01-15 06:10:00"), channel="sms", account_id="A")
    assert breaching(fresh_db, "inconvenient_time") == ["o"]


def test_a_reply_at_the_same_instant_as_the_inbound_is_exempt_only_if_it_comes_after_in_order(fresh_db):
    add_account(fresh_db)
    t = at("2026-01-15 06:00:00")
    add_contact(fresh_db, "a-in", t, channel="sms", direction="inbound")
    add_contact(fresh_db, "b-out", t, channel="sms")           # after a-in in contact order: exempt
    add_contact(fresh_db, "c-out", t, channel="email")
    add_contact(fresh_db, "d-in", t, channel="email", direction="inbound")  # after c-out: no exemption
    assert breaching(fresh_db, "inconvenient_time") == ["c-out"]


# --- rules 4 and 5: opt-outs -----------------------------------------------------------------

def test_a_contact_at_the_opt_out_instant_is_not_a_breach_one_second_later_is(fresh_db):
    add_account(fresh_db)
    t = at("2026-01-15 12:00:00")
    fresh_db.execute("insert into preferences values ('A', 'sms', ?)", [t])
    add_contact(fresh_db, "same", t, channel="sms")
    add_contact(fresh_db, "later", t + timedelta(seconds=1), channel="sms")
    add_contact(fresh_db, "before", t - timedelta(seconds=1), channel="sms")
    add_contact(fresh_db, "call", t + timedelta(seconds=1), channel="call")
    add_contact(fresh_db, "reply", t + timedelta(seconds=2), channel="sms", direction="inbound")
    assert breaching(fresh_db, "medium_opt_out") == ["later"]
    found = find_breaches(fresh_db, RULES.only("medium_opt_out"))
    assert json.loads(found.loc[0, "evidence"]) == {"opt_out": {"channel": "sms", "at": "2026-01-15T17:00:00Z"}}


def test_medium_opt_out_covers_letters_and_ignores_cease_rows(fresh_db):
    add_account(fresh_db)
    fresh_db.execute("insert into preferences values ('A', 'letter', ?), ('A', 'all', ?)",
                     [at("2026-01-10 12:00:00"), at("2026-01-10 12:00:00")])
    add_contact(fresh_db, "letter", at("2026-01-11 12:00:00"), channel="letter")
    add_contact(fresh_db, "email", at("2026-01-11 12:00:00"), channel="email")
    assert breaching(fresh_db, "medium_opt_out") == ["letter"]


def test_cease_communication_covers_every_outbound_channel_after_the_request(fresh_db):
    add_account(fresh_db)
    add_account(fresh_db, "B")
    t = at("2026-01-10 12:00:00")
    fresh_db.execute("insert into preferences values ('A', 'all', ?), ('A', 'sms', ?)", [t, at("2026-01-01 12:00:00")])
    add_contact(fresh_db, "same", t, channel="call")
    add_contact(fresh_db, "letter", t + timedelta(seconds=1), channel="letter")
    add_contact(fresh_db, "chat", t + timedelta(days=30), channel="chat")
    add_contact(fresh_db, "sms_before", t - timedelta(days=1), channel="sms")  # a medium opt-out, not cease
    add_contact(fresh_db, "inbound", t + timedelta(seconds=5), channel="call", direction="inbound", outcome="conversation")
    add_contact(fresh_db, "other_account", t + timedelta(seconds=5), account_id="B")
    assert breaching(fresh_db, "cease_communication") == ["letter", "chat"]
    found = find_breaches(fresh_db, RULES.only("cease_communication"))
    assert json.loads(found.loc[0, "evidence"]) == {"opt_out": {"channel": "all", "at": "2026-01-10T17:00:00Z"}}


def test_the_earliest_of_several_opt_outs_applies(fresh_db):
    add_account(fresh_db)
    fresh_db.execute("insert into preferences values ('A', 'email', ?), ('A', 'email', ?)",
                     [at("2026-01-10 12:00:00"), at("2026-01-20 12:00:00")])
    add_contact(fresh_db, "e", at("2026-01-15 12:00:00"), channel="email")
    assert breaching(fresh_db, "medium_opt_out") == ["e"]


# --- the whole output ------------------------------------------------------------------------

def test_output_columns_types_and_order(fresh_db):
    add_account(fresh_db, "M", state="MA", vulnerable=True)
    fresh_db.execute("insert into preferences values ('M', 'all', ?)", [at("2026-01-01 00:00:00")])
    add_contact(fresh_db, "b", at("2026-01-05 06:00:00"), account_id="M")
    add_contact(fresh_db, "a", at("2026-01-05 06:00:00"), account_id="M")
    found = find_breaches(fresh_db)
    assert list(found.columns) == COLUMNS
    assert str(found["ts"].dtype) == "datetime64[us, UTC]"
    assert found["local_ts"].dt.tz is None
    assert list(zip(found["contact_id"], found["rule_id"])) == [
        ("a", "cease_communication"), ("a", "inconvenient_time"),
        ("b", "cease_communication"), ("b", "inconvenient_time"),
    ]
    assert found.loc[0, "local_ts"] == pd.Timestamp("2026-01-05 06:00:00")
    assert found.loc[0, "ts"] == pd.Timestamp("2026-01-05 11:00:00", tz="UTC")
    assert all(isinstance(s, str) and s.endswith(".") for s in found["explanation"])


def test_no_data_gives_an_empty_frame_with_the_columns(fresh_db):
    found = find_breaches(fresh_db)
    assert list(found.columns) == COLUMNS and len(found) == 0


def test_local_dates_that_go_back_a_day_are_counted_by_the_definition(fresh_db):
    # America/Goose_Bay ended DST in 2010 at 00:01 ADT, back to 23:01 AST the day before, so a call
    # at 00:00:30 on Nov 7 comes before a call at 23:30 on Nov 6 in time. The later call's window
    # (Oct 31 .. Nov 6) does not hold the earlier one: 7 calls, no breach. Counting by position
    # in time alone would make it the eighth.
    tz = "America/Goose_Bay"
    add_account(fresh_db, tz=tz)
    calls_on_days(fresh_db, "2010-10-31", 6, time="12:00:00", tz=tz)
    w = datetime(2010, 11, 7, 3, 0, 30, tzinfo=timezone.utc)
    c = datetime(2010, 11, 7, 3, 30, 0, tzinfo=timezone.utc)
    assert w.astimezone(ZoneInfo(tz)).isoformat() == "2010-11-07T00:00:30-03:00"
    assert c.astimezone(ZoneInfo(tz)).isoformat() == "2010-11-06T23:30:00-04:00"
    add_contact(fresh_db, "w", w)
    add_contact(fresh_db, "c", c)
    assert breaching(fresh_db, "regf_7in7") == []
    add_contact(fresh_db, "d", at("2010-11-06 23:45:00", tz, fold=1))  # 8 in Oct 31..Nov 6 now
    assert breaching(fresh_db, "regf_7in7") == ["d"]
