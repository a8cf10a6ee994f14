"""Trust: sign-in limits, demo users only in the demo, sessions that follow the credentials file and
time out, and the hash-chained access and review logs (with `verify-logs`). Real SQLite files, a real
DuckDB, the real app through AppTest; the attacks of issue 21 rerun."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from analysis import access, accesslog
from analysis.compliance import reviews
from tests.conftest import ROOT, firm_credentials
from tests.test_app_shell import signed_out, submit

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def log_path():
    return accesslog.default_path()  # the test's own (conftest sets DASHBOARD_ACCESS_LOG)


def events(username=None):
    """The user's entries, oldest first, page views left out."""
    return [e for e in accesslog.entries(log_path(), username=username)["event"].iloc[::-1] if e != "page_view"]


# --- sign-in limits ------------------------------------------------------------------------------


def test_waits_grow_after_five_failures_and_ten_lock_until_unlocked_or_a_day_passes(tmp_path):
    log = tmp_path / "log.sqlite"

    def fail(name, at, client=""):
        accesslog.record(log, "sign_in_failed", at, name, client)

    for i in range(4):
        fail("admin", T0 + timedelta(seconds=i))
    assert accesslog.sign_in_wait(log, "admin", "", T0 + timedelta(seconds=4)) == 0
    fail("admin", T0 + timedelta(seconds=4))  # the fifth
    assert accesslog.sign_in_wait(log, "admin", "", T0 + timedelta(seconds=4)) == 30
    assert accesslog.sign_in_wait(log, "admin", "", T0 + timedelta(seconds=34)) == 0
    waits = []
    for i in range(5, 10):
        at = T0 + timedelta(hours=1, minutes=i)
        fail("admin", at)
        waits.append(accesslog.sign_in_wait(log, "admin", "", at))
    assert waits == [60, 120, 240, 480, None]  # doubling, then locked at the tenth
    assert accesslog.sign_in_wait(log, "admin", "", T0 + timedelta(hours=20)) is None
    assert accesslog.sign_in_wait(log, "admin", "", T0 + timedelta(hours=25, minutes=10)) == 0  # a day after the last
    assert accesslog.sign_in_wait(log, "Admin", "", T0 + timedelta(hours=2)) == 0  # another name, its own count
    accesslog.record(log, "unlock", T0 + timedelta(hours=2), "admin", "cli:root")
    assert accesslog.sign_in_wait(log, "admin", "", T0 + timedelta(hours=2, seconds=1)) == 0
    # Per client: 20 failures over many names, then the client waits whatever name it types.
    for i in range(20):
        fail(f"name{i}", T0 + timedelta(hours=3, seconds=i), client="203.0.113.7")
    assert accesslog.sign_in_wait(log, "fresh-name", "203.0.113.7", T0 + timedelta(hours=3, seconds=20)) > 0
    assert accesslog.sign_in_wait(log, "fresh-name", "198.51.100.1", T0 + timedelta(hours=3, seconds=20)) == 0


def test_the_issues_attack_ten_wrong_passwords_then_the_right_one_no_longer_signs_in(demo_db, monkeypatch):
    at = signed_out(demo_db, monkeypatch)
    for _ in range(10):
        submit(at, "admin", "not-demo")
    submit(at, "admin", "demo")
    assert "user" not in at.session_state
    refused = at.error[0].value
    assert refused.startswith("Too many failed sign-ins: wait ") and "demo" not in refused
    assert events("admin") == ["sign_in_failed"] * 5 + ["sign_in_refused"] * 6  # refused ones never check the password
    # An unknown name gets the same answers, so a lockout tells nothing of who exists.
    for _ in range(5):
        submit(at, "ghost", "whatever")
        assert at.error[0].value == "Wrong username or password."
    submit(at, "ghost", "whatever")
    assert at.error[0].value.split(" wait ")[0] == refused.split(" wait ")[0]


def test_a_locked_name_stays_locked_with_the_right_password_until_an_admin_unlocks_it(demo_db, monkeypatch):
    now = datetime.now(timezone.utc)
    for name in ("admin", "ghost"):
        for i in range(10):
            accesslog.record(log_path(), "sign_in_failed", now - timedelta(hours=2, minutes=i), name)
    at = signed_out(demo_db, monkeypatch)
    submit(at, "admin", "demo")
    assert "user" not in at.session_state
    locked = at.error[0].value
    assert "locked" in locked and "python -m analysis users unlock NAME" in locked
    submit(at, "ghost", "demo")
    assert at.error[0].value == locked  # the same words for a name that does not exist
    done = cli("users", "unlock", "admin")
    assert done.returncode == 0, done.stderr
    submit(at, "admin", "demo")
    assert at.session_state["user"]["role"] == "admin"
    assert events("admin")[-3:] == ["sign_in_refused", "unlock", "sign_in"]


# --- demo users only in the demo -----------------------------------------------------------------


@pytest.fixture
def imported_db(demo_db_copy, tmp_path):
    """The demo with a firm's file imported into it: no longer the demo."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "accounts.csv").write_text("account_id,consumer_id,placed_date,placed_balance,timezone\n"
                                      "ZZ1,CZ1,2026-01-05,100.00,America/Chicago\n")
    done = cli("ingest", str(src), "--db", str(demo_db_copy))
    assert done.returncode == 0, done.stderr
    return demo_db_copy


def test_the_shipped_demo_users_are_refused_on_a_database_that_is_not_the_demo(imported_db, monkeypatch, tmp_path):
    at = signed_out(imported_db, monkeypatch)  # the shipped credentials: only the demo users
    message = at.error[0].value
    assert "not the demo" in message and "python -m analysis users add NAME --role admin" in message
    assert len(message.splitlines()) == 1 and not at.text_input, "no sign-in form to try the demo password on"
    # A session signed in as a demo user before the import is signed out on its next run.
    at = signed_out(imported_db, monkeypatch)
    at.session_state["user"] = {"username": "admin", "name": "Admin", "role": "admin"}
    at.run()
    assert "user" not in at.session_state
    # Beside a firm's users the demo users are simply unknown; the firm's sign in.
    creds = firm_credentials(tmp_path / "creds.yaml", {"boss": "admin"})
    creds.write_text(creds.read_text() + (ROOT / "config" / "credentials.yaml").read_text().split("users:\n", 1)[1])
    at = signed_out(imported_db, monkeypatch, creds)
    submit(at, "admin", "demo")
    assert "user" not in at.session_state and at.error[0].value == "Wrong username or password."
    from tests.conftest import FIRM_PASSWORD

    submit(at, "boss", FIRM_PASSWORD)
    assert at.session_state["user"]["role"] == "admin"


def test_the_data_page_warns_admins_while_demo_users_are_active(app_test, demo_db, monkeypatch, tmp_path):
    at = app_test("admin", "data")
    assert any("Demo users are active (executive, manager, compliance, admin" in w.value for w in at.warning)
    monkeypatch.setenv("DASHBOARD_CREDENTIALS", str(firm_credentials(tmp_path / "creds.yaml")))
    at = app_test("admin", "data")
    assert not at.exception and not at.warning


# --- sessions follow the credentials file, time out, and stay signed out -------------------------


def test_a_demoted_user_gets_the_new_role_and_a_removed_one_is_signed_out_at_the_next_click(demo_db, monkeypatch, tmp_path):
    from tests.conftest import FIRM_PASSWORD

    creds = firm_credentials(tmp_path / "creds.yaml", {"dana": "compliance"})
    at = signed_out(demo_db, monkeypatch, creds)
    submit(at, "dana", FIRM_PASSWORD)
    assert at.session_state["user"]["role"] == "compliance"
    time.sleep(0.01)  # a new modification time
    creds.write_text(creds.read_text().replace("role: compliance", "role: executive"))
    at.run()
    assert at.session_state["user"]["role"] == "executive"
    assert "(executive)" in at.sidebar.caption[0].value
    firm_credentials(creds, {"someone-else": "admin"})
    at.run()
    assert "user" not in at.session_state
    assert "your user was removed" in at.info[0].value
    assert events("dana") == ["sign_in", "role_changed", "signed_out_by_change"]


def test_a_new_password_ends_the_sessions_of_the_old_one(demo_db, monkeypatch, tmp_path):
    from tests.conftest import FIRM_PASSWORD

    creds = firm_credentials(tmp_path / "creds.yaml", {"dana": "manager"})
    at = signed_out(demo_db, monkeypatch, creds)
    submit(at, "dana", FIRM_PASSWORD)
    assert at.session_state["user"]["role"] == "manager"
    creds.write_text(creds.read_text().split("password_hash: ")[0] + "password_hash: "
                     + access.hash_password("a brand new passphrase") + "\n")
    at.run()
    assert "user" not in at.session_state


def test_an_idle_session_is_signed_out_and_its_remembered_sign_in_revoked_for_good(demo_db, monkeypatch):
    monkeypatch.setenv("DASHBOARD_IDLE_MINUTES", "1")
    at = signed_out(demo_db, monkeypatch)
    submit(at, "manager", "demo")
    token = at.session_state["_token"]
    assert accesslog.session_alive(log_path(), token, datetime.now(timezone.utc), 60)
    at.session_state["_last_active"] = time.time() - 61
    at.run()
    assert "user" not in at.session_state
    assert "after 1 minutes without activity" in at.info[0].value
    assert events("manager")[-1] == "session_expired"
    # Revoked on record: any process reading the log (a restarted server) refuses the token.
    assert not accesslog.session_alive(log_path(), token, datetime.now(timezone.utc), 3600)
    monkeypatch.setenv("DASHBOARD_IDLE_MINUTES", "soon")
    at = signed_out(demo_db, monkeypatch)
    submit(at, "manager", "demo")
    assert "DASHBOARD_IDLE_MINUTES='soon'" in at.error[0].value and not at.exception


def test_a_remembered_sign_in_is_refused_when_idle_past_the_timeout_or_signed_out(tmp_path):
    log = tmp_path / "log.sqlite"
    accesslog.start_session(log, "tok", "amy", T0)
    assert accesslog.session_alive(log, "tok", T0 + timedelta(minutes=29), 1800)
    assert not accesslog.session_alive(log, "tok", T0 + timedelta(minutes=31), 1800)
    accesslog.touch_session(log, "tok", T0 + timedelta(minutes=20))
    assert accesslog.session_alive(log, "tok", T0 + timedelta(minutes=49), 1800)
    accesslog.revoke_session(log, "tok", T0 + timedelta(minutes=21))
    assert not accesslog.session_alive(log, "tok", T0 + timedelta(minutes=22), 1800)
    accesslog.touch_session(log, "tok", T0 + timedelta(minutes=23))  # no resurrection
    assert not accesslog.session_alive(log, "tok", T0 + timedelta(minutes=24), 1800)
    assert not accesslog.session_alive(log, "never-issued", T0, 1800)
    with sqlite3.connect(log) as con:
        assert "tok" not in str(con.execute("select * from sessions").fetchall())  # only its hash is kept


def test_page_views_are_logged_with_the_filters_in_force(app_test, demo_db):
    import duckdb

    with duckdb.connect(str(demo_db), read_only=True) as con:
        team = con.execute("select min(team) from accounts").fetchall()[0][0]
    at = app_test("manager", "scorecard", {"team": team})
    views = accesslog.entries(log_path(), event="page_view")
    assert not at.exception and len(views) >= 1
    assert '"page": "scorecard"' in views["detail"].iloc[0] and f'"team": ["{team}"]' in views["detail"].iloc[0]
    assert set(views["username"]) == {"manager"}
    before = len(views)
    at.run()  # the same view again: not logged twice
    assert len(accesslog.entries(log_path(), event="page_view")) == before
    app_test("executive")  # at /: the hidden home page forwards to the landing page, logged as that page
    pages = [d.split('"page": ')[1] for d in accesslog.entries(log_path(), event="page_view")["detail"]]
    assert pages[0] == '"scorecard"}' and '""}' not in pages


# --- the chained logs ---------------------------------------------------------------------------


def tamper(path, *statements):
    with sqlite3.connect(path) as con:
        con.executescript(";".join(statements))


def test_the_access_log_chain_finds_an_edit_a_deletion_and_a_dropped_trigger(tmp_path):
    log = tmp_path / "log.sqlite"
    for i in range(5):
        accesslog.record(log, "page_view", T0 + timedelta(minutes=i), "amy", "10.0.0.1", page="scorecard")
    count, head, problems = accesslog.verify(log)
    assert (count, problems) == (5, []) and len(head) == 64
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        tamper(log, "update access_log set username = 'bob' where entry_id = 2")
    tamper(log, "drop trigger access_log_no_update", "update access_log set username = 'bob' where entry_id = 2")
    problems = accesslog.verify(log)[2]
    assert any("UPDATE" in p and "dropped" in p for p in problems)
    assert any("row 2 was changed" in p for p in problems)
    tamper(log, "drop trigger access_log_no_delete", "delete from access_log where entry_id = 3")
    assert any("rows 3 to 3 are missing" in p for p in accesslog.verify(log)[2])
    tamper(log, "delete from access_log where entry_id = 5")
    assert any("the last rows were deleted" in p for p in accesslog.verify(log)[2])


def test_the_review_log_is_chained_and_a_rewritten_decision_is_found(tmp_path):
    log = tmp_path / "reviews.sqlite"
    reviews.record(log, "C1", "regf_7in7", "dismissed", "carol", T0, reason="duplicate record")
    reviews.record(log, 42, "regf_7in7", "confirmed", "carol", T0)  # an id given as a number is kept as text
    assert reviews.verify(log)[:1] == (2,) and reviews.verify(log)[2] == []
    # The issue's attack: drop the trigger, rewrite the reviewer and the decision, put the trigger back.
    tamper(log, "drop trigger reviews_no_update", "update reviews set reviewer = 'mallory', state = 'confirmed' where review_id = 1",
           reviews.TRIGGERS)
    problems = reviews.verify(log)[2]
    assert problems == ["reviews row 1 was changed after it was written: its fields no longer give its hash"]


def test_a_review_log_written_before_the_chain_is_chained_when_next_opened(tmp_path):
    log = tmp_path / "reviews.sqlite"
    old_schema = reviews.SCHEMA.replace("    previous_review_id integer references reviews (review_id),\n"
                                        "    prev_hash text,                     -- the chain (analysis.chain): the row before's hash\n"
                                        "    hash text                           -- SHA-256 of prev_hash and this row's fields\n",
                                        "    previous_review_id integer references reviews (review_id)\n")
    assert "prev_hash" not in old_schema
    with sqlite3.connect(log) as con:
        con.executescript(old_schema + reviews.TRIGGERS)
        con.execute("insert into reviews (contact_id, rule_id, state, reason, note, reviewer, reviewed_at, previous_state)"
                    " values ('C9', 'regf_7in7', 'confirmed', null, '', 'carol', '2026-01-01T00:00:00+00:00', 'unreviewed')")
    reviews.record(log, "C9", "regf_7in7", "dismissed", "dan", T0, reason="consent on file")
    assert list(reviews.history(log)["reviewer"]) == ["carol", "dan"]
    assert reviews.verify(log)[:1] == (2,) and reviews.verify(log)[2] == []


def test_verify_logs_prints_each_log_and_fails_on_tampering(tmp_path, monkeypatch):
    db = tmp_path / "firm.duckdb"
    monkeypatch.delenv("DASHBOARD_ACCESS_LOG")
    accesslog.record(accesslog.default_path(db), "sign_in", T0, "amy")
    reviews.record(reviews.default_path(db), "C1", "regf_7in7", "confirmed", "amy", T0)
    done = cli("verify-logs", "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "access log" in done.stdout and "1 entries, chain intact" in done.stdout and "review log" in done.stdout
    tamper(reviews.default_path(db), "drop trigger reviews_no_delete", "delete from reviews")
    done = cli("verify-logs", "--db", str(db))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "review log" in done.stdout and "the trigger that refuses DELETE on reviews is missing" in done.stdout
    assert "the last rows were deleted" in done.stdout


def test_the_data_page_shows_both_chains_and_flags_a_tampered_log(app_test, demo_db, monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_REVIEWS", str(tmp_path / "reviews.sqlite"))
    reviews.record(tmp_path / "reviews.sqlite", "C1", "regf_7in7", "confirmed", "amy", T0)
    at = app_test("admin", "data")
    at.segmented_control[0].set_value("Access log").run()
    assert not at.exception
    assert [s.value.split(" (")[0] for s in at.success] == ["The access log", "The review log", "The label log"]
    assert "page_view" in set(at.dataframe[-1].value["event"])
    tamper(tmp_path / "reviews.sqlite", "drop trigger reviews_no_update", "update reviews set state = 'dismissed'")
    at.run()
    assert any("The review log" in e.value and "tampered" in e.value for e in at.error)


def test_a_download_button_shown_but_not_clicked_logs_nothing(app_test):
    # Downloads are logged as the file is made for the browser (dashboard/audit.py), never when the
    # button is merely drawn: a page with download buttons, run twice, leaves no download entry.
    at = app_test("admin", "scorecard")
    at.run()
    assert not at.exception and at.get("download_button")
    assert len(accesslog.entries(log_path(), event="page_view")) >= 1  # the log is written by these runs
    assert accesslog.entries(log_path(), event="download").empty


def test_a_download_is_logged_once_its_file_is_made_and_not_when_making_it_fails(demo_db, monkeypatch, tmp_path):
    # A click on a page left open past two imports cannot make its file (its data version is gone):
    # the access log must not say that the user downloaded it.
    from analysis.errors import UserError
    from dashboard import audit

    monkeypatch.setenv("DASHBOARD_DB", str(demo_db))
    monkeypatch.setenv("DASHBOARD_ACCESS_LOG", str(tmp_path / "access.sqlite"))

    class Button:  # where st.download_button would keep the callable until the click
        def download_button(self, label, data, **kwargs):
            self.click = data

    def gone():
        raise UserError("the data this page opened on was replaced by a newer import: reload the page to see the latest")

    button = Button()
    audit.download_button("Download", gone, file_name="old.csv", what="old list", container=button)
    with pytest.raises(UserError):
        button.click()
    assert accesslog.entries(audit.log_path(), event="download").empty
    audit.download_button("Download", lambda: b"a,b\n", file_name="new.csv", what="new list", container=button)
    assert button.click() == b"a,b\n"
    logged = accesslog.entries(audit.log_path(), event="download")
    assert len(logged) == 1 and "new.csv" in logged["detail"].iloc[0]
