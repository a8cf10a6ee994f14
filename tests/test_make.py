"""The README's quick start: `make run` serves the dashboard, building the demo database when it is missing.

(`make test` is what runs this file; the fresh-clone timing is benchmarks/bench_startup.py.)
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request

import duckdb
import pytest

from tests.conftest import ROOT, free_port


def make_run(tmp_path, **variables) -> tuple[subprocess.Popen, str, object]:
    port = free_port()
    log = open(tmp_path / "make-run.log", "wb")  # noqa: SIM115 - closed by stop()
    args = ["make", "--no-print-directory", "run", f"PORT={port}", *(f"{k}={v}" for k, v in variables.items())]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", log


def wait_health(proc, url: str, log_path, timeout: float = 300) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        assert proc.poll() is None, f"make run exited {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}"
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return time.monotonic() - t0
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"make run not serving after {timeout}s:\n{log_path.read_text(errors='replace')[-3000:]}")


def stop(proc, log) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # make and the streamlit it runs: a process group of our own
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def test_make_run_builds_the_demo_database_when_missing_and_serves_it(tmp_path):
    db = tmp_path / "demo.duckdb"
    proc, url, log = make_run(tmp_path, DB=db, DEMO_ACCOUNTS=300)
    try:
        wait_health(proc, url, tmp_path / "make-run.log")
        con = duckdb.connect(str(db), read_only=True)
        try:
            assert con.execute("select count(*) from accounts").fetchall() == [(300,)]
        finally:
            con.close()
        with urllib.request.urlopen(url + "/", timeout=10) as resp:
            assert resp.status == 200 and b"<html" in resp.read(2000).lower()
        # served first with VADER's scores; the configured model (the transformer) rescores in the
        # background and publishes a new version while the dashboard keeps serving
        from analysis.pipeline import scored_by
        from analysis.sentiment import load_model

        configured = load_model().model_id
        t0 = time.monotonic()
        while scored_by(db) != configured:
            assert time.monotonic() - t0 < 600, f"not rescored with {configured}: {rescore_log(db)}"
            with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as resp:
                assert resp.status == 200
            time.sleep(2)
        assert "(stored: vader-" in rescore_log(db) and f"published sentiment scores by {configured}" in rescore_log(db)
    finally:
        stop(proc, log)


def rescore_log(db) -> str:
    path = db.parent / f"{db.name}.rescore.log"
    return path.read_text(errors="replace") if path.exists() else "(no rescore log)"


def test_make_run_serves_an_existing_database_without_rebuilding_it(tmp_path, demo_db_copy):
    before = demo_db_copy.stat().st_mtime_ns
    proc, url, log = make_run(tmp_path, DB=demo_db_copy)
    try:
        wait_health(proc, url, tmp_path / "make-run.log", timeout=120)
        # already scored by the configured model: the background check finds nothing to do
        deadline = time.monotonic() + 120
        while "nothing to refresh" not in rescore_log(demo_db_copy) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "nothing to refresh" in rescore_log(demo_db_copy)
    finally:
        stop(proc, log)
    assert demo_db_copy.stat().st_mtime_ns == before
    assert "analysis demo" not in (tmp_path / "make-run.log").read_text()


def test_the_readme_quick_start_is_exactly_make_run_and_make_test():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    assert "password `demo`" in section
    targets = re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), re.M)
    assert {"run", "test"} <= set(targets)


def test_ci_installs_chromium_when_missing_and_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")]).returncode == 0
    assert "apt-get install" in script and "chromium" in script
    assert script.rstrip().splitlines()[-1].startswith("make test")
