"""Remembered sign-in under load: from the click on "Sign in" to the cookie in the browser.

N Chromium contexts (one browser process) fill the sign-in form, then all press "Sign in" at the
same instant (a timer in each page). Each page times, from its click (performance.now(), so the
driver adds nothing): when the remembered-sign-in cookie appears in document.cookie (polled every
5 ms) and when the "Sign out" button appears (the signed-in page). Printed per tree and N: median and
max of both, and how many pages had the cookie by the time they showed the signed-in page. A second
round per N reloads each page the moment "Sign out" appears and counts who is still signed in.

With --baseline TREE, the same is measured on another checkout of the code in the same run (its own
`streamlit run`, same database), alternating trees per N.

    .venv/bin/python benchmarks/bench_signin.py [--db data/demo.duckdb] [--sessions 1,20] [--baseline ../old]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROLES = ["executive", "manager", "compliance", "admin"]

# Press "Sign in" at epoch millisecond `at`, then note (ms after the click) when the cookie and the
# "Sign out" button appear; with `reload`, reload the tab the moment "Sign out" appears.
ARM = """([at, reload]) => {
  window.__armed = true;
  const rec = {};
  const save = () => sessionStorage.setItem('bench', JSON.stringify(rec));
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Sign in');
  setTimeout(() => {
    const t0 = performance.now();
    button.click();
    const tick = setInterval(() => {
      const now = performance.now() - t0;
      if (rec.cookie_ms === undefined && document.cookie.includes('collections_session=')) rec.cookie_ms = now;
      const signedIn = [...document.querySelectorAll('[data-testid="stSidebar"] button')]
        .some(b => b.innerText.trim() === 'Sign out');
      if (rec.ui_ms === undefined && signedIn) {
        rec.ui_ms = now;
        rec.cookie_at_ui = rec.cookie_ms !== undefined;
        if (reload) { save(); clearInterval(tick); location.reload(); return; }
      }
      if (rec.ui_ms !== undefined && rec.cookie_ms !== undefined) { save(); clearInterval(tick); }
    }, 5);
  }, Math.max(0, at - Date.now()));
}"""
DONE = "() => window.__armed ? null : sessionStorage.getItem('bench')"  # after the reload
DONE_IN_PLACE = "() => sessionStorage.getItem('bench')"
RUN_DONE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || document.querySelector('[data-testid="stStatusWidget"]')) return false;
  const state = app.getAttribute('data-test-script-state');
  return state === 'notRunning' &&
    document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]').length > 0;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tree: Path, db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(tree / "dashboard" / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=tree, env={**os.environ, "DASHBOARD_DB": str(db)}, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit for {tree} exited; see {log}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"streamlit for {tree} not healthy after 120 s; see {log}")


def settle(page, timeout_ms: int = 300_000) -> None:
    page.wait_for_function(RUN_DONE, timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_function(RUN_DONE, timeout=timeout_ms)


def round_(browser, url: str, n: int, reload: bool) -> list[dict]:
    """n sign-ins at once; each page's timings (and, with reload, whether it is still signed in)."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(n)]
    try:
        pages = []
        for i, context in enumerate(contexts):
            page = context.new_page()
            page.set_default_timeout(300_000)
            page.goto(url)
            page.get_by_label("Username").wait_for()
            settle(page)
            page.get_by_label("Username").fill(ROLES[i % len(ROLES)])
            page.get_by_label("Password", exact=True).fill("demo")
            page.get_by_label("Password", exact=True).blur()
            pages.append(page)
        at = int(time.time() * 1000) + 1_000
        for page in pages:
            page.evaluate(ARM, [at, reload])
        results = []
        for page in pages:
            deadline = time.monotonic() + 300
            rec = None
            while rec is None and time.monotonic() < deadline:
                try:
                    rec = page.evaluate(DONE if reload else DONE_IN_PLACE)
                except Exception:  # raced the reload
                    rec = None
                if rec is None:
                    page.wait_for_timeout(100)
            if rec is None:
                raise SystemExit(f"a page never showed the signed-in page within 300 s ({page.url})")
            rec = json.loads(rec)
            if reload:
                settle(page)
                rec["signed_in_after_reload"] = (page.get_by_label("Username").count() == 0
                                                 and page.get_by_role("button", name="Sign out").count() == 1)
                if not rec["signed_in_after_reload"]:
                    cookies = [c["name"] for c in page.context.cookies()]
                    text = " ".join(page.locator('[data-testid="stApp"]').inner_text().split())[:300]
                    print(f"  not signed in after the reload: {page.url}; cookie at the signed-in page "
                          f"{rec['cookie_at_ui']}; cookies now {cookies}; page: {text}", flush=True)
            results.append(rec)
        return results
    finally:
        for context in contexts:
            context.close()


def summary(results: list[dict]) -> str:
    cookie = [r["cookie_ms"] / 1000 for r in results if "cookie_ms" in r]
    ui = [r["ui_ms"] / 1000 for r in results]
    return (f"click->cookie median {statistics.median(cookie):.2f} s max {max(cookie):.2f} s; "
            f"click->signed-in page median {statistics.median(ui):.2f} s max {max(ui):.2f} s; "
            f"cookie already there when the page showed: {sum(r['cookie_at_ui'] for r in results)}/{len(results)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "demo.duckdb")
    parser.add_argument("--sessions", default="1,20", help="comma-separated numbers of sign-ins at once")
    parser.add_argument("--baseline", type=Path, help="another checkout of this repository, measured in the same run")
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"database {args.db} not found")
    if args.baseline and not (args.baseline / "dashboard" / "app.py").exists():
        raise SystemExit(f"{args.baseline} is not a checkout of this repository")
    sessions = [int(s) for s in args.sessions.split(",")]
    trees = {"this tree": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}

    from playwright.sync_api import sync_playwright

    logs = Path(tempfile.mkdtemp(prefix="bench_signin-"))
    servers = {}
    try:
        for i, (name, tree) in enumerate(trees.items()):
            servers[name] = start_server(tree, args.db, logs / f"streamlit-{i}.log")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, (_proc, url) in servers.items():  # warm each server: first imports, first queries
                round_(browser, url, len(ROLES), reload=False)
            print(f"database {args.db}; load average {os.getloadavg()[0]:.1f} at start")
            for k, n in enumerate(sessions):
                order = list(servers.items())
                if k % 2:
                    order.reverse()
                for name, (_proc, url) in order:
                    timed = round_(browser, url, n, reload=False)
                    print(f"{name:9} {n:3} at once: {summary(timed)}", flush=True)
                    reloaded = round_(browser, url, n, reload=True)
                    kept = sum(r["signed_in_after_reload"] for r in reloaded)
                    print(f"{name:9} {n:3} at once, reload the moment the page shows: still signed in {kept}/{n}",
                          flush=True)
            browser.close()
    finally:
        for proc, _url in servers.values():
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
