"""The load client (benchmarks/bench_load.py) really signs in and renders pages, and says so when it does not.

A client that is not signed in would see the sign-in form, finish fast and flatter the figures; these
tests drive a real server over Streamlit's websocket with the remembered-sign-in cookie and check that
the views it counts rendered signed-in content with the filters asked for, and that a cookie signed
with another key is reported, not timed.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

BENCH = ROOT / "benchmarks" / "bench_load.py"
KEY = "test-session-key-for-the-load-client"
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    import bench_load

    folder = tmp_path_factory.mktemp("load")
    proc, url = bench_load.start_server(demo_db, KEY, folder / "streamlit.log", access_log=folder / "access.sqlite")
    SERVER_LOG[url] = folder / "access.sqlite"
    yield url
    bench_load.stop_server(proc)


SERVER_LOG: dict[str, object] = {}  # a running server's access log, where the client's sign-ins go on record


def run_bench(*args: str) -> subprocess.CompletedProcess:
    if "--url" in args and args[args.index("--url") + 1] in SERVER_LOG:
        args = (*args, "--access-log", str(SERVER_LOG[args[args.index("--url") + 1]]))
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_a_signed_in_session_opens_a_link_and_changes_a_filter_with_no_error(server):
    # The compliance officer on the compliance page (a page other roles may not open): a link, then a filter.
    done = run_bench("--url", server, "--session-key", KEY, "--sessions", "1", "--users", "compliance",
                     "--pages", "compliance", "--duration", "100", "--interval", "0.5", "--max-views", "2",
                     "--filter-share", "1", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    groups = json.loads(done.stdout.strip().splitlines()[-1])["groups"]
    assert groups["(all)"]["errors"] == 0
    assert groups["(open)"]["views"] == 1 and groups["(filter)"]["views"] == 1
    assert groups["compliance"]["views"] == 2
    assert groups["(all)"]["elements_min"] >= 5  # the main area drew its charts and tables, not a bare title


@pytest.mark.slow

def test_a_cookie_signed_with_another_key_is_reported_as_not_signed_in(server):
    done = run_bench("--url", server, "--session-key", "not-the-servers-key", "--sessions", "1", "--duration", "1")
    assert done.returncode == 2
    assert "not signed in" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["http://10.1.2.3:8501", "http://example.com:8501", "ftp://127.0.0.1:8501"])
def test_targets_other_than_loopback_are_refused(url):
    done = run_bench("--url", url, "--session-key", KEY, "--sessions", "1", "--duration", "1")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --url") and "loopback" in done.stderr
    assert "Traceback" not in done.stderr


def test_more_sessions_than_the_bound_are_refused():
    done = run_bench("--url", "http://127.0.0.1:8501", "--session-key", KEY, "--sessions", "1000")
    assert done.returncode == 2 and "--sessions must be 1 to 100" in done.stderr


def readme_commands(script: str) -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line.split("#")[0].split() for line in readme.splitlines() if line.startswith(f".venv/bin/python benchmarks/{script}")]
    assert lines, f"the README shows no {script} command"
    return [[sys.executable, *line[1:]] for line in lines]


@pytest.mark.slow
def test_the_readmes_load_commands_run(demo_db):
    # Docs are tested: each command as written, made small (later options win) and on the test database.
    for command in readme_commands("bench_load.py"):
        done = subprocess.run([*command, "--db", str(demo_db), "--sessions", "1", "--duration", "30", "--max-views", "1"],
                              capture_output=True, text=True, cwd=ROOT, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "(all)" in done.stdout and "server_cores_used" in done.stdout


@pytest.mark.browser
def test_the_readmes_browser_command_runs(demo_db):
    for command in readme_commands("bench_browsers.py"):
        done = subprocess.run([*command, "--db", str(demo_db), "--sessions", "1", "--duration", "1"],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "(all)" in done.stdout
