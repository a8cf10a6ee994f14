"""Conversation scoring into DuckDB: turns, roll-ups, comments, and the incremental cache."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from analysis.db import rows
from analysis.sentiment import load_model
from analysis.sentiment.conversations import refresh

UTC = timezone.utc


class CountingModel:
    """Wraps VADER and counts the texts it is asked to score, to see what the cache saved."""

    def __init__(self):
        self.inner = load_model("vader")
        self.model_id = self.inner.model_id
        self.scored = 0

    def score(self, texts):
        self.scored += len(texts)
        return self.inner.score(texts)


def add_conversation(con, cid, account, started, turns, agent="ag1"):
    con.execute("insert into conversations values (?, ?, ?, 'call', ?, null)", [cid, account, started, agent])
    for i, (speaker, text) in enumerate(turns, start=1):
        con.execute("insert into turns values (?, ?, ?, ?)", [cid, i, speaker, text])


@pytest.fixture
def db(fresh_db):
    fresh_db.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, team)
                        values ('A1', 'P1', date '2026-01-01', 100, 'America/Chicago', 'east'),
                               ('A2', 'P2', date '2026-01-01', 100, 'America/Chicago', 'west')""")
    return fresh_db


def test_customer_trajectory_runs_from_the_first_third_to_the_last_third(db):
    add_conversation(db, "C1", "A1", datetime(2026, 2, 1, 15, tzinfo=UTC), [
        ("agent", "Hello, this is Sam."),
        ("customer", "This is terrible, I hate these calls."),
        ("agent", "I understand."),
        ("customer", "Okay."),
        ("customer", "Thank you so much, that is a great help!"),
    ])
    stats = refresh(db, "vader")
    assert stats["conversations"] == 1
    turn_scores = dict(rows(db, "select turn, score from turn_sentiment where speaker = 'customer'"))
    (first, last, trajectory, mean, label, n) = rows(db, """select customer_first_third, customer_last_third,
        customer_trajectory, customer_mean, label, customer_turns from conversation_sentiment""")[0]
    # three customer turns: ceil(3/3) = 1 turn in each third
    assert first == pytest.approx(turn_scores[2]) and first < 0
    assert last == pytest.approx(turn_scores[5]) and last > 0
    assert trajectory == pytest.approx(last - first)
    assert mean == pytest.approx(sum(turn_scores.values()) / 3)
    assert n == 3
    assert label == ("positive" if mean >= 0.05 else "negative" if mean <= -0.05 else "neutral")


def test_a_conversation_where_the_customer_never_speaks_has_no_customer_score(db):
    add_conversation(db, "C1", "A1", datetime(2026, 2, 1, 15, tzinfo=UTC), [("agent", "Great news, all sorted!")])
    refresh(db, "vader")
    assert rows(db, "select customer_mean, label, customer_turns, agent_turns from conversation_sentiment") == [(None, None, 0, 1)]


def test_survey_comments_are_scored_into_comment_sentiment(db):
    db.execute("""insert into surveys (response_id, account_id, responded_at, nps, comment) values
        ('R1', 'A1', timestamptz '2026-02-01 10:00:00+00', 9, 'Wonderful, friendly and helpful agent'),
        ('R2', 'A1', timestamptz '2026-02-01 10:00:00+00', 2, 'Rude and useless, worst service ever'),
        ('R3', 'A1', timestamptz '2026-02-01 10:00:00+00', 5, null)""")
    refresh(db, "vader")
    got = dict(rows(db, "select response_id, label from comment_sentiment"))
    assert got == {"R1": "positive", "R2": "negative"}


def test_rerunning_scores_only_texts_not_scored_before(db):
    for i in range(10):
        add_conversation(db, f"C{i}", "A1", datetime(2026, 2, 1, 15, i, tzinfo=UTC),
                         [("agent", f"Hello caller number {i}"), ("customer", "I can pay twenty dollars.")])
    model = CountingModel()
    first = refresh(db, model)
    # ten distinct agent greetings and one repeated customer line
    assert first["texts_scored"] == model.scored == 11
    add_conversation(db, "C_new", "A2", datetime(2026, 3, 1, 15, tzinfo=UTC),
                     [("agent", "Hello caller number 3"), ("customer", "A brand new sentence, thanks.")])
    second = refresh(db, model)
    assert second["texts_scored"] == 1 and model.scored == 12
    assert rows(db, "select count(*) from turn_sentiment")[0][0] == 22
    third = refresh(db, model)
    assert third["texts_scored"] == 0 and model.scored == 12


def test_a_new_model_version_does_not_reuse_another_versions_scores(db):
    add_conversation(db, "C1", "A1", datetime(2026, 2, 1, 15, tzinfo=UTC), [("customer", "Fine, thanks.")])
    model = CountingModel()
    refresh(db, model)
    model.model_id = "vader-next"
    refresh(db, model)
    assert model.scored == 2
    assert rows(db, "select distinct model_id from turn_sentiment") == [("vader-next",)]


def test_switching_back_to_an_earlier_model_rescores_nothing_and_its_scores_return(db):
    add_conversation(db, "C1", "A1", datetime(2026, 2, 1, 15, tzinfo=UTC),
                     [("agent", "Hello."), ("customer", "This is awful, stop calling me.")])
    first, second = CountingModel(), CountingModel()
    second.model_id = "vader-retrained"
    refresh(db, first)
    refresh(db, second)
    assert rows(db, "select distinct model_id from turn_sentiment") == [("vader-retrained",)]
    stats = refresh(db, first)  # back to the first model: its cached scores serve
    assert stats["texts_scored"] == 0 and first.scored == 2
    assert rows(db, "select distinct model_id from turn_sentiment") == [(first.model_id,)]
    assert rows(db, "select distinct model_id from conversation_sentiment") == [(first.model_id,)]


def test_the_pipeline_scores_with_the_configured_model_the_transformer_unless_told_otherwise(db, tmp_path):
    from analysis.sentiment import read_config

    assert read_config()["pipeline"]["model"] == "transformer"  # the shipped configuration (issue 23)
    assert load_model(config={}).name == "transformer"  # no configuration at all: the same default
    assert load_model(config={"pipeline": {"model": "vader"}}).model_id.startswith("vader")
