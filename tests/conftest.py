"""Shared fixtures. Tests use a real DuckDB; browser tests a real Chromium against `streamlit run`.

Fixtures other test files build on (keep these names and signatures stable):

- `fresh_db`: an in-memory database with every contract table, empty.
- `demo_db` (session): path of a small demo database (`analysis.demo.build(path, accounts=400, seed=7)`),
  built once per test session (once per xdist worker). Treat it as READ-ONLY: the dashboard opens it
  read-only in this same process, and DuckDB refuses a read-write open of a file that is already open
  read-only. Tests that write use `demo_db_copy`.
- `demo_db_copy`: a private copy of the demo database that a test may change.
- `app_test(role, page_key=None, query_params=None)`: an AppTest of the entry point, signed in as `role`,
  run, and switched to `page_key` (run again). `at.exception` is empty when the page ran cleanly.
- `app_server` (session): base URL (`http://127.0.0.1:PORT`) of `streamlit run dashboard/app.py` on the demo database.
- `browser` (session) and `page`: Playwright's sync API on Debian's Chromium. Helpers in `tests/browser.py`.
- `spark` (session): a local-mode Spark session (`analysis.spark.session.session`, 2 shuffle partitions),
  shared by every Spark test and stopped at the end. Views it holds are replaced by each test's
  `analysis.spark.tables.read_tables`.
- `demo_parquet` (session): the `demo_db` tables exported to Parquet (`analysis.export.export_tables`).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.schema import create_schema  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
PAGES_DIR = ROOT / "dashboard" / "app_pages"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEMO_ACCOUNTS = 400
DEMO_SEED = 7
# The dashboard's background watcher (dashboard.data.watch) opens every published version of DASHBOARD_DB
# and keeps it open; in this process, where AppTests of many tests run one after another on databases that
# other tests then write, it would hold their files. Off for in-process AppTests; on in every real server
# (start_server), where tests/test_store.py checks it.
os.environ["DASHBOARD_WARM"] = "0"
# AppTest's default timeout is 3 s; a cold page (first query, plotly import) on a busy 2-core box takes longer.
APP_TEST_TIMEOUT = 120


@pytest.fixture(autouse=True)
def _own_access_log(tmp_path, monkeypatch):
    """Each test its own access log (analysis.accesslog): sign-in failures one test counts never lock
    another's sign-in. A server started by a test writes there too."""
    monkeypatch.setenv("DASHBOARD_ACCESS_LOG", str(tmp_path / "access.sqlite"))


FIRM_PASSWORD = "a firm's own passphrase"


def firm_credentials(path: Path, users: dict[str, str] | None = None) -> Path:
    """A credentials file with users of a firm (name -> role; default one per role, named as the role),
    all with FIRM_PASSWORD: what a database that is not the demo signs in with."""
    from analysis import access

    hashed = access.hash_password(FIRM_PASSWORD)
    users = users or {role: role for role in access.ROLES}
    path.write_text("users:\n" + "".join(
        f"  {name}:\n    name: Firm {name}\n    role: {role}\n    password_hash: {hashed}\n" for name, role in users.items()))
    return path


@pytest.fixture
def fresh_db():
    """An in-memory database with every contract table, empty."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    create_schema(con)
    yield con
    con.close()


# --- the demo database ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """Path of a small demo database, built once per session with the real demo builder. Read-only."""
    from analysis.demo import build

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build(path, accounts=DEMO_ACCOUNTS, seed=DEMO_SEED, progress=False)
    return path


@pytest.fixture
def demo_db_copy(demo_db, tmp_path) -> Path:
    """A private copy of the demo database that the test may write to."""
    path = tmp_path / "demo-copy.duckdb"
    shutil.copyfile(demo_db, path)
    return path


# --- AppTest ----------------------------------------------------------------------------------

DEMO_NAMES = {
    "executive": "Demo Executive",
    "manager": "Demo Manager",
    "compliance": "Demo Compliance Officer",
    "admin": "Demo Administrator",
}


@pytest.fixture
def app_test(demo_db, monkeypatch):
    """Factory: `app_test(role, page_key=None, query_params=None)` -> a run AppTest of the entry point.

    The user is signed in by setting session state (the sign-in form itself is tested separately).
    With `page_key`, the app is run once (so that st.navigation registers the role's pages) and then
    switched to `dashboard/app_pages/<page_key>.py` and run again; AppTest raises ValueError when that
    page is not among the role's pages. `query_params` seeds the URL's query string, as a link would.
    """
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DASHBOARD_DB", str(demo_db))

    def make(role: str, page_key: str | None = None, query_params: dict | None = None, timeout: float = APP_TEST_TIMEOUT):
        at = AppTest.from_file(str(APP), default_timeout=timeout)
        at.session_state["user"] = {"username": role, "name": DEMO_NAMES.get(role, role), "role": role}
        for key, value in (query_params or {}).items():
            at.query_params[key] = value
        at.run()
        if page_key is not None:
            at.switch_page(f"app_pages/{page_key}.py").run()
        return at

    return make


# --- a real server and a real browser -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"streamlit not healthy at {url} after {timeout:.0f}s")


def start_server(db: Path, log_path: Path, extra_env: dict | None = None, port: int | None = None,
                 extra_args: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    """`streamlit run dashboard/app.py` on 127.0.0.1 (a free port unless given); returns the process and base URL."""
    port = port or free_port()
    env = {**os.environ, "DASHBOARD_DB": str(db), "DASHBOARD_WARM": "1", **(extra_env or {})}
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false", *(extra_args or [])],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    proc._log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
    except RuntimeError as exc:
        stop_server(proc)
        raise RuntimeError(f"{exc}; server log:\n{log_path.read_text(errors='replace')[-4000:]}") from None
    return proc, url


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc._log.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def app_server(demo_db, tmp_path_factory):
    """Base URL of `streamlit run dashboard/app.py` serving the demo database; stopped after the session."""
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    proc, url = start_server(demo_db, log_path)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`: nothing downloads)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package (`.ci/run` does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test run (starting one costs ~7 s on 2 cores)."""
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
    from analysis.spark.session import session

    s = session("tests")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def demo_parquet(demo_db, tmp_path_factory) -> Path:
    """The demo database's contract tables as `<table>.parquet` files (what `--input` reads)."""
    from analysis.export import export_tables

    out = tmp_path_factory.mktemp("demo_parquet")
    export_tables(demo_db, out)
    return out


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies, own Streamlit session) and page, 1400x1000."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    p = context.new_page()
    p.set_default_timeout(60_000)
    yield p
    context.close()
