"""The dashboard's one thin caching module.

Pages never run SQL. They call `load(analysis_function, *plain_args)`: the function runs against
the shared read-only connection and its result is cached (bounded, with a ttl) by the function's
name, its arguments and the database's version (analysis.store), so a published import is seen at
once, and a run that started on the old version finishes on it (no run ever mixes two versions).
"""
from __future__ import annotations

import ast
import atexit
import gc
import importlib
import os
import sys
import threading
import time
from pathlib import Path

import streamlit as st

from analysis import store
from analysis.db import DEFAULT_DB, connect
from analysis.errors import UserError


# DuckDB's buffer pool for each read-only connection (at most two are open: the current version and
# the one before it). DuckDB's own default is 80 % of the machine; a dashboard serving a 200k-account
# book then grew to 4.7 GB under 20 sessions. Past the cap a query spills to disk instead.
MEMORY_MB = 1024  # MiB
# After an import the superseded version's connection would keep its buffer pool (up to the cap) for
# as long as it is open: two caps' worth. Once the runs that started on it have had SUPERSEDED_GRACE
# seconds to end, it is dropped, and DuckDB closes it, and frees its memory, when its last query is done
# (a download button made on it keeps the version's name, not the connection: `load_later`). Dropped, not given a smaller cap: DuckDB shares one
# instance, and its memory limit, among a process's connections to one file (DECISIONS.md).
SUPERSEDED_GRACE = 30.0  # seconds


def db_path() -> Path:
    return Path(os.environ.get("DASHBOARD_DB") or DEFAULT_DB)


def memory_mb() -> int:
    """The cap on each connection's DuckDB memory: DASHBOARD_MEMORY_MB if set, else MEMORY_MB."""
    text = os.environ.get("DASHBOARD_MEMORY_MB", "").strip()
    if not text:
        return MEMORY_MB
    if not text.isdigit() or int(text) < 64:
        raise UserError(f"DASHBOARD_MEMORY_MB={text!r} is not a number of megabytes of at least 64: set it to e.g. 1024, or unset it for the default ({MEMORY_MB})")
    return int(text)


def _db_version() -> str:
    return store.version(db_path())


def pin_version() -> None:
    """Fix the database version for the rest of this script run (called first thing by the app),
    so that a run never mixes two versions when an import is published in the middle of it."""
    st.session_state["_data_version"] = _db_version()


WATCH_SECONDS = 2.0


def _warming() -> bool:
    """Whether new data versions are opened and warmed in the background (DASHBOARD_WARM, default on)."""
    return os.environ.get("DASHBOARD_WARM", "1") != "0"

_watcher: threading.Thread | None = None


def watch() -> None:
    """Start (once per server) the thread that opens each newly published data version as soon as it
    appears, every WATCH_SECONDS, and so warms its cache (`_warm`) before anyone asks. The first session's
    sign-in form starts it, so the first version is warm by the time the user has signed in.
    DASHBOARD_WARM=0 turns it off."""
    global _watcher
    if not _warming():
        return
    with _lock:
        if _watcher is None:
            _watcher = threading.Thread(target=_watch, name="dashboard-watch", daemon=True)
            _watcher.start()


def _watch() -> None:
    while True:
        try:
            version = _db_version()
            if not version.endswith(":missing"):
                _connection(version)  # new: opened here, and warmed
        except Exception:  # noqa: BLE001 - an unreadable file: the pages report it
            pass
        time.sleep(WATCH_SECONDS)


_frozen = False


def freeze_startup_heap(pages_dir: Path) -> None:
    """Once per server: import what the pages in `pages_dir` import, then take every object alive out of the garbage
    collector's sight (`gc.freeze`).

    Streamlit runs a full collection after every script run (`runner.postScriptGC`), and a full
    collection walks every tracked object: the ~130,000 of streamlit's, pandas', plotly's and DuckDB's
    modules, classes and functions alone took 65 ms a time, with the interpreter held, so every other
    session's run waited too. Those objects live as long as the server. What becomes garbage later is
    still collected after each run as before; what is frozen with them (the first run's own objects, the
    watcher's) is never examined again, so if it ever becomes cyclic garbage it stays: a bounded amount,
    once per process."""
    global _frozen
    with _lock:
        if _frozen or gc.get_freeze_count():  # once per process, even if this module is reloaded
            return
        _frozen = True
    for name in _page_modules(pages_dir):
        try:
            importlib.import_module(name)
        except ImportError:  # `from module import function`: the name is not a module
            pass
        except Exception as exc:  # noqa: BLE001 - the page that imports it reports it; the freeze goes on
            print(f"dashboard: importing {name} before the freeze failed: {exc}", file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()
    # unfrozen at exit, so that the interpreter's shutdown frees them as usual (DuckDB's bindings otherwise
    # report their objects as leaked)
    atexit.register(gc.unfreeze)


def _page_modules(pages_dir: Path) -> list[str]:
    """Every module the page files import at their top, and each `from package import name` as a
    possible submodule."""
    names: list[str] = []
    for file in sorted(pages_dir.glob("*.py")):
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
                names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return list(dict.fromkeys(names))


def data_version() -> str:
    return st.session_state.get("_data_version") or _db_version()


_lock = threading.Lock()
_open: dict[str, object] = {}  # version -> its read-only connection: the two newest are kept


def _connection(version: str):
    """One read-only connection per database version, shared by every session; each query runs on
    its own cursor (analysis.db), since a DuckDB connection is not safe to share across threads.

    A new version gets a new connection; the connection of the version before it is kept for the
    runs that started on it for SUPERSEDED_GRACE seconds, then dropped. DuckDB closes a dropped version's file once the
    last query using it ends; the writer that superseded it (or the next one) deletes the file once
    no process has it open."""
    with _lock:
        con = _open.get(version)
        if con is None:
            con = _open_version(version)
            _open[version] = con
            while len(_open) > 2:
                _open.pop(next(iter(_open)))
            if len(_open) > 1:
                timer = threading.Timer(SUPERSEDED_GRACE, _drop_superseded)
                timer.daemon = True
                timer.start()
            if _warming():
                threading.Thread(target=_warm, args=(con, version), name="dashboard-warm", daemon=True).start()
        return con


def _open_version(version: str):
    """A new read-only connection to `version`'s file, with the memory cap; a UserError when that file is
    gone or now holds another version."""
    file = store.version_file(version)
    if version.endswith(":missing"):
        file = db_path()  # opening it says what is wrong
    elif not file.exists() or store.version(file) != version:  # a dropped version, since deleted or replaced
        raise UserError("the data this page opened on was replaced by a newer import: reload the page to see the latest")
    con = connect(file, read_only=True)
    con.execute("set memory_limit = ?", [f"{memory_mb()}MiB"])
    return con


def _for_download(version: str):
    """The connection a download made on `version` reads: the shared one while the version is open, else a
    private one for this download only (a page left open past its version's drop), neither kept nor warmed,
    so an old page's click cannot push a version that sessions are reading out of `_open`."""
    with _lock:
        con = _open.get(version)
    return con if con is not None else _open_version(version)


def _drop_superseded() -> None:
    """Drop every open connection but the published version's (see SUPERSEDED_GRACE). A run still on a
    dropped version opens it again (its file is kept while any process reads it)."""
    try:
        current = _db_version()
    except Exception:  # noqa: BLE001 - an unreadable link: keep what is open, the pages report it
        return
    with _lock:
        for version in [v for v in _open if v != current]:
            del _open[version]


def _warm(con, version: str) -> None:
    """Fill the cache with what the first page of a session shows (the sidebar's choices and the
    Scorecard's default month in UTC) as soon as a data version is opened, in the background, so that
    the first reader after an import does not wait for it (~8 s of queries at 1M accounts). The same
    cache entries a page run asks for (`load_kept`, kept for the version's life), so a page that asks
    while this runs waits for it instead of computing twice. Any failure is left for the page to meet
    and report."""
    from analysis import catalog, scorecard

    t0 = time.perf_counter()
    try:
        _cached(con, version, catalog.filter_options, keep=True)
        if _cached(con, version, scorecard.month_choices, "UTC", keep=True):
            month = _cached(con, version, scorecard.default_month, "UTC", keep=True)
            _cached(con, version, scorecard.scorecard, month, "UTC", keep=True, breaches=scorecard.STORED_AUDIT)
    except Exception as exc:  # noqa: BLE001 - a page run computes it again and shows the problem
        print(f"dashboard: warming {store.version_file(version).name} failed: {exc}", file=sys.stderr, flush=True)
        return
    print(f"dashboard: warmed {store.version_file(version).name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def _run(con, module: str, name: str, args: tuple, kwargs: tuple):
    return getattr(importlib.import_module(module), name)(con, *args, **dict(kwargs))


@st.cache_data(ttl=600, max_entries=512, show_spinner=False)
def _call(_conn, version: str, module: str, name: str, args: tuple, kwargs: tuple):
    return _run(_conn, module, name, args, kwargs)


# The landing figures (the sidebar's choices, the Scorecard's months and cards): small, asked by every
# session, and warmed by the watcher as soon as a version is published, so they are kept for the
# version's life, not 10 minutes (the next versions' entries push them out).
@st.cache_data(max_entries=64, show_spinner=False)
def _call_kept(_conn, version: str, module: str, name: str, args: tuple, kwargs: tuple):
    return _run(_conn, module, name, args, kwargs)


def _cached(con, version: str, func, *args, keep: bool = False, **kwargs):
    call = _call_kept if keep else _call
    return call(con, version, func.__module__, func.__name__, args, tuple(sorted(kwargs.items())))


def load(func, *args, **kwargs):
    """`func(conn, *args, **kwargs)`, cached for 10 minutes. Arguments must be plain hashable values; do
    not mutate the result."""
    version = data_version()
    return _cached(_connection(version), version, func, *args, **kwargs)


def load_kept(func, *args, **kwargs):
    """As `load`, for the landing figures (`_call_kept`): kept for the data version's life."""
    version = data_version()
    return _cached(_connection(version), version, func, *args, keep=True, **kwargs)


def load_later(func, *args, **kwargs):
    """A callable that runs `func(conn, *args, **kwargs)` when called, uncached, on this run's data
    version: a download's file, made on click (outside the page's run, where the session's version is
    not at hand).

    It keeps the version's name, not its connection: Streamlit keeps a page's download callables until the
    session's next run (or for a closed tab until its session expires), and a connection held there would
    keep a superseded version's memory past its drop (SUPERSEDED_GRACE). A click after the drop reads the
    version through a connection of its own (`_for_download`). Once a later import has deleted the file,
    the click fails: the browser shows Streamlit's generic "Failed to generate file for download", the
    reason goes to the server's log, and the page's next run says to reload."""
    version = data_version()
    _connection(version)  # a version that cannot be opened is reported by the page's run, not on click
    return lambda: _run(_for_download(version), func.__module__, func.__name__, args, tuple(sorted(kwargs.items())))
