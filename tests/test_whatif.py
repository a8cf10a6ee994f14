"""Policy what-if (analysis/compliance/whatif.py): a stricter or looser rule moves the counts the right way."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from analysis.compliance import whatif
from analysis.errors import UserError

UTC = timezone.utc
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York


@pytest.fixture
def db(fresh_db):
    con = fresh_db
    con.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone) values
        ('A1', 'P1', '2026-01-01', 1000, 'America/New_York'), ('A2', 'P2', '2026-01-01', 1000, 'America/New_York')""")
    # A1: one unanswered call a day for 6 days (never more than 7 in 7). A2: 3 calls in 3 days.
    for i in range(6):
        con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) values (?, 'A1', ?, 'call', 'outbound', 'no_answer')",
                    [f"a{i + 1}", START + timedelta(days=i)])
    for i in range(3):
        con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) values (?, 'A2', ?, 'call', 'outbound', 'no_answer')",
                    [f"b{i + 1}", START + timedelta(days=i)])
    # Payments: A1 pays 100 ten days after its 6th call, and 40 sixty days later (outside 30 days);
    # A2 pays 25 a day after its 3rd call, then a 5 reversal.
    con.execute("""insert into payments values
        ('p1', 'A1', ?, 100, 'card'), ('p2', 'A1', ?, 40, 'card'),
        ('p3', 'A2', ?, 25, 'card'), ('p4', 'A2', ?, -5, 'card')""",
                [START + timedelta(days=15), START + timedelta(days=90), START + timedelta(days=3), START + timedelta(days=4)])
    return con


def by_scenario(df):
    return {r.scenario: (r.breaches, r.accounts, r.collected_amount) for r in df.itertuples()}


def test_the_rule_as_configured_flags_nothing_here_and_a_cap_of_4_flags_a5_and_a6(db):
    got = by_scenario(whatif.simulate(db, "regf_7in7", cap=4))
    assert got["current"] == (0, 0, 0.0)
    # a5 and a6 are the 5th and 6th counted calls in 7 days; A1's 100 comes within 30 days after them.
    assert got["what_if"] == (2, 1, 100.0)
    assert got["only_what_if"] == (2, 1, 100.0)
    assert got["only_current"] == (0, 0, 0.0)


def test_a_stricter_cap_never_flags_fewer_contacts_and_a_looser_one_never_more(db):
    flagged = [int(whatif.simulate(db, "regf_7in7", cap=c).set_index("scenario").loc["what_if", "breaches"]) for c in (7, 5, 3, 2, 1)]
    assert flagged == sorted(flagged)  # non-decreasing as the cap tightens
    # Within one 7-day window every call past the cap breaches: A1 has 6 calls, A2 has 3.
    assert flagged == [max(0, 6 - c) + max(0, 3 - c) for c in (7, 5, 3, 2, 1)] == [0, 1, 3, 5, 7]


def test_a_longer_window_flags_more_and_collections_count_each_payment_once(db):
    got = by_scenario(whatif.simulate(db, "regf_7in7", cap=2, window_days=3))
    # cap 2 in 3 days: a3..a6 on A1 (4 contacts) and b3 on A2 (1 contact).
    assert got["what_if"][:2] == (5, 2)
    # A1's 100 is within 30 days after a3..a6 but counts once; A2 nets 25 - 5 = 20.
    assert got["what_if"][2] == 120.0
    longer = by_scenario(whatif.simulate(db, "regf_7in7", cap=2, window_days=10))
    assert longer["what_if"][0] >= got["what_if"][0]


def test_a_shorter_cooldown_flags_fewer_calls_after_a_conversation(db):
    db.execute("update contacts set outcome = 'conversation' where contact_id = 'a1'")
    base = by_scenario(whatif.simulate(db, "regf_post_conversation"))
    shorter = by_scenario(whatif.simulate(db, "regf_post_conversation", window_days=3))
    assert base["current"][0] == 5  # a2..a6 are days 2..6 after the conversation
    assert shorter["what_if"][0] == 2  # a2, a3: days 2 and 3
    assert shorter["only_current"][0] == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"rule_id": "nope"}, "not in the rule set"),
    ({"rule_id": "inconvenient_time", "cap": 3}, "no cap"),
    ({"rule_id": "regf_7in7", "cap": -1}, "0 or more"),
    ({"rule_id": "regf_7in7", "window_days": 0}, "from 1 to 366"),
    ({"rule_id": "regf_post_conversation", "cap": 2}, "no cap"),
])
def test_a_change_the_rule_cannot_take_is_a_user_error(db, kwargs, message):
    with pytest.raises(UserError, match=message):
        whatif.simulate(db, **kwargs)


def test_the_changeable_rules_are_the_caps_and_cooldowns_of_the_rule_set():
    df = whatif.changeable_rules()
    assert {"regf_7in7", "regf_post_conversation", "policy_vulnerable_3in7", "state_ma_2in7"} <= set(df["rule_id"])
    assert "inconvenient_time" not in set(df["rule_id"])
    assert df.set_index("rule_id").loc["regf_7in7", "cap"] == 7
