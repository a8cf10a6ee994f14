"""The shared sidebar filters, kept in the URL's query parameters so that a link reproduces the view."""
from __future__ import annotations

from datetime import date

import streamlit as st

from analysis import catalog
from analysis.filters import Filters
from dashboard.data import load

LISTS = {"portfolio": "portfolios", "team": "teams", "channel": "channels", "strategy": "strategies"}


def _from_url(key: str) -> list[str]:
    return [v for v in st.query_params.get_all(key) if v]


def sidebar_filters() -> Filters:
    """Draw the filters in the sidebar (seeded from the URL) and write the choices back to the URL."""
    opts = load(catalog.filter_options)
    lo, hi = opts["min_date"], opts["max_date"]

    def url_date(key: str, default: date) -> date:
        try:
            return min(max(date.fromisoformat(st.query_params.get(key, "")), lo), hi)
        except ValueError:
            return default

    if "f_dates" not in st.session_state:
        st.session_state["f_dates"] = (url_date("from", lo), url_date("to", hi))
    for param, plural in LISTS.items():
        key = f"f_{param}"
        if key not in st.session_state:
            st.session_state[key] = [v for v in _from_url(param) if v in opts[plural]]

    with st.sidebar:
        st.subheader("Filters")
        dates = st.date_input("Date range", key="f_dates", min_value=lo, max_value=hi)
        chosen = {}
        for param, plural in LISTS.items():
            chosen[plural] = st.multiselect(param.capitalize(), opts[plural], key=f"f_{param}", placeholder="All")

    start, end = (dates[0], dates[1]) if isinstance(dates, (tuple, list)) and len(dates) == 2 else (lo, hi)
    params = {}
    if start != lo:
        params["from"] = start.isoformat()
    if end != hi:
        params["to"] = end.isoformat()
    for param, plural in LISTS.items():
        if chosen[plural]:
            params[param] = chosen[plural]
    # Keep non-filter parameters (a page's own, e.g. a selected breach) and replace the filter ones.
    keep = {k: st.query_params.get_all(k) for k in st.query_params if k not in ("from", "to", *LISTS)}
    st.query_params.from_dict({**keep, **params})
    return Filters(start, end, tuple(chosen["portfolios"]), tuple(chosen["teams"]),
                   tuple(chosen["channels"]), tuple(chosen["strategies"]))
