"""Many users at once: N signed-in sessions driven over Streamlit's own websocket protocol, no browser.

Starts `streamlit run dashboard/app.py` on a free loopback port with DASHBOARD_DB=--db and a session
key it knows (or is pointed at a running one with --url and that server's DASHBOARD_SESSION_KEY),
then runs --sessions simulated users for --duration seconds, all starting together, each doing one
"view" every --interval seconds:

- open: a new session (a new websocket, as a new tab or a followed link) opening a page link with
  filters, e.g. /compliance?team=North&from=2025-03-01. The session carries the remembered-sign-in
  cookie `collections_session` in its handshake, minted here exactly as dashboard/app.py mints it
  (analysis.access.session_token, an HMAC keyed by DASHBOARD_SESSION_KEY) for a user of the
  credentials file; the previous session of that user is closed, as a browser tab that navigates is.
- filter: in the session already open, a rerun with new widget state for one sidebar filter (Team
  or the start of the Date range), as the browser sends when a widget changes.

A view is timed from sending its first message (for an open, from opening the websocket) to the
`script_finished` message of the run that settles the page (runs ended early by st.rerun or a page
switch are followed). It counts as an error when: the run raised (an exception element), shows an
st.error, names no page (page not found), shows the sign-in form or lacks the "Signed in as" caption
(a session that is not signed in finishes fast and would flatter the figures), renders no chart,
table or metric in the main area, draws its sidebar filters without the value asked for, or does not
finish within --timeout. A session whose view takes longer than the interval starts its next view
at once; views that would start after --duration are dropped and counted (`views_dropped_late`).
Prints p50/p95/max per page and per kind of view, the error count by reason, and the server's CPU
(cores used over the run) and peak memory, and how many cores the whole machine kept busy (the
server, this client and anything else running). Exit status 1 when any view failed.

    .venv/bin/python benchmarks/bench_load.py [--db data/demo.duckdb] [--sessions 20] [--duration 60]
        [--interval 5] [--max-views N] [--filter-share 0.5] [--users manager,compliance] [--pages balance,compliance]
        [--url http://127.0.0.1:PORT --session-key KEY] [--seed 0] [--json]

Bounded: at most 100 sessions and 3,600 s; loopback targets only (127.0.0.1, localhost, ::1).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis import access, accesslog  # noqa: E402
from analysis.errors import UserError  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
COOKIE = "collections_session"  # dashboard/app.py COOKIE
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_SESSIONS = 100
MAX_DURATION = 3600.0
CONTENT = ("plotly_chart", "dataframe", "vega_lite_chart", "metric", "table")


# --- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, session_key: str, log_path: Path, timeout: float = 120,
                 access_log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`streamlit run dashboard/app.py` on 127.0.0.1 serving `db` (its access log `access_log`, default
    `<db>.access.sqlite`); returns the process and its base URL."""
    port = free_port()
    env = {**os.environ, "DASHBOARD_DB": str(db), "DASHBOARD_SESSION_KEY": session_key,
           "DASHBOARD_ACCESS_LOG": str(access_log or accesslog.default_path(db, {}))}
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    proc._log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop_server(proc)
            raise UserError(f"streamlit exited with status {proc.returncode}; log: {log_path}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise UserError(f"streamlit not healthy at {url} after {timeout:.0f} s; log: {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc._log.close()  # type: ignore[attr-defined]


class ProcessMeter:
    """CPU seconds and peak resident memory of a process (Linux /proc), sampled while the load runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_rss = 0
        self.cpu0 = self.cpu()

    def cpu(self) -> float:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def sample(self) -> None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak_rss = max(self.peak_rss, int(line.split()[1]) * 1024)
        except OSError:
            pass


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat), to tell what else was running."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def machine_cores_busy(start: tuple[float, float], wall: float) -> float:
    busy, _ = machine_cpu()
    return round((busy - start[0]) / wall, 2) if wall > 0 else 0.0


def check_loopback(url: str) -> str:
    """The base URL if it points at this machine's loopback interface; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK or not parts.port:
        raise UserError(f"--url {url}: only http://127.0.0.1:PORT or http://localhost:PORT (loopback) may be loaded")
    return f"{parts.scheme}://{parts.netloc}"


# --- signing in as a browser that was remembered -----------------------------------------------------


def cookie_for(username: str, users: dict[str, dict], access_log: Path, lifetime: int = 3600) -> str:
    """The remembered-sign-in token dashboard/app.py would have set for `username` (needs the server's key in
    DASHBOARD_SESSION_KEY of this process), put on record in the server's access log as its sign-in does."""
    user = users.get(username)
    if not user:
        raise UserError(f"user {username} not in the credentials file {access.default_credentials_path()}")
    record = {"username": username, "name": user.get("name") or username, "role": user["role"]}
    token = access.session_token(record, int(time.time()) + lifetime, str(user.get("password_hash", "")))
    accesslog.start_session(access_log, token, username, datetime.now(timezone.utc))
    return token


# --- one session over the websocket ------------------------------------------------------------------


@dataclass
class Run:
    """What one settled run of the script sent."""

    seconds: float = 0.0
    elements: dict[str, int] = field(default_factory=dict)  # element type -> count (main area)
    sidebar: int = 0
    errors: list[str] = field(default_factory=list)
    signed_in: bool = False
    sign_in_form: bool = False
    query_string: str | None = None
    page_hash: str = ""
    widgets: dict[str, object] = field(default_factory=dict)  # label -> element proto (sidebar filters)

    @property
    def main_count(self) -> int:
        return sum(self.elements.values())


class Session:
    """One browser tab's websocket: the handshake with the cookie, rerun requests, the messages back."""

    def __init__(self, base_url: str, cookie: str, timezone: str = "UTC"):
        self.base_url = base_url
        self.cookie = cookie
        self.timezone = timezone
        self.ws = None
        self.page_hash = ""
        self.query_string = ""
        self.widgets: dict[str, object] = {}

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        ws_url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await connect(ws_url, subprotocols=["streamlit"], origin=self.base_url, max_size=None,
                                additional_headers={"Cookie": f"{COOKIE}={self.cookie}"},
                                open_timeout=60, ping_interval=None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def rerun(self, page_name: str = "", query_string: str | None = None, widget_states=None,
                    timeout: float = 120.0) -> Run:
        """Ask for a run and read the messages until the run that settles the page has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string if query_string is None else query_string
        state.page_name = page_name
        state.page_script_hash = "" if page_name else self.page_hash
        state.context_info.timezone = self.timezone
        state.context_info.locale = "en-GB"
        state.context_info.url = f"{self.base_url}/{page_name}" + (f"?{state.query_string}" if state.query_string else "")
        if widget_states is not None:
            state.widget_states.CopyFrom(widget_states)
        await self.ws.send(msg.SerializeToString())
        return await asyncio.wait_for(self._read_run(state.query_string), timeout)

    async def _read_run(self, query_string: str) -> Run:
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        run = Run(query_string=query_string)  # the browser's URL unless the script writes a new one
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                run = Run(query_string=run.query_string)  # a new run (e.g. after st.rerun) starts over
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                etype = el.WhichOneof("type")
                in_main = bool(fwd.metadata.delta_path) and fwd.metadata.delta_path[0] == 0
                if etype == "exception":
                    run.errors.append(f"exception: {el.exception.type}: {el.exception.message[:120]}")
                elif etype == "alert" and el.alert.format == Alert.ERROR:
                    run.errors.append(f"st.error: {el.alert.body[:120]}")
                elif etype == "markdown" and "Signed in as" in el.markdown.body:
                    run.signed_in = True
                elif etype == "text_input" and el.text_input.label == "Username":
                    run.sign_in_form = True
                elif etype in ("multiselect", "date_input"):
                    run.widgets[getattr(el, etype).label] = getattr(el, etype)
                if in_main:
                    run.elements[etype] = run.elements.get(etype, 0) + 1
                else:
                    run.sidebar += 1
            elif kind == "page_info_changed":
                run.query_string = fwd.page_info_changed.query_string
            elif kind == "navigation":
                run.page_hash = fwd.navigation.page_script_hash
            elif kind == "page_not_found":
                run.errors.append(f"page not found: {fwd.page_not_found.page_name}")
            elif kind == "session_event" and fwd.session_event.WhichOneof("type") == "script_compilation_exception":
                run.errors.append("script compilation error")
            elif kind == "script_finished":
                status = fwd.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun / st.switch_page: the next run settles the page
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.errors.append("script compile error")
                if run.page_hash:
                    self.page_hash = run.page_hash
                if run.query_string is not None:
                    self.query_string = run.query_string
                self.widgets.update(run.widgets)
                return run


# --- the load -------------------------------------------------------------------------------------


@dataclass
class View:
    user: str
    page: str
    kind: str  # "open" or "filter"
    seconds: float
    errors: list[str]
    elements: int = 0
    started: float = 0.0


def check_run(run: Run, page: str, want: dict[str, list[str]]) -> list[str]:
    """Why this run does not count as the page rendered for a signed-in user (empty when it does)."""
    problems = list(run.errors)
    if run.sign_in_form or not run.signed_in:
        problems.append("not signed in")
    if not any(run.elements.get(t) for t in CONTENT):
        problems.append(f"no chart, table or metric on {page}")
    # The sidebar widgets as this run drew them show which filters the page was computed with.
    team, dates = run.widgets.get("Team"), run.widgets.get("Date range")
    if "team" in want and (team is None or sorted(team.raw_values) != sorted(want["team"])):
        problems.append(f"filter team={want['team']} not applied")
    if "from" in want and (dates is None or not dates.value or dates.value[0] != want["from"][0]):
        problems.append(f"filter from={want['from'][0]} not applied")
    return problems


@dataclass
class Options:
    teams: list[str]
    min_date: date
    max_date: date


def link_filters(rng: random.Random, opts: Options) -> dict[str, list[str]]:
    """A page link's filters: one team and a start date in the first two thirds of the data's span."""
    span = (opts.max_date - opts.min_date).days
    start = opts.min_date + timedelta(days=rng.randrange(1, max(2, span * 2 // 3)))
    return {"team": [rng.choice(opts.teams)], "from": [start.isoformat()]}


def widget_change(rng: random.Random, session: Session, opts: Options):
    """New widget state for one sidebar filter (Team, or the start of the Date range), and the URL it should give."""
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    states = WidgetStates()
    current = parse_qs(session.query_string)
    if rng.random() < 0.5 and "Team" in session.widgets:
        team = rng.choice([t for t in opts.teams if [t] != current.get("team")] or opts.teams)
        w = states.widgets.add()
        w.id = session.widgets["Team"].id
        w.string_array_value.data.append(team)
        want = {"team": [team]}
    else:
        span = (opts.max_date - opts.min_date).days
        start = opts.min_date + timedelta(days=rng.randrange(1, max(2, span * 2 // 3)))
        end = date.fromisoformat(current["to"][0]) if "to" in current else opts.max_date
        w = states.widgets.add()
        w.id = session.widgets["Date range"].id
        w.string_array_value.data.extend([start.isoformat(), end.isoformat()])
        want = {"from": [start.isoformat()]}
    return states, want


async def probe(base_url: str, cookie: str, page: str, timeout: float) -> Options:
    """Open `page` once signed in and read the filter choices (teams, date span) off its sidebar widgets."""
    session = Session(base_url, cookie)
    await session.open()
    try:
        run = await session.rerun(page, "", timeout=timeout)
    finally:
        await session.close()
    problems = check_run(run, page, {})
    if problems:
        raise UserError(f"probe of /{page} failed: {'; '.join(problems)} (is the server's DASHBOARD_SESSION_KEY the one given?)")
    team, dates = run.widgets.get("Team"), run.widgets.get("Date range")
    if team is None or dates is None or not team.options:
        raise UserError(f"probe of /{page}: the sidebar has no Team or Date range filter")
    return Options(list(team.options), date.fromisoformat(dates.min), date.fromisoformat(dates.max))


async def user_loop(index: int, base_url: str, username: str, cookie: str, pages: list[str], opts: Options,
                    args, t0: float, views: list[View], skipped: list[float]) -> None:
    rng = random.Random(args.seed * 1000 + index)
    session: Session | None = None
    k = 0
    while True:
        due = t0 + k * args.interval + (index * args.interval / max(1, args.sessions) if args.stagger else 0)
        if due - t0 >= args.duration or (args.max_views and k >= args.max_views):
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        k += 1
        if time.monotonic() - t0 >= args.duration:  # bounded in time: a view that fell behind is dropped
            skipped.append(due)
            continue
        kind = "filter" if session is not None and rng.random() < args.filter_share else "open"
        page = rng.choice(pages) if kind == "open" else view_page
        started = time.monotonic()
        try:
            if kind == "open":
                if session is not None:
                    await session.close()
                view_page = page
                want = link_filters(rng, opts)
                session = Session(base_url, cookie)
                await session.open()
                run = await session.rerun(page, urlencode(want, doseq=True), timeout=args.timeout)
            else:
                states, want = widget_change(rng, session, opts)
                run = await session.rerun("", None, states, timeout=args.timeout)
            seconds = time.monotonic() - started
            views.append(View(username, page, kind, seconds, check_run(run, page, want), run.main_count, started - t0))
        except Exception as exc:  # noqa: BLE001 - a failed view is counted, the load goes on
            reason = "timeout" if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) else f"{type(exc).__name__}: {exc}"
            views.append(View(username, page, kind, time.monotonic() - started, [reason], 0, started - t0))
            if session is not None:
                try:
                    await session.close()
                except Exception:  # noqa: BLE001 - the socket is gone already
                    pass
            session = None
    if session is not None:
        await session.close()


async def run_load(base_url: str, args, meter: ProcessMeter | None) -> tuple[list[View], float]:
    users = access.load_credentials(access.default_credentials_path())
    names = args.users.split(",")
    cookies = {name: cookie_for(name, users, args.access_log, int(args.duration + 3 * args.timeout + 600)) for name in names}
    pages_of = {}
    for name in names:
        allowed = access.pages_for(users[name]["role"])
        chosen = [p for p in (args.pages.split(",") if args.pages else allowed) if p in allowed]
        if not chosen:
            raise UserError(f"user {name} ({users[name]['role']}) may open none of the pages {args.pages}")
        pages_of[name] = chosen
    opts = await probe(base_url, cookies[names[0]], pages_of[names[0]][0], args.timeout)
    views: list[View] = []
    skipped: list[float] = []
    t0 = time.monotonic()
    tasks = [asyncio.create_task(user_loop(i, base_url, names[i % len(names)], cookies[names[i % len(names)]],
                                           pages_of[names[i % len(names)]], opts, args, t0, views, skipped))
             for i in range(args.sessions)]
    while not all(t.done() for t in tasks):
        if meter:
            meter.sample()
        await asyncio.sleep(0.5)
    for t in tasks:
        t.result()
    return views, len(skipped), time.monotonic() - t0


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank on the sorted values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]


def summarize(views: list[View]) -> dict:
    groups: dict[str, list[View]] = {}
    for v in views:
        groups.setdefault(v.page, []).append(v)
        groups.setdefault(f"({v.kind})", []).append(v)
    groups["(all)"] = views
    out = {}
    for name, vs in groups.items():
        secs = [v.seconds for v in vs]
        out[name] = {"views": len(vs), "errors": sum(1 for v in vs if v.errors),
                     "p50_s": round(statistics.median(secs), 3), "p95_s": round(pct(secs, 95), 3),
                     "max_s": round(max(secs), 3), "elements_min": min(v.elements for v in vs)}
    reasons: dict[str, int] = {}
    for v in views:
        for e in v.errors:
            key = e.split(" (URL")[0][:100]
            reasons[key] = reasons.get(key, 0) + 1
    return {"groups": out, "error_reasons": reasons}


def print_report(summary: dict, extra: dict) -> None:
    print(f"{'page':<16}{'views':>7}{'errors':>8}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'min elements':>14}")
    for name, g in sorted(summary["groups"].items(), key=lambda kv: (kv[0].startswith("("), kv[0])):
        print(f"{name:<16}{g['views']:>7}{g['errors']:>8}{g['p50_s']:>8.2f}{g['p95_s']:>8.2f}{g['max_s']:>8.2f}"
              f"{g['elements_min']:>14}")
    for reason, n in sorted(summary["error_reasons"].items(), key=lambda kv: -kv[1]):
        print(f"  error x{n}: {reason}")
    print("  " + ", ".join(f"{k} {v}" for k, v in extra.items()))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, default=ROOT / "data" / "demo.duckdb")
    p.add_argument("--access-log", type=Path, default=None,
                   help="the server's access log, where a remembered sign-in must be on record (default: <db>.access.sqlite)")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--duration", type=float, default=60.0, help="seconds during which views start")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between a session's views")
    p.add_argument("--filter-share", type=float, default=0.5,
                   help="share of views (after a session's first) that change a filter instead of opening a link")
    p.add_argument("--users", default="manager,compliance", help="users of the credentials file, taken in turn")
    p.add_argument("--pages", default="", help="page keys to visit (default: every page the user's role sees)")
    p.add_argument("--max-views", type=int, default=0, help="at most this many views per session (0: no limit)")
    p.add_argument("--stagger", action="store_true", help="spread the sessions' starts over one interval")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds after which a view counts as an error")
    p.add_argument("--url", default="", help="a running server (loopback only) instead of starting one")
    p.add_argument("--session-key", default=os.environ.get("DASHBOARD_SESSION_KEY", ""),
                   help="that server's DASHBOARD_SESSION_KEY (with --url)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the summary as JSON too")
    args = p.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        raise UserError(f"--sessions must be 1 to {MAX_SESSIONS}")
    if not 0 < args.duration <= MAX_DURATION:
        raise UserError(f"--duration must be more than 0 and at most {MAX_DURATION:.0f} s")
    if args.interval <= 0 or args.timeout <= 0 or not 0 <= args.filter_share <= 1:
        raise UserError("--interval and --timeout must be positive, --filter-share within 0..1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    proc = None
    if args.url:
        base_url = check_loopback(args.url)
        if not args.session_key:
            raise UserError("--url needs the server's DASHBOARD_SESSION_KEY (--session-key or the environment)")
        key = args.session_key
    else:
        if not args.db.exists():
            raise UserError(f"database {args.db} not found")
        key = secrets.token_hex(32)
    os.environ["DASHBOARD_SESSION_KEY"] = key  # before access mints a token: it reads the key once
    args.access_log = args.access_log or accesslog.default_path(args.db.resolve(), {})
    if not args.url:
        log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_load_{os.getpid()}.log"
        proc, base_url = start_server(args.db.resolve(), key, log_path, access_log=args.access_log)
    try:
        meter = ProcessMeter(proc.pid) if proc else None
        cpu0 = machine_cpu()
        views, skipped, wall = asyncio.run(run_load(base_url, args, meter))
        summary = summarize(views)
        extra = {"sessions": args.sessions, "interval_s": args.interval, "wall_s": round(wall, 1),
                 "views_dropped_late": skipped,
                 "db": str(args.db) if not args.url else base_url,
                 "load_avg_1m": round(os.getloadavg()[0], 2)}
        if meter:
            extra["server_cores_used"] = round((meter.cpu() - meter.cpu0) / wall, 2)
            extra["server_peak_rss_mb"] = round(meter.peak_rss / 2**20)
        extra["machine_cores_busy"] = machine_cores_busy(cpu0, wall)  # everything: server, this client, others
        print_report(summary, extra)
        if args.json:
            print(json.dumps({**summary, **extra}))
        return 1 if summary["groups"]["(all)"]["errors"] else 0
    finally:
        if proc:
            stop_server(proc)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
