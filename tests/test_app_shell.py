"""The app shell through Streamlit's AppTest: every page for every role, sign-in, roles, masking, URL filters.

Pages other helpers own are run here too (from the entry point, as a user reaches them), so a page
that breaks for some role, forgets "Data as of" or leaks personal data fails here.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis import access
from analysis.filters import Filters

ROLE_PAGES = [(role, key) for key, roles in access.PAGE_ROLES.items() for role in roles]
FORBIDDEN = [(role, key) for key, roles in access.PAGE_ROLES.items() for role in access.ROLES if role not in roles]


def demo_values(db: Path, sql: str) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {str(r[0]) for r in con.execute(sql).fetchall() if r[0] is not None}
    finally:
        con.close()


def walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


def visible_text(at) -> tuple[str, list[pd.DataFrame]]:
    """Everything the run would send to the browser: element protos as text, and dataframes' values."""
    texts, frames = [], []
    for node in walk(at._tree):
        if type(node).__name__ == "Dataframe":
            frames.append(node.value)
        elif getattr(node, "proto", None) is not None:
            texts.append(str(node.proto))
    return "\n".join(texts), frames


def leaked(at, raw: set[str]) -> set[str]:
    """Raw personal values that appear anywhere on the page (as a token of text or a cell)."""
    text, frames = visible_text(at)
    found = {tok for tok in re.findall(r"[+\w]+", text) if tok in raw}
    for df in frames:
        for col in [*df.columns, "__index__"]:
            values = df.index if col == "__index__" else df[col]
            found |= {str(v) for v in values if str(v) in raw}
    return found


# --- every page, every role ------------------------------------------------------------------


@pytest.mark.parametrize(("role", "page_key"), ROLE_PAGES, ids=[f"{r}-{k}" for r, k in ROLE_PAGES])
def test_every_page_runs_for_every_role_it_is_given_and_says_how_fresh_its_data_is(app_test, role, page_key):
    at = app_test(role, page_key)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title, "the page has no title (ui.header draws one)"
    # ui.header puts "Data as of ..." in the first caption under the title; every page must call it.
    assert at.main.caption and at.main.caption[0].value.startswith("Data as of "), \
        f"{page_key}: first caption is not 'Data as of ...' (call ui.header first)"
    assert "unknown" not in at.main.caption[0].value


@pytest.mark.parametrize(("role", "page_key"), FORBIDDEN, ids=[f"{r}-{k}" for r, k in FORBIDDEN])
def test_a_role_cannot_reach_a_page_it_is_not_given(app_test, role, page_key):
    at = app_test(role)
    # st.navigation registered only the role's pages; AppTest refuses to switch to any other,
    # exactly as the server answers a typed URL with "page not found" and the landing page.
    with pytest.raises(ValueError, match="navigation page"):
        at.switch_page(f"app_pages/{page_key}.py")


@pytest.mark.parametrize("role", access.ROLES)
def test_the_landing_page_is_the_first_page_of_the_role(app_test, role):
    landing = app_test(role)
    first = app_test(role, access.pages_for(role)[0])
    assert not landing.exception
    assert [t.value for t in landing.title] == [t.value for t in first.title]
    assert f"({role})" in landing.sidebar.caption[0].value


# --- personal data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def personal_values(demo_db) -> dict[str, set[str]]:
    return {
        "account ids": demo_values(demo_db, "select account_id from accounts"),
        "consumer ids": demo_values(demo_db, "select consumer_id from accounts"),
        "phone numbers": demo_values(demo_db, "select phone from accounts"),
    }


@pytest.mark.parametrize("role", ["executive", "manager"])
def test_roles_without_pii_never_see_a_raw_account_or_consumer_id_or_phone_number_on_any_page(app_test, personal_values, role):
    raw = set().union(*personal_values.values())
    assert len(raw) > 100, "the demo database should have personal values to leak"
    for page_key in access.pages_for(role):
        at = app_test(role, page_key)
        assert not at.exception, (page_key, [e.message for e in at.exception])
        found = leaked(at, raw)
        assert not found, f"{role} sees raw personal values on {page_key}: {sorted(found)[:5]}"


def test_transcript_text_is_withheld_from_managers_on_every_page(app_test, demo_db):
    # Whole utterances of at least 60 characters: short ones ("Yes.") could appear on a page by chance.
    texts = demo_values(demo_db, "select distinct text from turns where length(text) >= 60")
    assert texts
    for page_key in access.pages_for("manager"):
        at = app_test("manager", page_key)
        text, frames = visible_text(at)
        shown = {t for t in texts if t in text}
        for df in frames:
            for col in df.columns:
                if df[col].dtype == object or str(df[col].dtype).startswith("str"):
                    shown |= set(df[col].dropna().astype(str)) & texts
        assert not shown, f"manager sees transcript text on {page_key}: {sorted(shown)[:2]}"


def test_the_leak_detector_finds_raw_ids_in_text_tables_and_charts_and_none_once_masked():
    # Positive control for the two tests above: if the detector could not see ids, they would pass
    # whatever the pages showed.
    from streamlit.testing.v1 import AppTest

    script = """
import pandas as pd
import plotly.express as px
import streamlit as st
from analysis import access
role = st.session_state["role"]
df = access.mask_frame(pd.DataFrame({"account_id": ["A0000001"], "phone": ["+12015550100"], "n": [3]}), role)
st.dataframe(df)
st.markdown("Account " + access.mask_value("A0000002", "account_id", role))
st.plotly_chart(px.bar(df, x="account_id", y="n"))
st.selectbox("Account", [access.mask_value("A0000004", "account_id", role)])
"""
    raw = {"A0000001", "A0000002", "A0000004", "+12015550100"}
    for role, expected in [("admin", raw), ("executive", set())]:
        at = AppTest.from_string(script, default_timeout=60)
        at.session_state["role"] = role
        at.run()
        assert not at.exception
        assert leaked(at, raw) == expected, role


def test_masking_pseudonymises_ids_and_withholds_text_for_roles_without_pii():
    df = pd.DataFrame({
        "account_id": ["A1", "A2", "A1", None], "consumer_id": ["C1", "C2", "C1", "C3"],
        "first_account_id": ["A1"] * 4, "phone": ["+15550100"] * 4, "customer_text": ["I lost my job", None, "x", "y"],
        "team": ["North"] * 4, "phone_timezone": ["America/Chicago"] * 4,
    })
    out = access.mask_frame(df, "executive")
    assert not set(out["account_id"]) & {"A1", "A2"}
    assert out["account_id"][0] == out["account_id"][2] != out["account_id"][1], "the same id gets the same pseudonym"
    assert out["account_id"][3] == ""
    assert out["account_id"][0].startswith("acct~") and out["consumer_id"][0].startswith("cons~")
    assert out["first_account_id"][0] == out["account_id"][0]
    assert set(out["phone"]) == {access.WITHHELD}
    assert list(out["customer_text"].isna()) == [False, True, False, False]
    assert out["team"].tolist() == df["team"].tolist() and out["phone_timezone"].tolist() == df["phone_timezone"].tolist()
    assert df["account_id"][0] == "A1", "the caller's frame is not changed"
    for role in access.PII_ROLES:
        assert access.mask_frame(df, role) is df


def test_a_pseudonym_is_keyed_so_it_cannot_be_recomputed_from_a_guessed_id(monkeypatch):
    import hashlib

    first = access.pseudonym("A0000001")
    assert first == access.pseudonym("A0000001")
    assert hashlib.sha256(b"A0000001").hexdigest()[:10] not in first
    monkeypatch.setattr(access, "_key", None)
    monkeypatch.setenv("DASHBOARD_PSEUDONYM_KEY", "a configured key")
    keyed = access.pseudonym("A0000001")
    assert keyed != first
    monkeypatch.setattr(access, "_key", None)
    assert access.pseudonym("A0000001") == keyed, "a configured key gives the same pseudonym after a restart"


# --- sign-in ---------------------------------------------------------------------------------


def signed_out(demo_db, monkeypatch, credentials: Path | None = None):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP, APP_TEST_TIMEOUT

    monkeypatch.setenv("DASHBOARD_DB", str(demo_db))
    if credentials is not None:
        monkeypatch.setenv("DASHBOARD_CREDENTIALS", str(credentials))
    return AppTest.from_file(str(APP), default_timeout=APP_TEST_TIMEOUT).run()


def submit(at, username: str, password: str):
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    writers = [e for e in at.get("bidi_component") if e.key == "_cookie_stored"]
    if writers:
        report_cookie_stored(at, writers[0])
    return at


def report_cookie_stored(at, writer):
    """Do what the browser does with the cookie writer: store the cookie, report it, rerun.

    AppTest runs no JavaScript, so this sends the component's trigger the way Streamlit's frontend
    does (a JSON list of events on the component's internal trigger widget).
    """
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    assert "_pending" in at.session_state and "user" not in at.session_state, "signed in only on the report"
    assert at.session_state["_pending"]["token"] in json.loads(writer.proto.json)["cookie"]
    states = at._tree.get_widget_states()
    trigger = states.widgets.add()
    trigger.id = _make_trigger_id(writer.proto.id, "events")
    trigger.json_trigger_value = json.dumps([{"event": "stored", "value": True}])
    at._run(states)


def test_a_wrong_password_is_rejected_and_shows_no_page(demo_db, monkeypatch):
    at = signed_out(demo_db, monkeypatch)
    assert [t.value for t in at.title] == ["Collections analytics"]
    submit(at, "admin", "not-demo")
    assert "user" not in at.session_state
    assert any("Wrong username or password" in e.value for e in at.error)
    assert not at.sidebar.caption, "no signed-in sidebar"
    submit(at, "nobody", "demo")
    assert "user" not in at.session_state


@pytest.mark.parametrize("role", access.ROLES)
def test_each_demo_user_signs_in_with_password_demo_and_gets_its_role(demo_db, monkeypatch, role):
    at = signed_out(demo_db, monkeypatch)
    submit(at, role, "demo")
    assert not at.exception
    assert at.session_state["user"]["role"] == role
    assert at.main.caption[0].value.startswith("Data as of ")


def test_a_broken_credentials_file_is_one_line_on_the_page_not_a_traceback(demo_db, monkeypatch, tmp_path):
    bad = tmp_path / "credentials.yaml"
    bad.write_text("users:\n  eve:\n    role: superuser\n    password_hash: $2b$10$x\n")
    at = signed_out(demo_db, monkeypatch, bad)
    assert not at.exception
    assert "unknown role 'superuser'" in at.error[0].value
    missing = signed_out(demo_db, monkeypatch, tmp_path / "none.yaml")
    assert not missing.exception and "not found" in missing.error[0].value


def test_a_missing_database_is_explained_with_the_command_that_builds_it(app_test, monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_DB", str(tmp_path / "nowhere.duckdb"))
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["user"] = {"username": "admin", "name": "Admin", "role": "admin"}
    at.run()
    assert not at.exception
    assert "python -m analysis demo" in at.error[0].value


def test_single_sign_on_maps_the_identity_providers_email_to_a_role(demo_db, monkeypatch, tmp_path):
    creds = tmp_path / "credentials.yaml"
    creds.write_text(
        "users:\n  carol:\n    name: Carol\n    role: compliance\n    email: Carol@Firm.example\n"
        f"    password_hash: {access.hash_password('long enough')}\n"
    )
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    monkeypatch.setenv("DASHBOARD_DB", str(demo_db))
    monkeypatch.setenv("DASHBOARD_CREDENTIALS", str(creds))
    auth = {"auth": {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
                     "client_id": "id", "client_secret": "secret",
                     "server_metadata_url": "https://login.example/.well-known/openid-configuration"}}
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets = auth
    at.run()
    assert any(b.label == "Sign in with single sign-on" for b in at.button), "the SSO button shows when [auth] is configured"
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets = auth
    at.user = {"is_logged_in": True, "email": "carol@firm.example", "email_verified": True}
    at.run()
    assert not at.exception
    assert at.session_state["user"]["role"] == "compliance"
    for claims, words in [({"email": "mallory@elsewhere.example", "email_verified": True}, "has no dashboard role"),
                          # only a verified email maps: a provider that lets anyone claim carol's address is refused
                          ({"email": "carol@firm.example", "email_verified": False}, "has not verified this email"),
                          ({"email": "carol@firm.example"}, "has not verified this email")]:
        stranger = AppTest.from_file(str(APP), default_timeout=60)
        stranger.secrets = auth
        stranger.user = {"is_logged_in": True, **claims}
        stranger.run()
        assert "user" not in stranger.session_state
        assert words in stranger.error[0].value


def test_the_sso_button_is_absent_without_an_auth_section(demo_db, monkeypatch):
    at = signed_out(demo_db, monkeypatch)
    assert [b.label for b in at.button] == ["Sign in"]


# --- shared filters in the URL ------------------------------------------------------------------


def test_a_link_with_filters_reproduces_the_view_and_unknown_values_are_dropped(app_test, demo_db):
    teams = sorted(demo_values(demo_db, "select team from accounts"))
    portfolios = sorted(demo_values(demo_db, "select portfolio from accounts"))
    at = app_test("manager", query_params={
        "team": [teams[0], "No such team"], "portfolio": portfolios[-1], "channel": "sms",
        "from": "2026-03-01", "to": "2026-02-01",  # reversed: read as the range they span
    })
    assert not at.exception
    f: Filters = at.session_state["filters"]
    assert f.teams == (teams[0],) and f.portfolios == (portfolios[-1],) and f.channels == ("sms",) and f.strategies == ()
    assert (f.start, f.end) == (date(2026, 2, 1), date(2026, 3, 1))
    # The URL is rewritten to what is applied, so a copied link gives the same view.
    assert at.query_params["team"] == teams[0]
    assert at.query_params["from"] == "2026-02-01" and at.query_params["to"] == "2026-03-01"


def test_a_filter_change_is_written_to_the_url_and_kept_across_a_page_switch(app_test):
    at = app_test("manager")
    channel = next(m for m in at.sidebar.multiselect if m.label == "Channel")
    channel.select("email").select("call")
    at.run()
    assert at.query_params["channel"] == ["email", "call"]
    assert at.session_state["filters"].channels == ("email", "call")
    at.switch_page("app_pages/complaints.py").run()
    assert not at.exception
    assert at.query_params["channel"] == ["email", "call"]
    assert at.session_state["filters"].channels == ("email", "call")


def test_malformed_dates_in_a_link_fall_back_to_the_full_span(app_test):
    at = app_test("executive", query_params={"from": "yesterday", "to": "2026-13-45", "keep": "me"})
    assert not at.exception
    assert "from" not in at.query_params and "to" not in at.query_params
    assert at.query_params["keep"] == "me", "a page's own parameters are left alone"


# --- the Data page ------------------------------------------------------------------------------


def test_the_data_page_counts_what_is_in_the_database(app_test, demo_db):
    at = app_test("admin", "data")
    assert not at.exception
    accounts = demo_values(demo_db, "select count(*) from accounts").pop()
    contacts = demo_values(demo_db, "select count(*) from contacts").pop()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accounts"] == f"{int(accounts):,}"
    assert metrics["Contacts"] == f"{int(contacts):,}"
    counts = at.dataframe[0].value
    assert counts["table_name"].tolist()[:2] == ["accounts", "contacts"] and len(counts) == 12


def test_the_data_page_shows_import_history_and_quarantine_reasons_after_an_import(demo_db_copy, monkeypatch, tmp_path):
    # A real import of a file with one bad row, then the page as an admin sees it.
    import subprocess
    import sys

    from tests.conftest import APP, ROOT, firm_credentials

    src = tmp_path / "in"
    src.mkdir()
    (src / "accounts.csv").write_text(
        "account_id,consumer_id,placed_date,placed_balance,timezone\n"
        "ZZ1,CZ1,2026-01-05,100.00,America/Chicago\n"
        "ZZ2,CZ2,not-a-date,50.00,America/Chicago\n"
    )
    done = subprocess.run([sys.executable, "-m", "analysis", "ingest", str(src), "--db", str(demo_db_copy)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DASHBOARD_DB", str(demo_db_copy))
    # After an import the database is a firm's, no longer the demo: the demo users are refused there.
    monkeypatch.setenv("DASHBOARD_CREDENTIALS", str(firm_credentials(tmp_path / "credentials.yaml")))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = {"username": "admin", "name": "Admin", "role": "admin"}
    at.run()
    at.switch_page("app_pages/data.py").run()
    assert {m.label: m.value for m in at.metric}["Rows in quarantine"] == "1"
    at.segmented_control[0].set_value("Import history").run()
    history = at.dataframe[0].value
    assert history.loc[history["table_name"] == "accounts", ["rows_read", "rows_loaded", "rows_quarantined"]].values.tolist() == [[2, 1, 1]]
    at.segmented_control[0].set_value("Quarantine").run()
    assert not at.exception
    rows = at.dataframe[1].value
    assert rows["line"].tolist() == [3] and "ZZ2" in rows["raw"][0]
    assert rows["reason"][0]


# --- remembered sign-in ------------------------------------------------------------------------


def test_a_remembered_sign_in_token_is_honoured_only_while_valid_unexpired_and_the_role_unchanged():
    users = {"bob": {"name": "Bob", "role": "manager", "password_hash": access.hash_password("long enough")}}
    token = access.session_token({"username": "bob", "role": "manager"}, 1_000, users["bob"]["password_hash"])
    assert access.user_from_session_token(users, token, now=999) == {"username": "bob", "name": "Bob", "role": "manager"}
    assert access.user_from_session_token(users, token, now=1_000) is None, "expired at its expiry second"
    promoted = {"bob": {**users["bob"], "role": "admin"}}
    assert access.user_from_session_token(promoted, token, now=999) is None, "a role change needs a new sign-in"
    assert access.user_from_session_token({}, token, now=999) is None, "a removed user is signed out"
    new_password = {"bob": {**users["bob"], "password_hash": access.hash_password("another one")}}
    assert access.user_from_session_token(new_password, token, now=999) is None, "a password change signs out"
    payload, sig = token.split(".")
    import base64

    forged = base64.urlsafe_b64encode(b"bob|admin|1000").decode().rstrip("=") + "." + sig
    assert access.user_from_session_token(promoted, forged, now=999) is None, "the signature covers the role"
    for junk in ["", "x", "a.b.c", "!!!.sig", payload + "." + "0" * 64]:
        assert access.user_from_session_token(users, junk, now=999) is None


def test_the_server_takes_its_modules_out_of_the_collection_streamlit_runs_after_every_run(demo_db, tmp_path):
    """Streamlit runs a full garbage collection after each script run; walking the ~130k objects of the
    libraries' modules took 65 ms a time (the interpreter held; 112-197 ms a run at 1M under load,
    docs/measurements.md). The first run imports what the pages import and freezes it, once per process
    whatever the number of sessions; a fresh process, as a server is."""
    import os
    import subprocess
    import sys
    import textwrap

    from tests.conftest import APP, ROOT

    script = textwrap.dedent(f"""
        import gc, json, sys
        from streamlit.testing.v1 import AppTest
        before, freezes, freeze = gc.get_freeze_count(), [], gc.freeze
        gc.freeze = lambda: (freezes.append(1), freeze())
        at = AppTest.from_file({str(APP)!r}, default_timeout=120).run()  # the sign-in form: no page ran
        frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
        at.run()
        AppTest.from_file({str(APP)!r}, default_timeout=120).run()  # another session
        print(json.dumps({{"before": before, "frozen": frozen, "tracked": tracked, "freezes": len(freezes),
                           "pages_imports": all(m in sys.modules for m in ("plotly.express", "analysis.plan.summary",
                                                                             "analysis.compliance.workspace"))}}))
    """)
    env = {**os.environ, "DASHBOARD_DB": str(demo_db), "DASHBOARD_WARM": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["before"] == 0
    assert got["frozen"] > 50_000  # the libraries' objects
    assert got["tracked"] < got["frozen"] / 3  # what a collection still walks
    assert got["freezes"] == 1  # once per process: later runs' objects stay collectable
    assert got["pages_imports"]  # imported before the freeze, though no page has run yet
