"""QA phrase rules and vulnerability cues, on crafted turns, through the same refresh the pipeline runs."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from analysis import qa
from analysis.db import rows
from analysis.errors import UserError

UTC = timezone.utc
MIRANDA = "This is an attempt to collect a debt and any information obtained will be used for that purpose."


@pytest.fixture
def db(fresh_db):
    fresh_db.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone)
                        select 'A' || i, 'P' || i, date '2026-01-01', 100, 'America/New_York' from range(1, 6) t(i)""")
    return fresh_db


def add(con, cid, account, day, turns):
    con.execute("insert into conversations values (?, ?, ?, 'call', 'ag1', null)", [cid, account, datetime(2026, 2, day, 15, tzinfo=UTC)])
    for i, (speaker, text) in enumerate(turns, start=1):
        con.execute("insert into turns values (?, ?, ?, ?)", [cid, i, speaker, text])


def results(con) -> dict:
    return {(c, r): p for c, r, p in rows(con, "select conversation_id, rule_id, passed from qa_results")}


def test_mini_miranda_passes_in_the_agents_first_two_turns_of_the_first_conversation(db):
    add(db, "C1", "A1", 1, [("agent", "Hi, this is Sam from Northbridge."), ("customer", "Hello?"), ("agent", MIRANDA)])
    qa.refresh(db)
    assert results(db)[("C1", "mini_miranda")] is True
    hit = rows(db, "select turn, matched_text from qa_hits where rule_id = 'mini_miranda'")
    assert hit == [(3, "attempt to collect a debt"), (3, "any information obtained will be used for that purpose")]


def test_mini_miranda_said_only_in_the_agents_third_turn_is_too_late(db):
    add(db, "C1", "A1", 1, [("agent", "Hi."), ("customer", "Hi."), ("agent", "How are you?"), ("customer", "Fine."), ("agent", MIRANDA)])
    qa.refresh(db)
    assert results(db)[("C1", "mini_miranda")] is False
    assert rows(db, "select count(*) from qa_hits") == [(0,)]


def test_mini_miranda_is_not_required_after_the_accounts_first_conversation(db):
    add(db, "C2", "A2", 5, [("agent", "Hi, following up.")])
    add(db, "C1", "A2", 1, [("agent", MIRANDA)])
    qa.refresh(db)
    got = results(db)
    assert got[("C1", "mini_miranda")] is True
    assert ("C2", "mini_miranda") not in got


def test_the_customer_saying_the_disclosure_does_not_count(db):
    add(db, "C1", "A1", 1, [("agent", "Hello."), ("customer", MIRANDA)])
    qa.refresh(db)
    assert results(db)[("C1", "mini_miranda")] is False


@pytest.mark.parametrize("rule_id, text, matched", [
    ("threat_arrest", "If you don't pay today we will have you arrested.", "arrested"),
    ("threat_arrest", "You could go to jail for ignoring this debt.", "go to jail"),
    ("threat_arrest", "We will report you to the police for fraud.", "report you to the police"),
    ("false_legal_action", "We’ll take you to court tomorrow.", "We’ll take you to court"),
    ("false_legal_action", "We're going to garnish your wages by Friday.", "garnish your wages"),
    ("profanity", "Stop wasting my damn time.", "damn"),
    ("profanity", "This is bullshit, pay it.", "bullshit"),
])
def test_prohibited_language_by_the_agent_is_a_hit_with_its_turn_and_text(db, rule_id, text, matched):
    add(db, "C1", "A1", 1, [("agent", MIRANDA), ("customer", "Okay."), ("agent", text)])
    qa.refresh(db)
    assert results(db)[("C1", rule_id)] is False
    assert (rule_id, 3, matched) in rows(db, "select rule_id, turn, matched_text from qa_hits")


@pytest.mark.parametrize("text", [
    "We can set up a payment plan that works with your budget.",
    "If we can't agree something today it goes to the next stage.",
    "Would you be able to make a payment towards the balance today?",
    "I understand this is a difficult time.",
    "There is a passage in the letter about your rights.",  # 'ass' inside a word is not profanity
])
def test_ordinary_agent_language_is_not_prohibited(db, text):
    add(db, "C1", "A1", 1, [("agent", MIRANDA), ("agent", text)])
    qa.refresh(db)
    assert all(p for (c, r), p in results(db).items())
    assert rows(db, "select count(*) from qa_hits where rule_id <> 'mini_miranda'") == [(0,)]


def test_the_customer_swearing_is_not_an_agent_breach(db):
    add(db, "C1", "A1", 1, [("agent", MIRANDA), ("customer", "This is bullshit, damn you.")])
    qa.refresh(db)
    assert results(db)[("C1", "profanity")] is True


@pytest.mark.parametrize("driver, cue, text", [
    ("health", "illness", "I'm going through chemotherapy right now."),
    ("health", "illness", "I have been really unwell since March."),
    ("health", "hospital", "I've been in and out of hospital since the spring."),
    ("health", "mental_health", "My anxiety is really bad and these calls make it worse."),
    ("life_events", "bereavement", "My husband passed away last month."),
    ("life_events", "job_loss", "I lost my job and I'm struggling."),
    ("resilience", "benefits", "I'm on benefits at the moment."),
    ("resilience", "cant_afford_food", "Honestly, I can't afford food this week."),
    ("capability", "confusion", "Sorry, I'm confused about what this is."),
])
def test_vulnerability_cues_in_the_customers_words_flag_conversation_and_account(db, driver, cue, text):
    add(db, "C1", "A3", 1, [("agent", MIRANDA), ("customer", text)])
    qa.refresh(db)
    got = rows(db, "select conversation_id, account_id, turn, driver, cue from vulnerability_flags")
    assert ("C1", "A3", 2, driver, cue) in got


@pytest.mark.parametrize("text", [
    "I'm sick of these calls.",  # annoyance, not illness
    "I can make a payment on Friday when I get paid.",
    "Can you send me something in writing?",
])
def test_ordinary_customer_language_raises_no_vulnerability_cue(db, text):
    add(db, "C1", "A3", 1, [("customer", text)])
    qa.refresh(db)
    assert rows(db, "select count(*) from vulnerability_flags") == [(0,)]


def test_an_agent_mentioning_hospital_is_not_a_customer_cue(db):
    add(db, "C1", "A3", 1, [("agent", "Are you calling from the hospital?")])
    qa.refresh(db)
    assert rows(db, "select count(*) from vulnerability_flags") == [(0,)]


def test_every_configured_cue_belongs_to_one_of_the_fcas_four_drivers():
    config = qa.load_rules()
    assert {c.driver for c in config.cues} == set(qa.DRIVERS)


def test_a_bad_pattern_in_the_rule_file_is_a_one_line_user_error(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - id: broken\n    kind: prohibited\n    speaker: agent\n    patterns: ['(unclosed']\n")
    with pytest.raises(UserError, match="rule broken has a bad regular expression") as exc:
        qa.load_rules(bad)
    assert "\n" not in str(exc.value)


def test_an_unknown_driver_is_refused(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("vulnerability:\n  drivers:\n    wealth:\n      rich: ['yacht']\n")
    with pytest.raises(UserError, match="not one of the FCA's four"):
        qa.load_rules(bad)
