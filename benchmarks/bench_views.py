"""Every view of the dashboard in a real Chromium: navigation to a settled page, cold and warm, and the server's memory.

Starts `streamlit run dashboard/app.py` on a free loopback port with DASHBOARD_DB, signs in as the
admin (every page), and for every page and every view of it:

- cold: opens the page's URL with a sidebar filter not asked before in this server's life (a team
  and a start date, a new pair for every view, so no cached result serves it), on a server and
  browser that have shown each page once (on another filter), and times from
  `page.goto` to a settled page (the script run over, no status widget, no skeleton; tests/browser.py);
- warm: opens the very same URL again (a new document and session; the results come from the cache).

Views reached by URL (`?view=`) are opened so; those that are not (Compliance, Conversations) are
opened by URL and then clicked, and the time is from the click. The table gives the median of
--repeat cold and warm openings per view, and the server's resident memory (VmRSS) after the tour
and at its peak (VmHWM).

    .venv/bin/python benchmarks/bench_views.py [--db data/demo.duckdb] [--repeat 1] [--only balance]
        [--baseline TREE]   # the same tour against another checkout's server, in the same run

Figures are for the machine as it is: quote the load and compare against a baseline in the same run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, stop_server, wait_healthy  # noqa: E402
from tests.browser import RUN_DONE, sign_in, wait_for_app  # noqa: E402

# page key -> [(view label, how to reach it)]: ("url", value of ?view=) or ("click", radio label) or (None, None).
TOUR = {
    "scorecard": [("Scorecard", (None, None))],
    "balance": [(v, ("url", v)) for v in ("Recovery vs experience", "Champion vs challenger", "Over time")],
    "repayments": [(v, ("url", v)) for v in ("Collections", "Liquidation curves", "Promises", "Best time to reach")],
    "experience": [(v, ("url", v)) for v in ("Trend", "By segment", "Drivers", "Verbatims")],
    "complaints": [(v, ("url", v)) for v in ("Monthly", "Breakdown", "Resolution time", "Backlog", "CFPB",
                                              "Contact and breaches")],
    "benchmark": [("Benchmark", (None, None))],
    "conversations": [(v, ("click", v)) for v in ("Sentiment", "Lowest and transcripts", "QA checks", "Vulnerability")],
    "compliance": [(v, ("click", v)) for v in ("Overview", "Breaches", "Review log", "Risk signals", "Policy what-if")],
    "contact_plan": [("Plan", (None, None))],
    "data": [("Data", (None, None))],
}


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def cache_mb(url: str) -> float | None:
    """The server's st.cache_data entries in MB (serialized bytes), from Streamlit's /_stcore/metrics."""
    import urllib.request

    try:
        text = urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=30).read().decode()
    except OSError:
        return None
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("cache_memory_bytes{") and 'cache_type="st_cache_data"' in line) / 1e6


def start(tree: Path, db: Path, log_path: Path):
    import subprocess

    port = free_port()
    env = {**os.environ, "DASHBOARD_DB": str(db), "PYTHONPATH": str(tree)}
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(tree / "dashboard" / "app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc._log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return proc, url


def settle(page, timeout: float = 120_000) -> None:
    """Wait for a settled page; a run that starts again right after (a rerun) is waited for too."""
    page.wait_for_function(RUN_DONE, timeout=timeout)
    page.wait_for_timeout(150)
    page.wait_for_function(RUN_DONE, timeout=timeout)


def open_view(page, url: str, key: str, how: tuple, params: dict) -> float:
    """Seconds from navigation (or the view's click) to a settled page."""
    mode, value = how
    query = dict(params)
    if mode == "url":
        query["view"] = value
    target = f"{url}/{key}" + (f"?{urlencode(query, doseq=True)}" if query else "")
    t0 = time.perf_counter()
    page.goto(target)
    settle(page)
    if mode == "click":
        radio = page.get_by_role("radiogroup", name="View").get_by_role("radio", name=value, exact=True)
        if radio.get_attribute("aria-checked") != "true":
            wait_for_app(page)
            t0 = time.perf_counter()
            radio.click()
            wait_for_app(page, settle_ms=150, rerun_grace_ms=1_000)
            return time.perf_counter() - t0 - 0.15
    elapsed = time.perf_counter() - t0 - 0.15
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    if errors.count():
        print(f"  ! {key} {value}: {errors.first.inner_text()[:200]}", file=sys.stderr)
    return elapsed


def tour(tree: Path, db: Path, repeat: int, only: list[str], teams: list[str], first_day, log_dir: Path) -> dict:
    from playwright.sync_api import sync_playwright

    proc, url = start(tree, db, log_dir / f"streamlit-{tree.name}.log")
    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], rss_mb(proc.pid)[0])
            except OSError:
                return
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out: dict = {}
    n = 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(120_000)
            sign_in(page, url, "admin")
            # Each page once, on a filter no view asks for: the server's imports of the page's modules
            # and the browser's first fetch of Plotly's library (~1 s, bench_floor.py) are paid once
            # per server and per browser, not per view; what is timed below is a view whose data is
            # not in the cache.
            for key in TOUR:
                if not only or key in only:
                    open_view(page, url, key, TOUR[key][0][1], {"team": teams[-1], "from": first_day.isoformat()})
            for key, views in TOUR.items():
                if only and key not in only:
                    continue
                for label, how in views:
                    cold, warm = [], []
                    for _ in range(repeat):
                        # a filter no one asked before: the next team and a start date one day later
                        params = {"team": teams[n % len(teams)], "from": (first_day + timedelta(days=1 + n)).isoformat()}
                        n += 1
                        cold.append(open_view(page, url, key, how, params))
                        warm.append(open_view(page, url, key, how, params))
                    out[(key, label)] = (statistics.median(cold), statistics.median(warm))
                    print(f"  {tree.name:<12} {key:<14} {label:<24} cold {out[(key, label)][0]:6.2f} s  "
                          f"warm {out[(key, label)][1]:6.2f} s", file=sys.stderr)
            browser.close()
        rss, hwm = rss_mb(proc.pid)
        cached = cache_mb(url)
    finally:
        stop.set()
        stop_server(proc)
    return {"views": out, "rss_mb": rss, "peak_mb": max(hwm, peak[0]), "cache_mb": cached}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "demo.duckdb")
    parser.add_argument("--baseline", type=Path, help="another checkout whose server is toured too, after this tree's")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", action="append", default=[], help="a page key (repeatable); default every page")
    args = parser.parse_args()
    if not args.db.exists():
        print(f"error: database {args.db} does not exist", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} not found", file=sys.stderr)
        return 2
    from analysis import catalog
    from analysis.db import connect

    con = connect(args.db, read_only=True)
    opts = catalog.filter_options(con)
    con.close()
    log_dir = Path(tempfile.mkdtemp(prefix="bench_views-"))
    trees = {"this tree": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    results = {name: tour(tree, args.db, args.repeat, args.only, opts["teams"], opts["min_date"], log_dir)
               for name, tree in trees.items()}
    print(f"database {args.db}; filter per view: one team + a start date not asked before; median of {args.repeat}")
    head = f"{'page':<14} {'view':<24} {'cold s':>7} {'warm s':>7}"
    if args.baseline:
        head += f" {'base cold':>9} {'base warm':>9}"
    print(head)
    here = results["this tree"]
    for (key, label), (cold, warm) in here["views"].items():
        line = f"{key:<14} {label:<24} {cold:>7.2f} {warm:>7.2f}"
        if args.baseline:
            bc, bw = results["baseline"]["views"][(key, label)]
            line += f" {bc:>9.2f} {bw:>9.2f}"
        print(line)
    for name, r in results.items():
        colds = [c for c, _ in r["views"].values()]
        warms = [w for _, w in r["views"].values()]
        print(f"{name}: worst cold {max(colds):.2f} s, worst warm {max(warms):.2f} s; server RSS after the tour "
              f"{r['rss_mb']:.0f} MB, peak {r['peak_mb']:.0f} MB, data cache {r['cache_mb'] or 0:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
