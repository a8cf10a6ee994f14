"""The rendering path under load: a few real Chromium sessions opening page links with filters at once.

Starts `streamlit run dashboard/app.py` on a free loopback port with DASHBOARD_DB=--db (as
bench_load.py does), opens --sessions browser contexts of Debian's Chromium (Playwright, headless,
the house flags), each remembered as a user of the credentials file (the `collections_session`
cookie that dashboard/app.py sets after a sign-in, minted with the server's session key), and has
each open a page link with a team and a start-date filter in its tab (with --new-tab, in a new tab,
closing the previous one) every --interval seconds for --duration seconds, all starting together. A view is timed from `goto` to a settled page: the script run is
over (the app's `data-test-script-state`, no status widget, no skeleton), every Plotly chart in the
main area has drawn its SVG, and it stays so for 300 ms. It is an error when the page shows an
exception or an st.error, the sidebar does not say "Signed in as" (the sign-in form would settle
fast), the main area has no chart, table or metric, or it does not settle within --timeout.
Prints navigation-to-settled p50/p95/max per page, the server's cores and memory, and the cores the
whole machine kept busy (with the server's, that tells whether Chromium or the server was the limit).

    .venv/bin/python benchmarks/bench_browsers.py [--db data/demo.duckdb] [--sessions 5] [--duration 60]
        [--interval 5] [--new-tab] [--users manager,compliance] [--pages balance,compliance] [--seed 0] [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from analysis import access, accesslog  # noqa: E402
from analysis.errors import UserError  # noqa: E402
from bench_load import (COOKIE, ProcessMeter, View, cookie_for, link_filters, machine_cores_busy,  # noqa: E402
                        machine_cpu, print_report, probe, start_server, stop_server, summarize)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MAX_SESSIONS = 10

# The run is over and the main area has drawn: tests/browser.py RUN_DONE, plus every Plotly chart's SVG.
SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const state = app.getAttribute('data-test-script-state');
  if (state === 'running' || state === 'rerunRequested' || state === 'initial') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || main.querySelectorAll('[data-testid="stElementContainer"]').length === 0) return false;
  for (const chart of main.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.querySelector('svg.main-svg')) return false;
  }
  return true;
}"""

# What the settled page shows: content, errors, whether the sidebar names a signed-in user.
INSPECT = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebar"]');
  const q = sel => main ? main.querySelectorAll(sel).length : 0;
  return {
    elements: q('[data-testid="stElementContainer"]'),
    content: q('[data-testid="stPlotlyChart"]') + q('[data-testid="stDataFrame"]') + q('[data-testid="stMetric"]')
             + q('[data-testid="stTable"]'),
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    error_alerts: document.querySelectorAll('[data-testid="stAlertContentError"]').length,
    signed_in: !!side && side.innerText.includes('Signed in as'),
    sign_in_form: !!document.querySelector('input[aria-label="Username"]'),
  };
}"""


async def settle(page, timeout_ms: float) -> float:
    """Wait until SETTLED holds and still holds 300 ms later (a rerun can start right after a run ends)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        await page.wait_for_function(SETTLED, timeout=max(1.0, (deadline - time.monotonic()) * 1000), polling=50)
        done_at = time.monotonic()
        await page.wait_for_timeout(300)
        if await page.evaluate(SETTLED):
            return done_at
        if time.monotonic() > deadline:
            raise TimeoutError("page did not settle")


async def user_loop(index: int, browser, base_url: str, username: str, cookie: str, pages: list[str], opts,
                    args, t0: float, views: list[View], skipped: list[float]) -> None:
    rng = random.Random(args.seed * 1000 + index)
    host = base_url.split("//", 1)[1].split(":")[0]
    # One context per session: one remembered browser (its cookie, its HTTP cache of Streamlit's scripts);
    # each view follows a link in its tab (or, with --new-tab, in a new tab, which starts a new renderer).
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_cookies([{"name": COOKIE, "value": cookie, "domain": host, "path": "/"}])
    page = None
    k = 0
    while True:
        due = t0 + k * args.interval
        if due - t0 >= args.duration:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        k += 1
        if time.monotonic() - t0 >= args.duration:
            skipped.append(due)
            continue
        page_key = rng.choice(pages)
        url = f"{base_url}/{page_key}?{urlencode(link_filters(rng, opts), doseq=True)}"
        if page is None or args.new_tab:
            if page is not None:
                await page.close()
            page = await context.new_page()
        started = time.monotonic()
        try:
            await page.goto(url, timeout=args.timeout * 1000)
            done_at = await settle(page, args.timeout * 1000)
            seconds = done_at - started
            seen = await page.evaluate(INSPECT)
            errors = []
            if seen["exceptions"] or seen["error_alerts"]:
                errors.append(f"{seen['exceptions']} exception(s), {seen['error_alerts']} st.error(s)")
            if seen["sign_in_form"] or not seen["signed_in"]:
                errors.append("not signed in")
            if not seen["content"]:
                errors.append(f"no chart, table or metric on {page_key}")
            views.append(View(username, page_key, "open", seconds, errors, seen["elements"], started - t0))
        except Exception as exc:  # noqa: BLE001 - a failed view is counted, the load goes on
            reason = "timeout" if "Timeout" in type(exc).__name__ else f"{type(exc).__name__}: {str(exc)[:100]}"
            views.append(View(username, page_key, "open", time.monotonic() - started, [reason], 0, started - t0))
            await page.close()
            page = None
    await context.close()


async def run_browsers(base_url: str, args, meter) -> tuple[list[View], int, float]:
    from playwright.async_api import async_playwright

    users = access.load_credentials(access.default_credentials_path())
    names = args.users.split(",")
    cookies = {name: cookie_for(name, users, args.access_log, int(args.duration + 3 * args.timeout + 600)) for name in names}
    pages_of = {}
    for name in names:
        allowed = access.pages_for(users[name]["role"])
        pages_of[name] = [p for p in (args.pages.split(",") if args.pages else allowed) if p in allowed]
        if not pages_of[name]:
            raise UserError(f"user {name} may open none of the pages {args.pages}")
    opts = await probe(base_url, cookies[names[0]], pages_of[names[0]][0], args.timeout)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        views: list[View] = []
        skipped: list[float] = []
        t0 = time.monotonic()
        tasks = [asyncio.create_task(user_loop(i, browser, base_url, names[i % len(names)], cookies[names[i % len(names)]],
                                               pages_of[names[i % len(names)]], opts, args, t0, views, skipped))
                 for i in range(args.sessions)]
        while not all(t.done() for t in tasks):
            if meter:
                meter.sample()
            await asyncio.sleep(0.5)
        for t in tasks:
            t.result()
        wall = time.monotonic() - t0
        await browser.close()
    return views, len(skipped), wall


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, default=ROOT / "data" / "demo.duckdb")
    p.add_argument("--sessions", type=int, default=5)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--users", default="manager,compliance")
    p.add_argument("--pages", default="")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--new-tab", action="store_true", help="open each view in a new tab instead of the session's tab")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        raise UserError(f"--sessions must be 1 to {MAX_SESSIONS}")
    if not 0 < args.duration <= 3600 or args.interval <= 0 or args.timeout <= 0:
        raise UserError("--duration must be 0 to 3600 s, --interval and --timeout positive")
    if not args.db.exists():
        raise UserError(f"database {args.db} not found")
    if not Path(CHROMIUM).exists():
        raise UserError(f"{CHROMIUM} not found: install Debian's chromium package")
    key = secrets.token_hex(32)
    os.environ["DASHBOARD_SESSION_KEY"] = key  # before access mints a token: it reads the key once
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_browsers_{os.getpid()}.log"
    args.access_log = accesslog.default_path(args.db.resolve(), {})
    proc, base_url = start_server(args.db.resolve(), key, log_path, access_log=args.access_log)
    try:
        meter = ProcessMeter(proc.pid)
        cpu0 = machine_cpu()
        views, skipped, wall = asyncio.run(run_browsers(base_url, args, meter))
        summary = summarize(views)
        extra = {"sessions": args.sessions, "interval_s": args.interval, "wall_s": round(wall, 1),
                 "views_dropped_late": skipped, "db": str(args.db), "load_avg_1m": round(os.getloadavg()[0], 2),
                 "server_cores_used": round((meter.cpu() - meter.cpu0) / wall, 2),
                 "server_peak_rss_mb": round(meter.peak_rss / 2**20),
                 "machine_cores_busy": machine_cores_busy(cpu0, wall)}  # the server, Chromium and anything else
        print_report(summary, extra)
        if args.json:
            print(json.dumps({**summary, **extra}))
        return 1 if summary["groups"]["(all)"]["errors"] else 0
    finally:
        stop_server(proc)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
