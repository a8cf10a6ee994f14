"""Entry point: page config, sign-in, the role's page list, the shared sidebar filters, the page."""
from __future__ import annotations

import math
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts dashboard/ on the path, not the repo
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from analysis import access, accesslog, catalog  # noqa: E402
from analysis.errors import UserError  # noqa: E402
from dashboard import audit  # noqa: E402
from dashboard.data import db_path, freeze_startup_heap, load_kept, pin_version, watch  # noqa: E402
from dashboard.filters import sidebar_filters  # noqa: E402
from dashboard.ui import TITLES  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
COOKIE = "collections_session"

st.set_page_config(page_title="Collections analytics", page_icon=":material/analytics:", layout="wide")


def oidc_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an [auth] section for st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises StreamlitSecretNotFoundError
        return False


def fail(message: str) -> None:
    st.error(message)
    st.stop()


def credentials() -> dict[str, dict]:
    """The users who may sign in now. Read on every run (re-read only when the file changes), so a
    removed or demoted user is seen at the next click. On a database that is not the demo, the demo
    users (still with the demo password) are refused: they are the same in every copy of this project."""
    path = access.default_credentials_path()
    try:
        users = access.load_credentials(path)
        demo = access.demo_users(users)
        if demo and not load_kept(catalog.is_demo):
            users = {name: user for name, user in users.items() if name not in demo}
            if not users:
                if "user" in st.session_state:
                    sign_out("signed_out_by_change")
                fail(f"This database is not the demo, and {path} holds only the demo users, refused here: add a user "
                     "with `python -m analysis users add NAME --role admin` and remove the demo ones with `users remove`.")
    except UserError as exc:
        fail(str(exc))
    return users


# Writes the remembered-sign-in cookie in the browser. A v2 component runs in the app's own document
# (no iframe), so document.cookie is the app's; with `expect` it reports back whether the browser now
# holds the cookie, and the sign-in completes only on that report (see `sign_in`).
COOKIE_JS = """
export default function ({ data, setTriggerValue }) {
  document.cookie = data.cookie;
  if (data.expect) setTriggerValue("stored", document.cookie.split("; ").includes(data.expect));
}
"""
cookie_writer = st.components.v2.component("collections_cookie", js=COOKIE_JS)


def cookie_header(value: str, max_age: int) -> str:
    secure = "; Secure" if (st.context.url or "").startswith("https://") else ""
    return f"{COOKIE}={value}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}"


def finish_sign_in() -> None:
    """The browser reported the cookie written (or that it refuses cookies): the user is signed in.

    A callback, so it runs before the script of the rerun that the report starts: that run is the
    first signed-in run, and whatever it does (the home page forwarding with st.switch_page, a
    slow page) the cookie is already in the browser. A browser that refuses cookies is signed in
    all the same, only not remembered.
    """
    pending = st.session_state.pop("_pending", None)
    if pending:
        start_session(pending["user"], pending["token"], pending["password_hash"])


def start_session(user: dict, token: str | None, password_hash: str | None) -> None:
    st.session_state["user"] = user
    st.session_state["_token"] = token  # revoked at sign-out or after the idle timeout
    st.session_state["_password_hash"] = password_hash  # a new password ends the session (see `recheck`)
    st.session_state["_last_active"] = st.session_state["_touched"] = time.time()


def page_list(keys) -> list:
    """The pages for `keys`, each at its own /<key> URL, behind a hidden home page at /.

    Streamlit serves the default page at / only, so a link to /<key> of a role's landing page would
    say "page not found". A hidden default page that forwards to the first key keeps every page
    reachable at its own URL, and a typed URL outside the role lands on the role's first page.
    """
    pages = [st.Page(PAGES_DIR / f"{key}.py", title=TITLES[key][0], icon=TITLES[key][1], url_path=key) for key in keys]

    def home() -> None:
        st.switch_page(pages[0], query_params=[(k, v) for k in st.query_params for v in st.query_params.get_all(k)])

    return [st.Page(home, title="Home", url_path="home", default=True, visibility="hidden"), *pages]


def sign_in() -> None:
    """Sign the visitor in (password form, or the identity provider when configured), or stop the run."""
    users = credentials()
    # Register every page, hidden and never run, only so that a deep link's page path
    # (/compliance?team=North) stays in the URL through sign-in; after sign-in the role's own
    # st.navigation decides whether that page may open.
    st.navigation(page_list(TITLES), position="hidden")
    if st.session_state.pop("_forget", False):
        cookie_writer(data={"cookie": cookie_header("", 0)}, key="_cookie_forget")
    now = datetime.now(timezone.utc)
    token = st.context.cookies.get(COOKIE)
    if token and not st.session_state.get("_signed_out"):
        user = access.user_from_session_token(users, token, now.timestamp())
        # A reload or a new tab of a signed-in browser: no second sign-in, if the sign-in is on
        # record, not signed out (even before a restart) and not idle past the timeout.
        if user and accesslog.session_alive(audit.log_path(), token, now, idle_seconds()):
            start_session(user, token, users[user["username"]]["password_hash"])
            audit.record("session_resumed")
            return
    if oidc_configured() and st.user.get("is_logged_in"):
        user, problem = access.user_for_identity(users, st.user)
        if user:
            start_session({**user, "sso": True}, None, None)
            audit.record("sign_in", method="single sign-on")
            return
        st.title("Collections analytics")
        audit.record("sign_in_failed", str(st.user.get("email") or ""), method="single sign-on", reason=problem)
        st.error(f"Cannot sign in with single sign-on: {problem}.")
        if st.button("Sign out"):
            st.logout()
        st.stop()
    st.title("Collections analytics")
    if st.session_state.get("_notice"):
        st.info(st.session_state.pop("_notice"))
    with st.form("sign_in"):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if oidc_configured():
        st.button("Sign in with single sign-on", on_click=st.login)
    if submitted:
        st.session_state.pop("_pending", None)
        typed = (username or "").strip()
        wait = accesslog.sign_in_wait(audit.log_path(), typed, audit.client(), now)
        user = access.authenticate(users, username, password) if wait == 0 else None
        if wait is None:  # counted by the name typed, known or not: a lock tells nothing of who exists
            audit.record("sign_in_refused", typed, reason="locked")
            st.error("Too many failed sign-ins: this sign-in is locked. An administrator can lift it with "
                     "`python -m analysis users unlock NAME`, or it lifts 24 hours after the last attempt.")
        elif wait > 0:
            audit.record("sign_in_refused", typed, reason="wait", seconds=math.ceil(wait))
            st.error(f"Too many failed sign-ins: wait {math.ceil(wait)} seconds, then try again.")
        elif user:
            # Remember this browser for a working day. The user is not signed in yet: the cookie is
            # written first and the browser's report (`finish_sign_in`) completes the sign-in, so a
            # reload as soon as the signed-in page shows finds the cookie (it used to be written at
            # the end of the first signed-in run, seconds later under load).
            password_hash = users[user["username"]]["password_hash"]
            token = access.session_token(user, int(now.timestamp()) + access.SESSION_SECONDS, password_hash)
            accesslog.start_session(audit.log_path(), token, user["username"], now)
            audit.record("sign_in", user["username"], method="password")
            st.session_state["_pending"] = {"user": user, "token": token, "password_hash": password_hash}
        else:
            audit.record("sign_in_failed", typed, method="password")
            st.error("Wrong username or password.")
    if "_pending" in st.session_state:
        token = st.session_state["_pending"]["token"]
        # The query string (shared filters of a link) survives the rerun the report starts.
        cookie_writer(data={"cookie": cookie_header(token, access.SESSION_SECONDS), "expect": f"{COOKIE}={token}"},
                      key="_cookie_stored", on_stored_change=finish_sign_in)
        st.caption("Signing in…")
    st.stop()


def idle_seconds() -> int:
    try:
        return access.idle_seconds()
    except UserError as exc:
        fail(str(exc))


def sign_out(event: str = "sign_out", notice: str = "") -> None:
    """End the session: its remembered sign-in revoked for good (on record, so a restart does not
    bring it back), the event logged, the browser's cookie cleared."""
    sso = st.session_state.get("user", {}).get("sso")
    if st.session_state.get("_token"):
        accesslog.revoke_session(audit.log_path(), st.session_state["_token"], datetime.now(timezone.utc))
    if "user" in st.session_state:
        audit.record(event)
    st.session_state.clear()
    # This session must not sign in again from the cookie it started with; the browser forgets it.
    st.session_state["_signed_out"] = True
    st.session_state["_forget"] = True
    st.session_state["_notice"] = notice
    st.query_params.clear()
    if sso:
        st.logout()


def recheck(users: dict[str, dict]) -> None:
    """On every run: the user must still exist (a new password ends the session), the role is the
    file's current one, and the session must not have sat idle past the timeout."""
    user = st.session_state["user"]
    if user.get("sso"):
        current = access.user_for_email(users, user.get("email"))  # verified at sign-in
        same_password = True
    else:
        record = users.get(user["username"])
        current = record and {"username": user["username"], "name": record.get("name") or user["username"], "role": record["role"]}
        known = st.session_state.setdefault("_password_hash", record and record["password_hash"])
        same_password = bool(record) and record["password_hash"] == known
    if not current or not same_password:
        sign_out("signed_out_by_change", "You were signed out: your user was removed or its password changed.")
        st.rerun()
    if current["role"] != user["role"]:
        audit.record("role_changed", old_role=user["role"], new_role=current["role"])
        st.session_state["user"] = {**user, "role": current["role"]}
    now = time.time()
    idle = now - st.session_state.get("_last_active", now)
    if idle > idle_seconds():
        sign_out("session_expired", f"You were signed out after {idle_seconds() // 60} minutes without activity.")
        st.rerun()
    st.session_state["_last_active"] = now
    token = st.session_state.get("_token")
    if token and now - st.session_state.get("_touched", 0) >= 60:  # the remembered sign-in's activity, once a minute
        accesslog.touch_session(audit.log_path(), token, datetime.now(timezone.utc))
        st.session_state["_touched"] = now


watch()  # opens and warms each published data version in the background, from the first sign-in form on
freeze_startup_heap(PAGES_DIR)  # once: the modules' objects leave the full collection Streamlit runs after every run

if not db_path().exists():
    fail(f"Database {db_path()} not found. Build it with `python -m analysis demo --db {db_path()}` or set DASHBOARD_DB.")

if "user" not in st.session_state:
    sign_in()
recheck(credentials())

pin_version()  # every query of this run reads the same database version, whatever is published meanwhile

user = st.session_state["user"]
# The one place where the role decides the pages: st.navigation registers only these, so a page
# outside the list cannot run for this session, whatever URL is typed.
page = st.navigation(page_list(access.pages_for(user["role"])))
with st.sidebar:
    st.caption(f"Signed in as **{user['name']}** ({user['role']})")
    st.button("Sign out", on_click=sign_out)
try:
    st.session_state["filters"] = sidebar_filters()
    if page.url_path not in ("", "home"):  # the hidden home page (served at /) only forwards
        audit.view(page.url_path)
    page.run()
except UserError as exc:  # e.g. the database cannot be opened: one line, no traceback
    st.error(str(exc))
