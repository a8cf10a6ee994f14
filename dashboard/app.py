"""Entry point: page config, sign-in, the role's page list, the shared sidebar filters, the page."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts dashboard/ on the path, not the repo
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from analysis import access  # noqa: E402
from analysis.errors import UserError  # noqa: E402
from dashboard.data import db_path  # noqa: E402
from dashboard.filters import sidebar_filters  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
TITLES = {
    "scorecard": ("Scorecard", ":material/summarize:"),
    "balance": ("Balance", ":material/balance:"),
    "repayments": ("Repayments", ":material/payments:"),
    "experience": ("Customer experience", ":material/sentiment_satisfied:"),
    "complaints": ("Complaints", ":material/report:"),
    "benchmark": ("CFPB benchmark", ":material/public:"),
    "conversations": ("Conversations", ":material/forum:"),
    "compliance": ("Compliance", ":material/gavel:"),
    "data": ("Data", ":material/database:"),
}
CREDENTIALS = Path(os.environ.get("DASHBOARD_CREDENTIALS") or ROOT / "config" / "credentials.yaml")

st.set_page_config(page_title="Collections analytics", page_icon=":material/analytics:", layout="wide")


def sign_in() -> None:
    try:
        users = access.load_credentials(CREDENTIALS)
    except UserError as exc:
        st.error(str(exc))
        st.stop()
    st.title("Collections analytics")
    with st.form("sign_in"):
        username = st.text_input("Username")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        user = access.authenticate(users, username, password)
        if user:
            st.session_state["user"] = user
            st.rerun()
        st.error("Wrong username or password.")
    st.stop()


if "user" not in st.session_state:
    sign_in()

if not db_path().exists():
    st.error(f"Database {db_path()} not found. Build it with `python -m analysis demo --db {db_path()}` or set DASHBOARD_DB.")
    st.stop()

user = st.session_state["user"]
pages = [
    st.Page(PAGES_DIR / f"{key}.py", title=TITLES[key][0], icon=TITLES[key][1], url_path=key, default=(i == 0))
    for i, key in enumerate(access.pages_for(user["role"]))
]
page = st.navigation(pages)
with st.sidebar:
    st.caption(f"Signed in as **{user['name']}** ({user['role']})")
    if st.button("Sign out"):
        st.session_state.clear()
        st.rerun()
st.session_state["filters"] = sidebar_filters()
page.run()
