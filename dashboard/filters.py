"""The shared sidebar filters, kept in the URL's query parameters so that a link reproduces the view.

URL form: `?from=2026-01-01&to=2026-03-31&portfolio=Retail&team=North&team=South&channel=sms&strategy=challenger`
(lists repeat the parameter; an absent parameter means "all", and the full date span is left out).

How it stays right across reruns, page switches and reloads:
- the widgets live in app.py's run, which every page shares, so their keys (`f_*`) keep their values
  when the user switches pages;
- session state is seeded from the URL only when a key is missing, i.e. on the first run of a
  session (a reload or an opened link), never on later reruns, so the URL cannot fight the widgets;
- every run writes the current choices back to the URL (page switches clear the query string);
- seeded and carried-over values are clamped to what the data offers, since a widget whose value
  lies outside its options raises.
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from analysis import catalog
from analysis.filters import Filters
from dashboard.data import load_kept

LISTS = {"portfolio": "portfolios", "team": "teams", "channel": "channels", "strategy": "strategies"}
LABELS = {"portfolio": "Portfolio", "team": "Team", "channel": "Channel", "strategy": "Strategy"}
FILTER_PARAMS = ("from", "to", *LISTS)


def _url_date(key: str) -> date | None:
    try:
        return date.fromisoformat(st.query_params.get(key, ""))
    except ValueError:  # absent or malformed: the full span
        return None


def _clamp(d: date, lo: date, hi: date) -> date:
    return min(max(d, lo), hi)


def _seed_and_clamp(opts: dict) -> None:
    lo, hi = opts["min_date"], opts["max_date"]
    if "f_dates" not in st.session_state:
        st.session_state["f_dates"] = (_url_date("from") or lo, _url_date("to") or hi)
    dates = tuple(st.session_state["f_dates"] or ())
    if len(dates) == 2:
        start, end = sorted((_clamp(dates[0], lo, hi), _clamp(dates[1], lo, hi)))
        st.session_state["f_dates"] = (start, end)
    elif len(dates) == 1:  # half-picked range: keep it while the user picks the second date
        st.session_state["f_dates"] = (_clamp(dates[0], lo, hi),)
    else:
        st.session_state["f_dates"] = (lo, hi)
    for param, plural in LISTS.items():
        key = f"f_{param}"
        wanted = st.session_state[key] if key in st.session_state else st.query_params.get_all(param)
        st.session_state[key] = [v for v in dict.fromkeys(wanted) if v in opts[plural]]


def sidebar_filters() -> Filters:
    """Draw the filters in the sidebar (seeded from the URL) and write the choices back to the URL."""
    opts = load_kept(catalog.filter_options)
    lo, hi = opts["min_date"], opts["max_date"]
    _seed_and_clamp(opts)

    with st.sidebar:
        st.subheader("Filters")
        dates = st.date_input("Date range", key="f_dates", min_value=lo, max_value=hi, format="YYYY-MM-DD")
        chosen = {}
        for param, plural in LISTS.items():
            chosen[plural] = st.multiselect(LABELS[param], opts[plural], key=f"f_{param}", placeholder="All")

    start, end = (dates[0], dates[1]) if isinstance(dates, (tuple, list)) and len(dates) == 2 else (lo, hi)
    params: dict[str, str | list[str]] = {}
    if start != lo:
        params["from"] = start.isoformat()
    if end != hi:
        params["to"] = end.isoformat()
    for param, plural in LISTS.items():
        if chosen[plural]:
            params[param] = chosen[plural]
    # Keep non-filter parameters (a page's own, e.g. a selected breach) and replace the filter ones.
    keep = {k: st.query_params.get_all(k) for k in st.query_params if k not in FILTER_PARAMS}
    wanted = {**keep, **params}
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}:
        st.query_params.from_dict(wanted)
    return Filters(start, end, tuple(chosen["portfolios"]), tuple(chosen["teams"]),
                   tuple(chosen["channels"]), tuple(chosen["strategies"]))
