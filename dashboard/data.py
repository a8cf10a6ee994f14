"""The dashboard's one thin caching module.

Pages never run SQL. They call `load(analysis_function, *plain_args)`: the function runs against
the shared read-only connection and its result is cached (bounded, with a ttl) by the function's
name, its arguments and the database's version (analysis.store), so a published import is seen at
once, and a run that started on the old version finishes on it (no run ever mixes two versions).
"""
from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

import streamlit as st

from analysis import store
from analysis.db import DEFAULT_DB, connect


def db_path() -> Path:
    return Path(os.environ.get("DASHBOARD_DB") or DEFAULT_DB)


def _db_version() -> str:
    return store.version(db_path())


def pin_version() -> None:
    """Fix the database version for the rest of this script run (called first thing by the app),
    so that a run never mixes two versions when an import is published in the middle of it."""
    st.session_state["_data_version"] = _db_version()


def data_version() -> str:
    return st.session_state.get("_data_version") or _db_version()


_lock = threading.Lock()
_open: dict[str, object] = {}  # version -> its read-only connection: the two newest are kept


def _connection(version: str):
    """One read-only connection per database version, shared by every session; each query runs on
    its own cursor (analysis.db), since a DuckDB connection is not safe to share across threads.

    A new version gets a new connection; the connection of the version before it is kept for the
    runs that started on it, older ones are dropped. DuckDB closes a dropped version's file once the
    last query using it ends; the writer that superseded it (or the next one) deletes the file once
    no process has it open."""
    with _lock:
        con = _open.get(version)
        if con is None:
            file = store.version_file(version)
            con = connect(file if file.exists() else db_path(), read_only=True)
            _open[version] = con
            while len(_open) > 2:
                _open.pop(next(iter(_open)))
        return con


@st.cache_data(ttl=600, max_entries=512, show_spinner=False)
def _call(_conn, version: str, module: str, name: str, args: tuple, kwargs: tuple):
    func = getattr(importlib.import_module(module), name)
    return func(_conn, *args, **dict(kwargs))


def load(func, *args, **kwargs):
    """`func(conn, *args, **kwargs)`, cached. Arguments must be plain hashable values; do not mutate the result."""
    version = data_version()
    return _call(_connection(version), version, func.__module__, func.__name__, args, tuple(sorted(kwargs.items())))
