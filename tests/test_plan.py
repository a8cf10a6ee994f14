"""The contact plan (issue 24, SPEC section 4 `plan`) on the demo: its contract, and a check by the
audit itself. The plan is checked the way an independent checker will check it: one more contact at
each row's `contact_from` (and at its `contact_until`) is added to the history and the audit runs over
all of it; no added contact may breach a rule. The replay on a past date compares the plan's accounts
with the firm's actual contacts of that day.
"""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis import store
from analysis.compliance.engine import find_breaches
from analysis.db import connect
from analysis.plan.build import SPEC_COLUMNS, make_plan
from analysis.plan.headroom import headroom
from analysis.propensity.model import data_end, score

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def plan_csv(demo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "plan.csv"
    done = run_cli("plan", "--db", str(demo_db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_the_plan_file_has_specs_columns_first_and_instants_in_utc_with_z(plan_csv, demo_db):
    with plan_csv.open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames[:len(SPEC_COLUMNS)] == SPEC_COLUMNS
    assert rows, "the demo's plan is empty"
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    for r in rows[:500]:
        start = datetime.strptime(r["contact_from"], "%Y-%m-%dT%H:%M:%SZ")
        end = datetime.strptime(r["contact_until"], "%Y-%m-%dT%H:%M:%SZ")
        assert start <= end
        assert 0 <= float(r["propensity"]) <= 1 and 0 <= int(r["best_local_hour"]) <= 23
        assert r["channel"] in {"call", "sms", "email"} and r["queue"] in {"dialer", "specialist"}
    con = connect(demo_db, read_only=True)
    try:
        day = data_end(con)
    finally:
        con.close()
    assert {r["local_date"] for r in rows} == {day.isoformat()}
    # ranked by expected collection: an account's rows are together, in account order
    accounts = [r["account_id"] for r in rows]
    firsts = list(dict.fromkeys(accounts))
    values = [float(next(r for r in rows if r["account_id"] == a)["expected_collection"]) for a in firsts[:200]]
    assert values == sorted(values, reverse=True)


def test_no_account_is_offered_on_a_channel_without_headroom(demo_db):
    con = connect(demo_db, read_only=True)
    try:
        day = data_end(con)
        plan = make_plan(con, day, score(con, day))
        room = headroom(con, day)
    finally:
        con.close()
    blocked = room[~room["offered"]]
    assert len(blocked) > 0, "the demo should have accounts with no headroom on some channel"
    offered = plan.merge(blocked[["account_id", "channel"]], on=["account_id", "channel"])
    assert offered.empty
    # accounts routed to the specialist queue say why, and vulnerable accounts are among them
    specialist = plan[plan["queue"] == "specialist"]
    assert len(specialist) and specialist["reasons"].str.contains("vulnerab|complaint").all()


def _added_contacts(plan: pd.DataFrame, column: str) -> pd.DataFrame:
    return pd.DataFrame({
        "contact_id": "~plan-" + plan["rank"].astype(str),
        "account_id": plan["account_id"],
        "ts": plan[column],
        "channel": plan["channel"],
        "direction": "outbound",
        "outcome": plan["channel"].map(lambda c: "no_answer" if c == "call" else "sent"),
    })


@pytest.mark.parametrize("column", ["contact_from", "contact_until"])
def test_one_more_contact_at_each_rows_window_edge_breaches_nothing_by_the_audit(demo_db, tmp_path, column):
    """The acceptance check of SPEC section 4, on the whole demo: every plan row's contact added at once to
    the full history (the plan's date is after the data's end, so every contact is an earlier one)."""
    copy = tmp_path / "with-plan.duckdb"
    con = connect(demo_db, read_only=True)
    try:
        day = data_end(con)
        plan = make_plan(con, day, score(con, day))
    finally:
        con.close()
    shutil.copyfile(store.current(demo_db), copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("set TimeZone = 'UTC'")
        added = _added_contacts(plan, column)
        con.register("added", added)
        con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) "
                    "select contact_id, account_id, ts, channel, direction, outcome from added")
        found = find_breaches(con)
    finally:
        con.close()
    planned = found[found["contact_id"].str.startswith("~plan-")]
    assert planned.empty, planned.head().to_string()


def test_a_contact_a_second_past_each_window_breaches_the_rule_that_ended_it(demo_db, tmp_path):
    copy = tmp_path / "past.duckdb"
    con = connect(demo_db, read_only=True)
    try:
        plan = make_plan(con, data_end(con), score(con, data_end(con)))
    finally:
        con.close()
    ended = plan[plan["reasons"].str.contains("until ")].copy()
    ended["until_rule"] = ended["reasons"].str.extract(r"until (\w+)")[0]
    sample = pd.concat([g.head(20) for _, g in ended.groupby("until_rule")])
    assert set(sample["until_rule"]) >= {"inconvenient_time"}
    sample = sample.assign(past=sample["contact_until"] + timedelta(seconds=1))
    shutil.copyfile(store.current(demo_db), copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("added", _added_contacts(sample, "past"))
        con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) "
                    "select contact_id, account_id, ts, channel, direction, outcome from added")
        found = find_breaches(con)
    finally:
        con.close()
    hits = found[found["contact_id"].str.startswith("~plan-")]
    for rank, rule in zip(sample["rank"], sample["until_rule"]):
        assert rule in set(hits.loc[hits["contact_id"] == f"~plan-{rank}", "rule_id"]), (rank, rule)


def test_replay_of_a_past_date_the_plans_accounts_paid_more_and_its_contacts_breach_nothing(demo_db):
    from analysis.plan.replay import replay

    con = connect(demo_db, read_only=True)
    try:
        day = data_end(con) - timedelta(days=31)
        r = replay(con, day)
    finally:
        con.close()
    assert r["actual"]["accounts"] > 0 and r["plan"]["accounts"] == r["actual"]["accounts"]
    assert r["plan"]["paid_share"] > r["actual"]["paid_share"]
    assert r["plan"]["collected"] > r["actual"]["collected"]
    assert r["plan_rows"] > 0 and r["planned_contacts_breaching"] == 0, r["breaches_by_rule"]


# --- the command's refusals ---------------------------------------------------------------------------

def test_plan_refuses_a_bad_date_a_missing_database_and_a_directory_as_out(demo_db, tmp_path):
    cases = [
        (["--db", str(demo_db), "--date", "2026-13-01", "--out", str(tmp_path / "p.csv")], "is not a date"),
        (["--db", str(tmp_path / "none.duckdb"), "--date", "2026-11-01", "--out", str(tmp_path / "p.csv")], "does not exist"),
        (["--db", str(demo_db), "--out", str(tmp_path)], "is a directory"),
        (["--db", str(demo_db), "--date", "2001-01-01", "--out", str(tmp_path / "p.csv")], "no account is open"),
    ]
    for args, message in cases:
        done = run_cli("plan", *args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "p.csv").exists()


def test_plan_without_a_model_names_the_command_that_trains_one(demo_db_copy, tmp_path):
    con = duckdb.connect(str(demo_db_copy))
    con.execute("delete from propensity_models")
    con.close()
    done = run_cli("plan", "--db", str(demo_db_copy), "--out", str(tmp_path / "p.csv"))
    assert done.returncode == 2 and "propensity train" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "p.csv").exists()


def test_plan_on_a_database_without_events_says_so(tmp_path):
    from analysis.schema import create_schema

    db = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(db))
    create_schema(con)
    con.close()
    done = run_cli("plan", "--db", str(db), "--date", "2026-11-01", "--out", str(tmp_path / "p.csv"))
    assert done.returncode == 2 and "no events" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "p.csv").exists()
