"""The floor under a warm view: how long Streamlit and Chromium take to show a page that does no work.

bench_views.py times every dashboard view from navigation to a settled page. A warm view reads its
figures from the cache, so what is left is Streamlit's and the browser's own cost: a new document,
the websocket session, the script run, and drawing the elements (Plotly's library is parsed and run
again in every new document). This serves a bare Streamlit app (no sign-in, no data, no query) with
the shapes the dashboard's views have, and times each the way bench_views.py does (same Chromium
flags, same "settled" test), so the dashboard's warm figures can be read against it:

- `text`: a title and a line of text;
- `table`: the same and a 25-row table (st.dataframe);
- `chart`: the same and one Plotly bar chart of 20 points;
- `charts`: a title, four metrics, two Plotly charts and a table, the shape of a busy view
  (Conversations' sentiment, Compliance's overview).

The first opening of each shape is printed too: the first chart a browser shows fetches and compiles
Plotly's library (the dashboard's first chart view of a tour pays it; later documents reuse the cache).

    .venv/bin/python benchmarks/bench_floor.py [--repeat 7]

Figures are for the machine as it is: quote the load; bench_views.py in the same session gives the
dashboard's warm views to set beside these.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_views import settle  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, stop_server, wait_healthy  # noqa: E402

APP = textwrap.dedent('''
    import pandas as pd
    import plotly.express as px
    import streamlit as st

    st.set_page_config(layout="wide")
    shape = st.query_params.get("v", "text")
    st.title("Floor")
    st.write("A page that does no work: shape", shape)
    df = pd.DataFrame({"x": [f"group {i}" for i in range(20)], "y": range(20), "z": [i * 0.5 for i in range(20)]})
    if shape in ("table", "chart", "charts"):
        if shape == "charts":
            for col, (label, value) in zip(st.columns(4), [("Conversations", "112,239"), ("Negative", "21.3%"),
                                                            ("Mean score", "+0.12"), ("Flagged", "1,204")]):
                col.metric(label, value)
        if shape in ("chart", "charts"):
            st.plotly_chart(px.bar(df, x="x", y="y", title="one chart"))
        if shape == "charts":
            st.plotly_chart(px.line(df, x="x", y="z", markers=True, title="another chart"))
        st.dataframe(pd.concat([df, df.head(5)]), hide_index=True)
''')
SHAPES = ("text", "table", "chart", "charts")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import subprocess

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "floor.py"
        app.write_text(APP, encoding="utf-8")
        port = free_port()
        log = open(Path(tmp) / "streamlit.log", "wb")  # noqa: SIM115 - closed by stop_server
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"], cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        proc._log = log  # type: ignore[attr-defined]
        url = f"http://127.0.0.1:{port}"
        times: dict[str, list[float]] = {s: [] for s in SHAPES}
        try:
            wait_healthy(url, proc)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(60_000)
                first = {}
                for shape in SHAPES:  # once each first: imports, the browser fetching Streamlit's and Plotly's files
                    t0 = time.perf_counter()
                    page.goto(f"{url}/?v={shape}")
                    settle(page)
                    first[shape] = time.perf_counter() - t0 - 0.15
                for _ in range(args.repeat):
                    for shape in SHAPES:
                        t0 = time.perf_counter()
                        page.goto(f"{url}/?v={shape}")
                        settle(page)
                        times[shape].append(time.perf_counter() - t0 - 0.15)  # settle's pause, as bench_views
                browser.close()
        finally:
            stop_server(proc)
    print(f"bare Streamlit app, navigation to a settled page: the first opening of each shape in this browser "
          f"(in this order), then the median of {args.repeat} (min-max):")
    for shape in SHAPES:
        t = times[shape]
        print(f"  {shape:<8} first {first[shape]:5.2f} s   then {statistics.median(t):5.2f} s  ({min(t):.2f}-{max(t):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
