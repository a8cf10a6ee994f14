"""Entry point: page config, sign-in, the role's page list, the shared sidebar filters, the page."""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts dashboard/ on the path, not the repo
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from analysis import access  # noqa: E402
from analysis.errors import UserError  # noqa: E402
from dashboard.data import db_path, pin_version, watch  # noqa: E402
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


def credentials() -> dict[str, dict]:
    try:
        return access.load_credentials(access.default_credentials_path())
    except UserError as exc:
        st.error(str(exc))
        st.stop()


@st.cache_resource(show_spinner=False)
def revoked_tokens() -> set[str]:
    """Remembered sign-ins ended by "Sign out" while this server runs (the cookie is cleared too)."""
    return set()


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
        st.session_state["user"] = pending["user"]
        st.session_state["_token"] = pending["token"]  # revoked at sign-out


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
    token = st.context.cookies.get(COOKIE)
    if token and token not in revoked_tokens() and not st.session_state.get("_signed_out"):
        user = access.user_from_session_token(users, token, time.time())
        if user:  # a reload or a new tab of a signed-in browser: no second sign-in
            st.session_state["user"] = user
            st.session_state["_token"] = token
            return
    if oidc_configured() and st.user.get("is_logged_in"):
        user = access.user_for_email(users, st.user.get("email"))
        if user:
            st.session_state["user"] = {**user, "sso": True}
            return
        st.title("Collections analytics")
        st.error(f"{st.user.get('email')} has no dashboard role: ask an administrator to add this email "
                 "with `python -m analysis users add NAME --role ROLE --email EMAIL`.")
        if st.button("Sign out"):
            st.logout()
        st.stop()
    st.title("Collections analytics")
    with st.form("sign_in"):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if oidc_configured():
        st.button("Sign in with single sign-on", on_click=st.login)
    if submitted:
        user = access.authenticate(users, username, password)
        if user:
            # Remember this browser for a working day. The user is not signed in yet: the cookie is
            # written first and the browser's report (`finish_sign_in`) completes the sign-in, so a
            # reload as soon as the signed-in page shows finds the cookie (it used to be written at
            # the end of the first signed-in run, seconds later under load).
            token = access.session_token(user, int(time.time()) + access.SESSION_SECONDS,
                                         users.get(user["username"], {}).get("password_hash", ""))
            st.session_state["_pending"] = {"user": user, "token": token}
        else:
            st.session_state.pop("_pending", None)
            st.error("Wrong username or password.")
    if "_pending" in st.session_state:
        token = st.session_state["_pending"]["token"]
        # The query string (shared filters of a link) survives the rerun the report starts.
        cookie_writer(data={"cookie": cookie_header(token, access.SESSION_SECONDS), "expect": f"{COOKIE}={token}"},
                      key="_cookie_stored", on_stored_change=finish_sign_in)
        st.caption("Signing in…")
    st.stop()


def sign_out() -> None:
    sso = st.session_state.get("user", {}).get("sso")
    if st.session_state.get("_token"):
        revoked_tokens().add(st.session_state["_token"])
    st.session_state.clear()
    # This session must not sign in again from the cookie it started with; the browser forgets it.
    st.session_state["_signed_out"] = True
    st.session_state["_forget"] = True
    st.query_params.clear()
    if sso:
        st.logout()


watch()  # opens and warms each published data version in the background, from the first sign-in form on

if "user" not in st.session_state:
    sign_in()

if not db_path().exists():
    st.error(f"Database {db_path()} not found. Build it with `python -m analysis demo --db {db_path()}` or set DASHBOARD_DB.")
    st.stop()
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
    page.run()
except UserError as exc:  # e.g. the database cannot be opened: one line, no traceback
    st.error(str(exc))
