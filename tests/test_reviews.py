"""The review log (analysis/compliance/reviews.py): append-only, previous state kept, survives an audit rerun."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from analysis.compliance import engine, reviews, workspace
from analysis.errors import UserError
from analysis.filters import Filters

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 9, 30, 0, tzinfo=UTC)


def test_each_review_records_who_when_what_and_the_state_it_replaced(tmp_path):
    log = tmp_path / "db.duckdb.reviews.sqlite"
    first = reviews.record(log, "k1", "regf_7in7", "confirmed", "alice", T0, note="checked the call log")
    second = reviews.record(log, "k1", "regf_7in7", "dismissed", "bob", T0 + timedelta(hours=1),
                            reason="consent on file", note="consent form dated 1 March")
    assert (first["previous_state"], first["previous_review_id"]) == ("unreviewed", None)
    assert (second["previous_state"], second["previous_review_id"]) == ("confirmed", first["review_id"])
    hist = reviews.history(log, "k1", "regf_7in7")
    assert list(zip(hist["state"], hist["reviewer"], hist["reviewed_at"], hist["previous_state"])) == [
        ("confirmed", "alice", "2026-03-02T09:30:00+00:00", "unreviewed"),
        ("dismissed", "bob", "2026-03-02T10:30:00+00:00", "confirmed"),
    ]
    assert hist["reason"].isna().tolist() == [True, False] and hist["reason"].iloc[1] == "consent on file"


def test_the_current_state_is_the_latest_review_per_contact_and_rule(tmp_path):
    log = tmp_path / "r.sqlite"
    reviews.record(log, "k1", "regf_7in7", "confirmed", "alice", T0)
    reviews.record(log, "k1", "inconvenient_time", "dismissed", "alice", T0, reason="reply to consumer")
    reviews.record(log, "k1", "regf_7in7", "dismissed", "bob", T0 + timedelta(minutes=5), reason="duplicate record")
    cur = reviews.current(log)
    assert sorted(zip(cur["contact_id"], cur["rule_id"], cur["state"], cur["reviewer"])) == [
        ("k1", "inconvenient_time", "dismissed", "alice"), ("k1", "regf_7in7", "dismissed", "bob")]


@pytest.mark.parametrize("statement", [
    "update reviews set state = 'confirmed'",
    "update reviews set note = 'edited'",
    "delete from reviews",
    "delete from reviews where review_id = 1",
])
def test_the_log_refuses_to_update_or_delete_a_review(tmp_path, statement):
    log = tmp_path / "r.sqlite"
    reviews.record(log, "k1", "regf_7in7", "dismissed", "alice", T0, reason="other", note="wrong number")
    con = sqlite3.connect(log)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(statement)
    con.close()
    hist = reviews.history(log)
    assert list(zip(hist["state"], hist["note"])) == [("dismissed", "wrong number")]


@pytest.mark.parametrize("kwargs, message", [
    ({"state": "maybe"}, "review state"),
    ({"state": "dismissed"}, "needs a reason"),
    ({"state": "dismissed", "reason": "felt like it"}, "needs a reason"),
    ({"state": "dismissed", "reason": "other"}, "needs a note"),
    ({"state": "confirmed", "reviewer": " "}, "reviewer"),
    ({"state": "confirmed", "at": datetime(2026, 3, 2, 9, 30)}, "time-zone-aware"),
])
def test_a_bad_review_is_refused_with_a_one_line_reason_and_nothing_is_written(tmp_path, kwargs, message):
    log = tmp_path / "r.sqlite"
    args = {"contact_id": "k1", "rule_id": "regf_7in7", "reviewer": "alice", "at": T0, **kwargs}
    with pytest.raises(UserError, match=message) as err:
        reviews.record(log, **args)
    assert "\n" not in str(err.value)
    assert reviews.history(log).empty


def test_the_log_lives_next_to_the_database_unless_the_environment_names_it(tmp_path):
    assert reviews.default_path(tmp_path / "demo.duckdb", environ={}) == tmp_path / "demo.duckdb.reviews.sqlite"
    assert reviews.default_path(tmp_path / "demo.duckdb", environ={"DASHBOARD_REVIEWS": "/srv/r.sqlite"}) == \
        __import__("pathlib").Path("/srv/r.sqlite")


def test_an_unwritable_log_location_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="review log"):
        reviews.record(tmp_path / "missing-dir" / "r.sqlite", "k1", "regf_7in7", "confirmed", "alice", T0)


def _ma_account_with_three_calls(con):
    # Massachusetts caps counted calls at 2 in 7 local days: the third call breaches state_ma_2in7.
    con.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, state)
        values ('A1', 'P1', '2026-01-01', 100, 'America/New_York', 'MA')""")
    for i, day in enumerate((2, 3, 4), start=1):
        con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) values (?, 'A1', ?, 'call', 'outbound', 'no_answer')",
                    [f"c{i}", datetime(2026, 3, day, 15, 0, tzinfo=UTC)])


def test_reviews_stay_with_the_breaches_that_still_exist_after_the_audit_is_rerun(fresh_db, tmp_path):
    log = tmp_path / "r.sqlite"
    _ma_account_with_three_calls(fresh_db)
    engine.refresh(fresh_db)
    before = workspace.breach_list(fresh_db, Filters())
    assert ("c3", "state_ma_2in7") in set(zip(before["contact_id"], before["rule_id"]))
    reviews.record(log, "c3", "state_ma_2in7", "confirmed", "alice", T0)

    # New data arrives: an earlier call makes c2 a breach too, and the rows of the table are rebuilt.
    fresh_db.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) values ('c0', 'A1', ?, 'call', 'outbound', 'no_answer')",
                     [datetime(2026, 3, 1, 15, 0, tzinfo=UTC)])
    engine.refresh(fresh_db)
    after = workspace.with_reviews(workspace.breach_list(fresh_db, Filters(), rules=("state_ma_2in7",)), reviews.current(log))
    assert dict(zip(after["contact_id"], after["review_state"])) == {"c2": "unreviewed", "c3": "confirmed"}

    # A breach that no longer exists drops out of the list; its review stays in the log.
    fresh_db.execute("delete from contacts where contact_id in ('c0', 'c1')")
    engine.refresh(fresh_db)
    gone = workspace.with_reviews(workspace.breach_list(fresh_db, Filters(), rules=("state_ma_2in7",)), reviews.current(log))
    assert gone.empty
    assert reviews.history(log)["contact_id"].tolist() == ["c3"]
