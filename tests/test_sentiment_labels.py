"""People's sentiment labels of turns (analysis.sentiment.labels): the append-only, hash-chained label log,
what training reads from it, the model's agreement with it, and the Conversations page that writes and
counts it (AppTest on the demo database; the browser test is tests/test_browser_labels.py)."""
from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from analysis import accesslog
from analysis.db import connect, get_meta, rows
from analysis.errors import UserError
from analysis.sentiment import labels
from tests.conftest import ROOT

T0 = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
OTHER = {"negative": "positive", "neutral": "negative", "positive": "neutral"}


def scored_turns(db, n: int) -> list[tuple[str, int, str, str, str]]:
    """n scored turns of the demo: (conversation_id, turn, stored label, model id, text)."""
    con = connect(db, read_only=True)
    try:
        found = rows(con, """select s.conversation_id, s.turn, s.label, s.model_id, t.text from turn_sentiment as s
                             join turns as t using (conversation_id, turn)
                             where s.label is not null order by s.conversation_id, s.turn limit ?""", [n])
    finally:
        con.close()
    assert len(found) == n
    return found


def test_each_label_records_who_when_what_and_the_models_label_shown(tmp_path):
    log = tmp_path / "labels.sqlite"
    done = labels.record(log, "CV1", 3, "negative", " amy ", T0,
                         role="compliance", model_label="neutral", model_id="m-1")
    assert done["label_id"] == 1 and done["labeller"] == "amy" and done["labelled_at"] == "2026-12-01T09:30:00+00:00"
    labels.record(log, "CV1", 3, "neutral", "bob", T0.astimezone(timezone(timedelta(hours=2))), role="admin",
                  model_label="neutral", model_id="m-1")
    hist = labels.history(log)
    assert list(zip(hist["label"], hist["model_label"], hist["labeller"], hist["labelled_at"])) == [
        ("negative", "neutral", "amy", "2026-12-01T09:30:00+00:00"),
        ("neutral", "neutral", "bob", "2026-12-01T09:30:00+00:00")]
    cur = labels.current(log)
    assert list(zip(cur["conversation_id"], cur["turn"], cur["label"], cur["labeller"])) == [("CV1", 3, "neutral", "bob")]
    assert labels.latest_id(log) == 2 and labels.latest_id(tmp_path / "none.sqlite") == 0


@pytest.mark.parametrize("statement", ["update labels set label = 'positive'", "delete from labels",
                                       "delete from labels where label_id = 1"])
def test_the_log_refuses_to_update_or_delete_a_label(tmp_path, statement):
    log = tmp_path / "labels.sqlite"
    labels.record(log, "CV1", 1, "negative", "amy", T0, role="compliance")
    with sqlite3.connect(log) as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(statement)
    assert list(labels.history(log)["label"]) == ["negative"]


@pytest.mark.parametrize("kwargs, message", [
    ({"role": "manager"}, "may not label"),
    ({"role": "executive"}, "may not label"),
    ({"label": "angry"}, "is not one of"),
    ({"model_label": "meh"}, "the model's label"),
    ({"labeller": "  "}, "labeller's name"),
    ({"turn": "3"}, "turn number"),
    ({"at": datetime(2026, 12, 1, 9, 30)}, "time-zone-aware"),
])
def test_a_bad_label_or_a_role_without_the_right_is_refused_in_one_line_and_nothing_is_written(tmp_path, kwargs, message):
    log = tmp_path / "labels.sqlite"
    args = {"conversation_id": "CV1", "turn": 3, "label": "negative", "labeller": "amy", "at": T0, "role": "compliance", **kwargs}
    with pytest.raises(UserError, match=message) as err:
        labels.record(log, **args)
    assert "\n" not in str(err.value)
    assert labels.history(log).empty


def test_the_log_lives_next_to_the_database_unless_the_environment_names_it(tmp_path):
    assert labels.default_path(tmp_path / "firm.duckdb", environ={}) == tmp_path / "firm.duckdb.labels.sqlite"
    assert labels.default_path(tmp_path / "firm.duckdb", environ={"DASHBOARD_LABELS": str(tmp_path / "x.sqlite")}) == tmp_path / "x.sqlite"


def tamper(log, *statements):
    with sqlite3.connect(log) as con:
        for statement in statements:
            con.execute(statement)


def test_the_chain_verifies_and_finds_an_edit_a_deletion_and_a_dropped_trigger(tmp_path):
    log = tmp_path / "labels.sqlite"
    for turn, label in [(1, "negative"), (2, "neutral"), (3, "positive")]:
        labels.record(log, "CV1", turn, label, "amy", T0, role="compliance")
    entries, head, problems = labels.verify(log)
    assert (entries, problems) == (3, []) and len(head) == 64
    tamper(log, "drop trigger labels_no_update", "update labels set label = 'negative' where label_id = 2")
    assert labels.verify(log)[2] == [
        "the trigger that refuses UPDATE on labels is missing: it was dropped",
        "labels row 2 was changed after it was written: its fields no longer give its hash"]
    tamper(log, "drop trigger labels_no_delete", "delete from labels where label_id = 3")
    assert "labels rows 3 to 3 are missing: the last rows were deleted" in labels.verify(log)[2]


def test_verify_logs_checks_the_label_log_beside_the_database(tmp_path, monkeypatch):
    db = tmp_path / "firm.duckdb"
    monkeypatch.delenv("DASHBOARD_LABELS", raising=False)
    accesslog.record(accesslog.default_path(db), "sign_in", T0, "amy")
    labels.record(labels.default_path(db), "CV1", 1, "negative", "amy", T0, role="compliance")

    def run():
        return subprocess.run([sys.executable, "-m", "analysis", "verify-logs", "--db", str(db)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"label log {db}.labels.sqlite: 1 entries, chain intact" in done.stdout
    tamper(labels.default_path(db), "drop trigger labels_no_update", "update labels set labeller = 'bob'")
    done = run()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "label log" in done.stdout and "labels row 1 was changed after it was written" in done.stdout


def test_training_reads_the_latest_label_of_each_turn_with_its_text_from_the_database(demo_db, tmp_path):
    log = tmp_path / "labels.sqlite"
    (c1, t1, l1, m1, x1), (c2, t2, l2, m2, x2), (c3, t3, l3, m3, x3), (c4, t4, _, _, x4) = scored_turns(demo_db, 4)
    labels.record(log, c1, t1, "negative", "amy", T0, role="compliance", text=x1, model_label=l1, model_id=m1)
    labels.record(log, c2, t2, "positive", "amy", T0, role="compliance", model_label=l2, model_id=m2)  # no text kept
    labels.record(log, c1, t1, "neutral", "bob", T0, role="admin", text=x1, model_label=l1, model_id=m1)  # replaces amy's
    labels.record(log, "NOT-IN-DB", 1, "negative", "bob", T0, role="admin")  # a turn this database does not hold
    labels.record(log, c3, t3, l3, "bob", T0, role="admin", text=x3, model_label=l3, model_id=m3)  # confirms the model
    labels.record(log, c4, t4, "negative", "bob", T0, role="admin", text=x4 + " (an earlier wording)")  # text changed since
    frame = labels.training_frame(demo_db, log)
    assert list(frame.columns) == ["text", "label"]
    assert list(zip(frame["text"], frame["label"])) == [(x2, "positive"), (x1, "neutral"), (x3, l3)]
    assert labels.training_frame(demo_db, tmp_path / "none.sqlite").empty


def test_agreement_counts_labels_and_compares_the_latest_with_the_stored_model(demo_db, tmp_path):
    log = tmp_path / "labels.sqlite"
    (c1, t1, l1, m1, _), (c2, t2, l2, m2, _), (c3, t3, l3, m3, x3), (c4, t4, l4, m4, x4) = scored_turns(demo_db, 4)
    labels.record(log, c4, t4, l4, "amy", T0, role="compliance", text=x4[::-1] + "!", model_label=l4, model_id=m4)  # changed
    labels.record(log, c1, t1, OTHER[l1], "amy", T0, role="compliance", model_label=l1, model_id=m1)
    labels.record(log, c1, t1, l1, "bob", T0, role="admin", model_label=l1, model_id=m1)      # agrees (latest)
    labels.record(log, c2, t2, OTHER[l2], "amy", T0, role="compliance", model_label=l2, model_id=m2)  # disagrees
    labels.record(log, c3, t3, l3, "carol", T0, role="compliance", text=x3, model_label=l3, model_id=m3)  # agrees
    labels.record(log, "NOT-IN-DB", 1, "negative", "bob", T0, role="admin")  # counted, not compared
    con = connect(demo_db, read_only=True)
    try:
        got = labels.agreement(con, log)
        before = labels.agreement(con, log, upto=1)
        upto_two = labels.agreement(con, log, upto=2)
        stored_model = get_meta(con, "sentiment_model")
    finally:
        con.close()
    assert {k: got[k] for k in ("labels", "labelled_turns", "labellers", "confirmed", "changed", "compared", "agree")} == {
        "labels": 6, "labelled_turns": 5, "labellers": 3, "confirmed": 3, "changed": 1, "compared": 3, "agree": 2}
    assert got["agreement"] == pytest.approx(2 / 3)
    assert got["model_id"] == stored_model == m1
    assert (before["labels"], before["changed"], before["compared"], before["agreement"]) == (1, 1, 0, None)
    assert (upto_two["labels"], upto_two["compared"], upto_two["agree"], upto_two["agreement"]) == (2, 1, 0, 0.0)


# --- the Conversations page (AppTest) -----------------------------------------------------------------


def label_controls(at) -> dict:
    return {w.key: w for w in at.segmented_control if str(w.key).startswith("conv_label_")}


def test_a_compliance_user_labels_a_turn_in_the_transcript_and_it_reaches_training(app_test, demo_db, tmp_path, monkeypatch):
    log = tmp_path / "labels.sqlite"
    monkeypatch.setenv("DASHBOARD_LABELS", str(log))
    cid, turn, stored, model_id, text = scored_turns(demo_db, 1)[0]
    at = app_test("compliance", "conversations", query_params={"conversation": cid})
    assert not at.exception, at.exception
    controls = label_controls(at)
    assert f"conv_label_{turn}" in controls and controls[f"conv_label_{turn}"].value is None
    wanted = OTHER[stored]
    controls[f"conv_label_{turn}"].set_value(wanted).run()
    assert not at.exception, at.exception
    done = labels.history(log)
    assert list(zip(done["conversation_id"], done["turn"], done["label"], done["model_label"], done["model_id"], done["labeller"])) == [
        (cid, turn, wanted, stored, model_id, "compliance")]
    assert done["text_md5"][0] == hashlib.md5(text.encode("utf-8")).hexdigest()
    assert label_controls(at)[f"conv_label_{turn}"].value == wanted
    shown = "\n".join(m.value for m in at.markdown)
    assert f"human: <b>{wanted}</b> (compliance)" in shown
    frame = labels.training_frame(demo_db)
    assert list(zip(frame["text"], frame["label"])) == [(text, wanted)]
    # confirming the model: choosing its label records a label equal to the model's
    label_controls(at)[f"conv_label_{turn}"].set_value(stored).run()
    last = labels.history(log).iloc[-1]
    assert (last["label"], last["model_label"]) == (stored, stored)
    assert labels.verify(log)[2] == []


def test_a_manager_sees_the_transcript_without_label_controls(app_test, demo_db, tmp_path, monkeypatch):
    log = tmp_path / "labels.sqlite"
    monkeypatch.setenv("DASHBOARD_LABELS", str(log))
    cid, turn, stored, model_id, _ = scored_turns(demo_db, 1)[0]
    labels.record(log, cid, turn, OTHER[stored], "amy", T0, role="compliance", model_label=stored, model_id=model_id)
    at = app_test("manager", "conversations", query_params={"conversation": cid})
    assert not at.exception, at.exception
    assert at.markdown and any("div class='turn'" in m.value for m in at.markdown)
    assert label_controls(at) == {}
    shown = "\n".join(m.value for m in at.markdown)
    assert f"human: <b>{OTHER[stored]}</b>" in shown and "amy" not in shown  # the label, not who gave it


def test_the_sentiment_view_shows_the_label_count_agreement_and_model_id_and_counts_a_new_label(app_test, demo_db, tmp_path, monkeypatch):
    log = tmp_path / "labels.sqlite"
    monkeypatch.setenv("DASHBOARD_LABELS", str(log))
    (c1, t1, l1, m1, _), (c2, t2, l2, m2, _) = scored_turns(demo_db, 2)
    labels.record(log, c1, t1, l1, "amy", T0, role="compliance", model_label=l1, model_id=m1)
    labels.record(log, c2, t2, OTHER[l2], "amy", T0, role="compliance", model_label=l2, model_id=m2)
    con = connect(demo_db, read_only=True)
    try:
        model_id = get_meta(con, "sentiment_model")
    finally:
        con.close()
    at = app_test("manager", "conversations")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Sentiment labels"], metrics["Labelled turns"], metrics["Model agrees with labels"],
            metrics["Turns compared"]) == ("2", "2", "50.0%", "1 of 2")
    assert any(f"Scores by model ` {model_id} `" in c.value for c in at.caption), [c.value for c in at.caption]
    labels.record(log, c2, t2, l2, "bob", T0, role="admin", model_label=l2, model_id=m2)  # no stale cache
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Sentiment labels"], metrics["Labelled turns"], metrics["Model agrees with labels"]) == ("3", "2", "100.0%")
