"""Probe (2026-12-05, issue 20): DuckDB caches one database instance per resolved path in a process.

A reader that reconnects by a path whose file was replaced by rename gets its old instance (old data)
back while any connection to it is open; a symlink or /proc/self/fd/N resolves to the same cache key.
Opening the link's *target* (a distinct file per version) gives the new data. Hence analysis/store.py.

    .venv/bin/python experiments/duckdb_instance_cache.py
"""
import os
import tempfile

import duckdb

with tempfile.TemporaryDirectory() as d:
    os.chdir(d)
    for name, x in (("a.duckdb", 1), ("b.duckdb", 2)):
        duckdb.connect(name).execute(f"create table t as select {x} as x").close()
    first = duckdb.connect("a.duckdb", read_only=True)
    os.replace("b.duckdb", "a.duckdb")
    again = duckdb.connect("a.duckdb", read_only=True)
    print("renamed over, reconnect by path while the first is open:", again.execute("select x from t").fetchall(), "(old data)")
    fd = os.open("a.duckdb", os.O_RDONLY)
    proc = duckdb.connect(f"/proc/self/fd/{fd}", read_only=True)
    print("through /proc/self/fd:", proc.execute("select x from t").fetchall(), "(old data)")
    os.makedirs("v")
    duckdb.connect("v/a_v2.duckdb").execute("create table t as select 3 as x").close()
    os.symlink("v/a_v2.duckdb", "link.duckdb")
    print("a distinct target file per version:", duckdb.connect("link.duckdb", read_only=True).execute("select x from t").fetchall())
