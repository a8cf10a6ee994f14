"""Screenshots of real pages in Chromium, for the README (run by hand; not a test).

    .venv/bin/python -m analysis demo --db /tmp/shots.duckdb --accounts 3000 --seed 42
    .venv/bin/python docs/screenshots/take_screenshots.py /tmp/shots.duckdb docs/screenshots \
        executive:scorecard:scorecard manager:experience:experience compliance:compliance:compliance ...

Each ROLE:PAGE_KEY:NAME signs in as the demo user ROLE, opens /PAGE_KEY and saves NAME.png (1440x900).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.conftest import start_server, stop_server, CHROMIUM, CHROMIUM_ARGS
from tests.browser import sign_in, wait_for_app, goto
from playwright.sync_api import sync_playwright
db = Path(sys.argv[1]); out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
shots = [s.split(":") for s in sys.argv[3:]]  # role:page_key:name
proc, url = start_server(db, out / "server.log.tmp")
try:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = {}
        for role, key, name in shots:
            if role not in ctx:
                c = b.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
                p = c.new_page(); p.set_default_timeout(120_000)
                sign_in(p, url, role)
                ctx[role] = p
            p = ctx[role]
            goto(p, url, key)
            try:
                p.wait_for_selector('[data-testid="stMain"] .js-plotly-plot svg, [data-testid="stMain"] [data-testid="stDataFrame"]', timeout=20_000)
            except Exception:
                pass
            wait_for_app(p)
            p.wait_for_timeout(1500)
            p.screenshot(path=str(out / f"{name}.png"))
            print("saved", name)
finally:
    stop_server(proc)
    (out / "server.log.tmp").unlink(missing_ok=True)
