"""The dashboard's one thin caching module.

Pages never run SQL. They call `load(analysis_function, *plain_args)`: the function runs against
the shared read-only connection and its result is cached (bounded, with a ttl) by the function's
name, its arguments and the database file's modification time, so a rebuilt database is seen.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import streamlit as st

from analysis.db import DEFAULT_DB, connect


def db_path() -> Path:
    return Path(os.environ.get("DASHBOARD_DB") or DEFAULT_DB)


def _db_version() -> str:
    p = db_path()
    return f"{p}:{p.stat().st_mtime_ns}" if p.exists() else str(p)


@st.cache_resource(show_spinner=False, max_entries=2)
def _connection(version: str):
    # One read-only connection per database version, shared by every session; each query runs on
    # its own cursor (analysis.db), since a DuckDB connection is not safe to share across threads.
    return connect(db_path(), read_only=True)


def connection():
    """The shared read-only connection (for the rare caller that needs it; pages use `load`)."""
    return _connection(_db_version())


@st.cache_data(ttl=600, max_entries=512, show_spinner=False)
def _call(_conn, version: str, module: str, name: str, args: tuple, kwargs: tuple):
    func = getattr(importlib.import_module(module), name)
    return func(_conn, *args, **dict(kwargs))


def load(func, *args, **kwargs):
    """`func(conn, *args, **kwargs)`, cached. Arguments must be plain hashable values; do not mutate the result."""
    version = _db_version()
    return _call(_connection(version), version, func.__module__, func.__name__, args, tuple(sorted(kwargs.items())))
