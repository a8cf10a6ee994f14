"""What the dashboard writes to the access log (analysis.accesslog): sign-ins, page views with the
filters in force, downloads and exports. One module, so a page logs a download by using
`download_button` here instead of Streamlit's.

If the access log cannot be written, the run stops with the reason: the dashboard does not serve
what it cannot account for.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import streamlit as st

from analysis import accesslog
from analysis.errors import UserError
from dashboard.data import db_path


def log_path():
    return accesslog.default_path(db_path())


def client() -> str:
    """The browser's address: behind a reverse proxy that sets X-Real-IP (DASHBOARD_TRUST_PROXY=1),
    that header; else the connection's, "localhost" for loopback (Streamlit gives no address then)."""
    if os.environ.get("DASHBOARD_TRUST_PROXY") == "1":
        forwarded = str(st.context.headers.get("X-Real-IP") or "").strip()
        if forwarded:
            return forwarded[:64]
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "localhost"


def record(event: str, username: str | None = None, **detail) -> None:
    """Append an entry for this session's user (or `username`, e.g. the name typed at a failed sign-in)."""
    if username is None:
        username = st.session_state.get("user", {}).get("username", "")
    try:
        accesslog.record(log_path(), event, datetime.now(timezone.utc), username, client(), **detail)
    except UserError as exc:
        st.error(str(exc))
        st.stop()


def view(page: str) -> None:
    """Log a page view when the page or anything in the URL (the sidebar filters, the page's own
    choices: month, breach, conversation) differs from the last one logged for this session."""
    params = {key: st.query_params.get_all(key) for key in sorted(st.query_params)}
    seen = json.dumps([page, params], sort_keys=True)
    if st.session_state.get("_logged_view") != seen:
        record("page_view", page=page, filters=params)
        st.session_state["_logged_view"] = seen


def download_button(label: str, data, *, file_name: str, what: str, rows: int | None = None, container=st, **kwargs):
    """st.download_button that logs each download (which, the file name, how many rows) as the file is
    made for the browser. The file is made on click (the data is wrapped in a callable), outside the
    page's run: who and from where are read now. No rerun follows the click (`on_click="ignore"`): a
    rerun after every download made a quick second click land mid-rerun, where it could be lost."""
    username, address, path = st.session_state.get("user", {}).get("username", ""), client(), log_path()

    def made():
        content = data() if callable(data) else data  # first: a download that fails is not logged as made
        accesslog.record(path, "download", datetime.now(timezone.utc), username, address,
                         what=what, file=file_name, rows=rows)
        return content

    return container.download_button(label, made, file_name=file_name, on_click="ignore", **kwargs)
