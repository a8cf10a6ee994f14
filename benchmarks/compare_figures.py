"""Figures unchanged? Dump every figure the product shows with one code tree, and compare two dumps.

Issue 19 restructures the code without changing behaviour. This script proves it: it runs the code
of a tree (a checkout) against a database and writes everything the product shows to a folder, then
compares two such folders exactly (same columns, dtypes and values; floats bit for bit; NaN == NaN).

What a dump holds (DIR/):
- cli/audit.csv (+ audit_rules.csv with --rules config/rules.toml) and cli/scorecard_<tz>_<month>.csv
  for every month the data spans (one month before and after, too: their error text is compared),
  UTC and America/Chicago, written by the CLI itself (`analysis.__main__.main`, in process), with
  its exit code, stdout and stderr in a `.out` file next to each;
- figures/<module>.<function>__<args>.pkl: the result of every analysis function the dashboard
  pages call through `load(...)` and of the pure helpers they apply to those results, over a grid
  of arguments (filters: ALL, the full span the sidebar passes by default, a date range + one team,
  a portfolio + strategy + two channels; every dimension a page offers; UTC and America/Chicago
  where a zone is taken). The list is `page_figures` below: keep it the one place. A call that
  raises is recorded as {"__error__": "Type: message"}, so a call failing in one tree only shows;
- tables/<table>.parquet (+ .schema.pkl) with --tables: every table of the database, rows sorted,
  so a change in the demo generator shows too;
- manifest.json (tree, commit, database, the filter grid) and timing.json: not compared.

Results are stored as plain values (DataFrames, dicts, lists, scalars; the product's dataclasses as
dicts with "__type__"; Plotly figures as their JSON dict), so that a dump can be read without either
tree's `analysis` package. Paths of the tree, the database and the output folder are replaced by
<TREE>, <DB>, <OUT> in texts.

Determinism (checked by dumping the baseline twice): DuckDB runs on one thread in a dump, since
with several it adds the partial sums of float aggregates in a varying order and e.g. balance.groups'
sums of squares (and the intervals made from them) changed in the last bits from run to run; the
comparison flags a result that differs by float rounding only (`--rtol` accepts such results).
Pseudonyms of masked ids are keyed by DASHBOARD_PSEUDONYM_KEY, random per process when unset, so
the dump sets a fixed key. Reviews are
read from a review log this script seeds in a temporary folder with fixed times (the database's own
log, if any, is not read). PDFs (scorecard, evidence pack) are not dumped: fpdf2 stamps the wall
clock into them and kaleido takes seconds per chart; their inputs (the scorecard table, the
evidence detail, the timeline figure) are dumped.

Usage (.venv/bin/python of /work/main for every tree; each dump runs in its own process, with the
tree as cwd and first on sys.path, so the two trees' modules never mix):

    # one tree, one database
    python benchmarks/compare_figures.py dump --tree /work/baseline --db DB --out DIR [--tables] [--no-rules-audit]
    # two dumps
    python benchmarks/compare_figures.py compare DIR_A DIR_B        # exit 1 if anything differs
    # baseline and current code on the same database (DIR/before, DIR/after)
    python benchmarks/compare_figures.py all --db DB --out DIR
    # also the demo generator: DIR/before.duckdb by the baseline, DIR/after.duckdb by the current
    # code (python -m analysis demo, 20,000 accounts, DuckDB on one thread), tables and figures of
    # each on its own database
    python benchmarks/compare_figures.py build --tree TREE --db DB
    python benchmarks/compare_figures.py all --build --out DIR
    # reuse a stored baseline dump (made with --tables on the baseline's default demo) instead of
    # dumping (and building) the baseline again
    python benchmarks/compare_figures.py all --build --out DIR --before-dump /work/notes/figs/before
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import io
import json
import math
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

BASELINE = Path("/work/baseline")
CURRENT = Path(__file__).resolve().parent.parent
PSEUDONYM_KEY = "compare-figures-fixed-key"
ZONES = ("UTC", "America/Chicago")
REVIEW_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)  # fixed: the page would pass now()
NOT_COMPARED = ("manifest.json", "timing.json")


# =============================================================================== the page figures

def page_figures(run, x) -> None:
    """Every figure the dashboard pages show: `run(module, function, *args)` calls it on the open
    connection (`con=False`: a pure function, e.g. a table the page builds from a loaded result) and
    returns an `R` whose `.value` is the result, or None when the call failed. `x` holds the grid.
    Keep this the one list: it mirrors dashboard/app_pages/*.py (and app.py, filters.py)."""
    F, zones = x.filters, ZONES

    # app.py / filters.py (sidebar)
    run("analysis.catalog", "filter_options")
    run("analysis.catalog", "data_as_of")

    # data.py
    run("analysis.catalog", "table_counts")
    run("analysis.catalog", "import_history")
    run("analysis.catalog", "quarantine_reasons")
    run("analysis.catalog", "quarantine", 1000)
    run("analysis.catalog", "derived_tables")

    # scorecard.py (the sidebar filters do not apply)
    for tz in zones:
        run("analysis.scorecard", "month_choices", tz)
        run("analysis.scorecard", "default_month", tz)
        for month in x.months:
            card = run("analysis.scorecard", "scorecard", month, tz)
            run("analysis.scorecard", "headline", card, con=False)
            run("analysis.scorecard", "csv_from_table", card, con=False)
            for section in x.get("analysis.scorecard", "SECTIONS", ()):
                run("analysis.scorecard", "display_frame", card, section, con=False)
    run("analysis.scorecard", "scorecard", "2026-13", "UTC")  # the page's error text
    run("analysis.scorecard", "trend_months", x.months[-1], con=False)

    # experience.py
    for f in F:
        for tz in zones:
            months = run("analysis.experience", "monthly", f, tz)
            run("analysis.experience", "headline", months, con=False)
            run("analysis.experience", "month_table", months, con=False)
            for dim in x.get("analysis.experience", "DIMENSIONS", {}):
                seg = run("analysis.experience", "by_segment", f, dim, tz)
                run("analysis.experience", "segment_table", seg, x.get("analysis.experience", "DIMENSIONS")[dim], con=False)
                segments = [] if seg.value is None or not len(seg.value) else list(seg.value["segment"])[:2]
                for one in segments:
                    run("analysis.experience", "month_table", run("analysis.experience", "segment_monthly", f, dim, one, tz), con=False)
            run("analysis.experience", "theme_drivers", f, tz)
            for band in ("", "detractor", "passive", "promoter", "no_nps"):
                run("analysis.experience", "verbatims", f, band, tz)
    run("analysis.experience", "sentiment_available")

    # complaints.py
    for f in F:
        for tz in zones:
            summary = run("analysis.complaints", "summary", f, tz)
            run("analysis.complaints", "headline", summary, con=False)
            run("analysis.complaints", "month_table", run("analysis.complaints", "monthly", f, tz), con=False)
            for dim in x.get("analysis.complaints", "DIMENSIONS", {}):
                run("analysis.complaints", "by_segment", f, dim, tz)
            days = run("analysis.complaints", "resolution_days", f, tz)
            if days.value is not None and "resolution_days" in getattr(days.value, "columns", ()):
                run("analysis.complaints", "histogram", days.value["resolution_days"], con=False, label=days.key)
            run("analysis.complaints", "backlog_ageing", f, None, tz)
            run("analysis.complaints", "cfpb_timeliness", f, tz)
            linked = run("analysis.complaints", "contact_complaints_with_breaches", f, tz)
            run("analysis.access", "mask_frame", linked, "manager", con=False)

    # benchmark.py (the page passes UTC; Chicago too, cheap)
    run("analysis.cfpb", "benchmark_timeliness")
    run("analysis.cfpb", "benchmark_company_responses")
    for f in F:
        for tz in zones:
            run("analysis.cfpb", "benchmark_mix", f, tz)
            run("analysis.cfpb", "firm_timeliness", f, tz)

    # repayments.py
    for f in F:
        for split in ("portfolio", "team", "strategy", "channel"):
            run("analysis.repayments", "collected_by_month", f, split)
        run("analysis.repayments", "monthly_totals", f)
        for by in x.get("analysis.repayments", "LIFETIME_SEGMENTS", ()):
            life = run("analysis.repayments", "lifetime_by_segment", f, by)
            run("analysis.repayments", "segment_table", life, by.capitalize(), con=False)
        run("analysis.repayments", "liquidation_curves", f)
        due = 0
        for by in ("team", "agent"):
            table = run("analysis.repayments", "promises_by", f, by)
            if by == "team" and table.value is not None and "promises_due" in getattr(table.value, "columns", ()):
                due = int(table.value["promises_due"].sum())
        broken = run("analysis.repayments", "broken_promises", f)
        run("analysis.repayments", "broken_promise_summary", broken, due, con=False)
        run("analysis.access", "mask_frame", run("analysis.repayments", "followed_up", broken, con=False), "manager", con=False)
        for channel in ("call", "sms", "email", "chat"):
            heat = run("analysis.repayments", "contact_heatmap", f, channel)
            run("analysis.repayments", "heatmap_matrix", heat, "rate_pct", con=False)
            run("analysis.repayments", "heatmap_matrix", heat, "attempts", con=False)
            run("analysis.repayments", "best_hours", heat, con=False)
        run("analysis.repayments", "contact_by_channel", f)

    # balance.py
    run("analysis.balance", "has_sentiment")
    strategies = run("analysis.balance", "strategies").value or []
    for f in F:
        for by in x.get("analysis.balance", "GROUPINGS", ()):
            groups = run("analysis.balance", "groups", f, by)
            run("analysis.balance", "split_overall", groups, con=False)
            run("analysis.balance", "table", groups, con=False)
        pairs = [(strategies[0], strategies[1]), (strategies[1], strategies[0])] if len(strategies) >= 2 else []
        for champion, challenger in pairs:  # the page's default pair, and swapped
            run("analysis.balance", "comparison_table", run("analysis.balance", "compare", f, champion, challenger), con=False)
        for by in ("strategy", "team"):
            run("analysis.balance", "monthly_table", run("analysis.balance", "monthly", f, by), con=False)

    # compliance.py
    run("analysis.compliance.workspace", "rule_set_label")
    run("analysis.compliance.workspace", "ready")
    run("analysis.compliance.workspace", "signals_ready")
    catalog = run("analysis.compliance.workspace", "rule_catalog").value or {}
    signal_names = list(x.get("analysis.compliance.signals", "SIGNALS", {}))
    current = run("analysis.compliance.reviews", "current", x.review_log, con=False, label="seeded_log")
    for f in F:
        run("analysis.compliance.workspace", "trend_totals", f)
        for by in x.get("analysis.compliance.workspace", "DIMENSIONS", ()):
            run("analysis.compliance.workspace", "breaches_by", f, by)
        run("analysis.compliance.workspace", "trend", f)
        for level in ("agent", "team"):
            run("analysis.compliance.workspace", "worst_offenders", f, level)
        for rules in ((), tuple(sorted(catalog))[:1]):
            listed = run("analysis.compliance.workspace", "breach_list", f, rules)
            for statuses in ((), *((s,) for s in x.get("analysis.compliance.workspace", "REVIEW_STATUSES", ()))):
                shown = run("analysis.compliance.workspace", "with_reviews", listed, current, statuses, con=False)
                run("analysis.compliance.workspace", "review_summary", shown, con=False)
                if not statuses:
                    run("analysis.access", "mask_frame", shown, "manager", con=False)
        run("analysis.compliance.workspace", "signal_counts", f)
        for chosen in ((), tuple(signal_names[:1])):
            run("analysis.access", "mask_frame", run("analysis.compliance.workspace", "signal_list", f, chosen), "manager", con=False)
    for contact_id, rule_id in x.breaches:
        detail = run("analysis.compliance.workspace", "breach_detail", contact_id, rule_id)
        run("analysis.compliance.evidence", "timeline_figure", detail, con=False)
        history = run("analysis.compliance.reviews", "history", x.review_log, contact_id, rule_id, con=False,
                      label=f"seeded_log,{contact_id},{rule_id}")
        run("analysis.compliance.evidence", "evidence_csv", detail, history, con=False)
    run("analysis.compliance.reviews", "history", x.review_log, con=False, label="seeded_log")
    rules = run("analysis.compliance.whatif", "changeable_rules", con=False).value
    if rules is not None and len(rules):
        for r in rules.itertuples():
            has_cap = r.kind == "windowed_cap"
            cap = int(r.cap) if has_cap else None
            run("analysis.compliance.whatif", "simulate", r.rule_id, cap, int(r.window_days))
        first = rules[rules["kind"] == "windowed_cap"].head(1)
        for r in first.itertuples():  # one real change, as a manager would try
            run("analysis.compliance.whatif", "simulate", r.rule_id, max(int(r.cap) - 1, 0), int(r.window_days) + 2)
        run("analysis.compliance.whatif", "simulate", "no_such_rule", None, 7)  # the error text

    # conversations.py
    run("analysis.sentiment.report", "ready")
    lowest_ids: list = []
    for f in F:
        run("analysis.sentiment.report", "overview", f)
        run("analysis.sentiment.report", "histogram", f)
        for by in x.get("analysis.sentiment.report", "GROUPS", ()):
            run("analysis.sentiment.report", "trend", f, by)
            run("analysis.sentiment.report", "by_group", f, by)
        low = run("analysis.sentiment.report", "lowest", f, 25)
        run("analysis.access", "mask_frame", low, "manager", con=False)
        if low.value is not None and not lowest_ids and len(low.value):
            lowest_ids = list(low.value["conversation_id"])[:2]
        run("analysis.sentiment.report", "qa_by_rule", f)
        run("analysis.sentiment.report", "qa_by_agent", f)
        run("analysis.access", "mask_frame", run("analysis.sentiment.report", "vulnerable_accounts", f), "manager", con=False)
    for conversation_id in [*lowest_ids, "no-such-conversation"]:
        for role in ("admin", "manager"):
            t = run("analysis.sentiment.report", "transcript", conversation_id, role)
            if t.value and "turns" in t.value:  # the page renders every turn with highlight_html
                run(_highlights, "highlight_html", t, x.get("analysis.sentiment.report", "highlight_html"), con=False, label=t.key)


def _highlights(transcript: dict, highlight_html) -> list[str]:
    return [highlight_html(row.text, row.spans) for row in transcript["turns"].itertuples()]

# =============================================================================== dumping

class R:
    """A result and the key it was saved under (a pure call on it is named after it)."""

    def __init__(self, key: str, value, ok: bool):
        self.key, self.value, self.ok = key, value, ok


class Grid:
    def __init__(self):
        self.filters: list = []
        self.filter_labels: dict[int, str] = {}
        self.months: list[str] = []
        self.breaches: list[tuple[str, str]] = []
        self.review_log: Path | None = None

    @staticmethod
    def get(module: str, name: str, default=None):
        import importlib
        try:
            return getattr(importlib.import_module(module), name)
        except Exception:  # noqa: BLE001  a moved name shows as missing results, not a crash
            return default


def _safe(text: str) -> str:
    """A file name: unsafe characters replaced; a long name cut, with a hash of the whole to keep it unique."""
    safe = re.sub(r"[^A-Za-z0-9_.,=+~()-]", "_", text)
    return safe if len(safe) <= 180 else f"{safe[:160]}~{hashlib.sha256(text.encode()).hexdigest()[:12]}"


class Normaliser:
    def __init__(self, tree: Path, db: Path, out: Path):
        self.subs = [(str(p), tag) for p, tag in sorted(((tree, "<TREE>"), (db, "<DB>"), (db.parent, "<DBDIR>"),
                                                          (out, "<OUT>")), key=lambda t: -len(str(t[0])))]

    def text(self, s: str) -> str:
        for p, tag in self.subs:
            s = s.replace(p, tag)
        return s

    def plain(self, v):
        """A value made of builtins, numpy, pandas and datetime only (readable without `analysis`)."""
        import numpy as np
        import pandas as pd
        if isinstance(v, str):
            return self.text(v)
        if v is None or isinstance(v, (bool, int, float, bytes, date, datetime, timedelta, np.generic, np.ndarray,
                                       pd.Timestamp, pd.Timedelta, Path)):
            return v
        if isinstance(v, pd.DataFrame):
            out = None
            for col in v.columns:
                if v[col].dtype == object and v[col].map(self._needs_plain).any():
                    out = v.copy() if out is None else out
                    out[col] = v[col].map(self.plain)
            return v if out is None else out
        if isinstance(v, pd.Series):
            return v.map(self.plain) if v.dtype == object and v.map(self._needs_plain).any() else v
        if isinstance(v, dict):
            return {self.plain(k): self.plain(val) for k, val in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(self.plain(i) for i in v) if type(v) in (list, tuple) else [self.plain(i) for i in v]
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {"__type__": type(v).__name__, **{f.name: self.plain(getattr(v, f.name)) for f in dataclasses.fields(v)}}
        if hasattr(v, "to_plotly_json"):
            return {"__type__": "plotly", "json": self.plain(v.to_plotly_json())}
        if isinstance(v, (set, frozenset)):
            return {"__type__": type(v).__name__, "items": sorted(map(repr, v))}
        mod = type(v).__module__ or ""
        if mod.split(".")[0] in ("builtins", "numpy", "pandas", "datetime", "decimal", "zoneinfo"):
            return v
        return {"__type__": f"{mod}.{type(v).__qualname__}", "repr": self.text(repr(v))}

    @staticmethod
    def _needs_plain(c) -> bool:
        if isinstance(c, str) or c is None or isinstance(c, (int, float)):
            return False
        mod = type(c).__module__ or ""
        return (dataclasses.is_dataclass(c) or hasattr(c, "to_plotly_json")
                or mod.split(".")[0] in ("analysis", "dashboard", "plotly")
                or isinstance(c, (dict, list, tuple)))


def _arg_label(a, grid: Grid) -> str:
    if isinstance(a, R):
        return a.key
    if id(a) in grid.filter_labels:
        return grid.filter_labels[id(a)]
    if isinstance(a, (tuple, list)):
        return "(" + "+".join(_arg_label(i, grid) for i in a) + ")"
    if isinstance(a, Path):
        return a.name
    return str(a)


def _data_span_months(db: Path) -> list[str]:
    """Every month from the earliest to the latest event (UTC), with one month on each side; read
    straight from the tables (not through either tree's code), so both trees get the same list."""
    import duckdb
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [("accounts", "placed_date"), ("contacts", "ts"), ("surveys", "responded_at"), ("complaints", "received_at"),
                ("complaints", "resolved_at"), ("payments", "paid_at"), ("promises", "created_at"), ("promises", "due_date")]
        have = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        con.execute("set TimeZone = 'UTC'")
        parts = [f"select min(cast({c} as date)) as lo, max(cast({c} as date)) as hi from {t}" for t, c in cols if t in have]
        lo, hi = con.execute(f"select min(lo), max(hi) from ({' union all '.join(parts)})").fetchall()[0]
    finally:
        con.close()
    if lo is None:
        return []
    k, last = lo.year * 12 + lo.month - 2, hi.year * 12 + hi.month
    out = []
    while k <= last:
        out.append(f"{k // 12:04d}-{k % 12 + 1:02d}")
        k += 1
    return out


def _cli(argv: list[str], out_base: Path, norm: Normaliser, timing: dict) -> None:
    """Run `python -m analysis ARGV` in process; write its exit code, stdout and stderr to OUT.out."""
    from analysis.__main__ import main
    so, se = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        try:
            rc = main(argv)
        except BaseException as exc:  # noqa: BLE001
            rc = f"raised {type(exc).__name__}: {exc}"
    timing[out_base.name] = round(time.perf_counter() - t0, 3)
    out_base.with_suffix(".out").write_text(norm.text(f"exit {rc}\n--- stdout\n{so.getvalue()}--- stderr\n{se.getvalue()}"),
                                            encoding="utf-8")


def _single_threaded_duckdb() -> None:
    """Every DuckDB connection of this process runs on one thread.

    With several threads, DuckDB adds the partial sums of a float aggregate in whatever order the
    threads finish, so e.g. balance.groups' `placed_sq` (a sum of squared balances) and the
    intervals made from it differ in the last bits from run to run (seen on the baseline: 47 of
    1,250 results). On one thread the order is the scan order: the same on every run.
    """
    import duckdb
    if getattr(duckdb.connect, "_one_thread", False):
        return
    connect = duckdb.connect

    def connect_one_thread(database=":memory:", read_only=False, config=None, **kw):
        return connect(database, read_only=read_only, config={**(config or {}), "threads": 1}, **kw)

    connect_one_thread._one_thread = True
    duckdb.connect = connect_one_thread


def dump(tree: Path, db: Path, out: Path, tables: bool, rules_audit: bool) -> int:
    tree, db, out = tree.resolve(), db.resolve(), out.resolve()
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    os.environ["DASHBOARD_PSEUDONYM_KEY"] = PSEUDONYM_KEY
    _single_threaded_duckdb()
    import importlib

    import analysis
    if Path(analysis.__file__).resolve().parent.parent != tree:
        raise SystemExit(f"analysis imported from {analysis.__file__}, not from {tree}")
    from analysis.db import connect

    t_start = time.perf_counter()
    norm = Normaliser(tree, db, out)
    for sub in ("cli", "figures", "tables"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    timing: dict[str, float] = {}
    grid = Grid()
    grid.months = _data_span_months(db)

    # ---- the CLI's files
    cli = out / "cli"
    _cli(["audit", "--db", str(db), "--out", str(cli / "audit.csv")], cli / "audit", norm, timing)
    if rules_audit:
        _cli(["audit", "--db", str(db), "--out", str(cli / "audit_rules.csv"), "--rules", "config/rules.toml"],
             cli / "audit_rules", norm, timing)
    for tz in ZONES:
        for month in grid.months:
            name = f"scorecard_{_safe(tz)}_{month}"
            _cli(["scorecard", "--db", str(db), "--month", month, "--out", str(cli / f"{name}.csv"), "--timezone", tz],
                 cli / name, norm, timing)
    t_cli = time.perf_counter() - t_start

    # ---- the grid
    dbcon = connect(db, read_only=True)
    Filters = importlib.import_module("analysis.filters").Filters
    ALL = importlib.import_module("analysis.filters").ALL
    opts = importlib.import_module("analysis.catalog").filter_options(dbcon)
    lo, hi = opts["min_date"], opts["max_date"]
    f_span = Filters(lo, hi)
    f_team = Filters(lo + timedelta(days=180), lo + timedelta(days=300), teams=tuple(sorted(opts["teams"]))[:1])
    f_mix = Filters(portfolios=tuple(sorted(opts["portfolios"]))[-1:], strategies=tuple(sorted(opts["strategies"]))[:1],
                    channels=("call", "sms"))
    grid.filters = [ALL, f_span, f_team, f_mix]
    grid.filter_labels = {id(ALL): "ALL", id(f_span): "span", id(f_team): "dates+team", id(f_mix): "portfolio+strategy+channels"}

    # A review log seeded with fixed reviews of the first breaches (the page reads the database's own
    # log, whose content depends on who clicked what; this one is the same for every dump).
    tmp = tempfile.TemporaryDirectory(prefix="compare_figures_")
    grid.review_log = Path(tmp.name) / "reviews.sqlite"
    try:
        workspace = importlib.import_module("analysis.compliance.workspace")
        reviews = importlib.import_module("analysis.compliance.reviews")
        first = workspace.breach_list(dbcon, ALL, ())
        pairs = list(zip(first["contact_id"], first["rule_id"]))
        per_rule = {}
        for c, r in pairs:
            per_rule.setdefault(r, (c, r))
        grid.breaches = list(dict.fromkeys([*pairs[:3], *sorted(per_rule.values(), key=lambda p: p[1])]))
        for i, (c, r) in enumerate(pairs[:4]):
            state = reviews.STATES[i % len(reviews.STATES)]
            reviews.record(grid.review_log, c, r, state, "compare", REVIEW_TIME + timedelta(minutes=i),
                           reason=reviews.REASONS[0] if state == "dismissed" else None, note=f"review {i}")
        c, r = pairs[0]  # a second review of the first breach: the latest one counts
        reviews.record(grid.review_log, c, r, "dismissed", "compare", REVIEW_TIME + timedelta(hours=1),
                       reason=reviews.REASONS[1], note="changed my mind")
    except Exception as exc:  # noqa: BLE001
        print(f"warning: seeding the review log failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    figs = out / "figures"
    seen: set[str] = set()
    errors = 0

    def run(module, name: str, *args, con: bool = True, label: str | None = None) -> R:
        """module: a module name, or a callable (a page's own step, named `name`)."""
        nonlocal errors
        mod_label = module.removeprefix("analysis.") if isinstance(module, str) else "page"
        key = _safe(f"{mod_label}.{name}__" + (label if label is not None else ",".join(_arg_label(a, grid) for a in args)))
        if key in seen:
            raise SystemExit(f"page_figures: {key} twice")
        seen.add(key)
        parents = [a for a in args if isinstance(a, R)]
        values = [a.value if isinstance(a, R) else a for a in args]
        t0 = time.perf_counter()
        ok = True
        if any(not p.ok for p in parents):
            value, ok = {"__error__": "not run: an input failed"}, False
        else:
            try:
                func = getattr(importlib.import_module(module), name) if isinstance(module, str) else module
                value = func(dbcon, *values) if con else func(*values)
            except Exception as exc:  # noqa: BLE001  recorded: a call failing in one tree only shows
                value, ok = {"__error__": f"{type(exc).__name__}: {str(exc)}"}, False
        timing[key] = round(time.perf_counter() - t0, 4)
        if not ok:
            errors += 1
        with open(figs / f"{key}.pkl", "wb") as fh:
            pickle.dump(norm.plain(value), fh, protocol=5)
        return R(key, value if ok else None, ok)

    page_figures(run, grid)
    dbcon.close()
    tmp.cleanup()
    t_figs = time.perf_counter() - t_start - t_cli

    # ---- the tables
    n_tables = 0
    if tables:
        import duckdb
        tcon = duckdb.connect(str(db), read_only=True)
        try:
            names = [r[0] for r in tcon.execute("select table_name from information_schema.tables "
                                                "where table_schema = 'main' order by 1").fetchall()]
            for t in names:
                schema = tcon.execute(f'describe "{t}"').df()
                with open(out / "tables" / f"{t}.schema.pkl", "wb") as fh:
                    pickle.dump(schema, fh, protocol=5)
                tcon.execute(f"copy (select * from \"{t}\" order by all) to '{out / 'tables' / (t + '.parquet')}' (format parquet)")
                n_tables += 1
        finally:
            tcon.close()

    commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "analysis", "queries", "config"],
                           capture_output=True, text=True).stdout.strip()
    (out / "manifest.json").write_text(json.dumps({
        "tree": str(tree), "commit": commit, "uncommitted_changes": bool(dirty), "db": str(db),
        "filters": {grid.filter_labels[id(f)]: repr(f) for f in grid.filters}, "months": grid.months, "zones": ZONES,
        "breaches_opened": grid.breaches, "figures": len(seen), "figures_failed": errors, "tables": n_tables,
    }, indent=1, default=str), encoding="utf-8")
    total = time.perf_counter() - t_start
    timing.update({"_cli_seconds": round(t_cli, 1), "_figures_seconds": round(t_figs, 1), "_total_seconds": round(total, 1)})
    (out / "timing.json").write_text(json.dumps(timing, indent=1), encoding="utf-8")
    n_cli = len(list((out / "cli").iterdir()))
    print(f"dumped {tree} on {db}: {n_cli} CLI files, {len(seen)} figures ({errors} raised), {n_tables} tables "
          f"in {total:.0f} s (CLI {t_cli:.0f} s, figures {t_figs:.0f} s)")
    return 0


# =============================================================================== comparing

def _same(a, b, path: str = "", rtol: float = 0.0) -> str | None:
    """None when a and b are identical (floats exactly, NaN == NaN; with rtol, floats within that
    relative tolerance), else a short reason."""
    import numpy as np
    import pandas as pd
    from pandas.testing import assert_frame_equal, assert_series_equal
    # Scalars: the same kind (bool, integer, float, text) and value; numpy's scalar types equal
    # Python's (a figure in a list reads the same as np.float64 or float). Everything else: same type.
    kind_a, kind_b = _scalar_kind(a), _scalar_kind(b)
    if kind_a or kind_b:
        if kind_a != kind_b:
            return f"{path or 'value'}: type {type(a).__name__} != {type(b).__name__} ({a!r:.60} vs {b!r:.60})"
        if kind_a == "float":
            a, b = float(a), float(b)
            if (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b)):
                return None
            if rtol and math.isclose(a, b, rel_tol=rtol, abs_tol=0.0):
                return None
            return f"{path}: {a!r} != {b!r}"
        return None if a == b else f"{path}: {a!r:.120} != {b!r:.120}"
    if type(a) is not type(b):
        return f"{path or 'value'}: type {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, pd.DataFrame):
        if list(a.columns) != list(b.columns):
            return f"{path or 'frame'}: columns {list(a.columns)} != {list(b.columns)}"
        if a.shape != b.shape:
            return f"{path or 'frame'}: shape {a.shape} != {b.shape}"
        try:
            assert_frame_equal(a, b, check_exact=not rtol, rtol=rtol or 1e-5, atol=0.0, check_dtype=True, check_index_type=True, check_column_type=True,
                               check_names=True, check_freq=True, check_flags=True)
        except AssertionError as exc:
            return f"{path or 'frame'}: " + " ".join(str(exc).split())[:400]
        return _same_cells(a, b, path, rtol)
    if isinstance(a, pd.Series):
        try:
            assert_series_equal(a, b, check_exact=not rtol, rtol=rtol or 1e-5, atol=0.0, check_dtype=True, check_index_type=True, check_names=True)
        except AssertionError as exc:
            return f"{path or 'series'}: " + " ".join(str(exc).split())[:400]
        return _same_cells(a.to_frame(), b.to_frame(), path, rtol)
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return f"{path}: array {a.dtype}{a.shape} != {b.dtype}{b.shape}"
        eq = np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") or bool(
            rtol and a.dtype.kind in "fc" and np.allclose(a, b, rtol=rtol, atol=0.0, equal_nan=True))
        return None if eq else f"{path}: array values differ"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)[:12]} != {list(b)[:12]}"
        for k in a:
            r = _same(a[k], b[k], f"{path}[{k!r}]", rtol)
            if r:
                return r
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            r = _same(x, y, f"{path}[{i}]", rtol)
            if r:
                return r
        return None
    try:
        eq = a == b
        eq = bool(eq) if not isinstance(eq, (np.ndarray, pd.Series, pd.DataFrame)) else bool(np.all(eq))
    except Exception:  # noqa: BLE001
        eq = repr(a) == repr(b)
    if not eq and not (a is pd.NaT and b is pd.NaT) and not (a is pd.NA and b is pd.NA):
        return f"{path}: {a!r:.120} != {b!r:.120}"
    return None


def _scalar_kind(v) -> str | None:
    import numpy as np
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    if isinstance(v, (str, np.str_)):
        return "str"
    return None


def _same_cells(a, b, path: str, rtol: float = 0.0) -> str | None:
    """Object columns cell by cell (lists, dicts, None vs NaN): assert_frame_equal is lenient there."""
    for col in a.columns:
        if a[col].dtype != object:
            continue
        for i, (x, y) in enumerate(zip(a[col].tolist(), b[col].tolist())):
            if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
                continue
            r = _same(x, y, f"{path}[{col!r}][{i}]", rtol)
            if r:
                return r
    return None


def _compare_parquet(pa: Path, pb: Path) -> str | None:
    import duckdb
    con = duckdb.connect()
    try:
        sa = con.execute("describe select * from read_parquet(?)", [str(pa)]).fetchall()
        sb = con.execute("describe select * from read_parquet(?)", [str(pb)]).fetchall()
        if sa != sb:
            return f"schema {[(r[0], r[1]) for r in sa]} != {[(r[0], r[1]) for r in sb]}"[:400]
        na = con.execute("select count(*) from read_parquet(?)", [str(pa)]).fetchall()[0][0]
        nb = con.execute("select count(*) from read_parquet(?)", [str(pb)]).fetchall()[0][0]
        only_a = con.execute("select count(*) from (select * from read_parquet($a) except all select * from read_parquet($b))",
                             {"a": str(pa), "b": str(pb)}).fetchall()[0][0]
        only_b = con.execute("select count(*) from (select * from read_parquet($b) except all select * from read_parquet($a))",
                             {"a": str(pa), "b": str(pb)}).fetchall()[0][0]
        if only_a or only_b or na != nb:
            sample = con.execute("select columns(*)::varchar from (select * from read_parquet($a) except all "
                                 "select * from read_parquet($b)) limit 1",
                                 {"a": str(pa), "b": str(pb)}).fetchall()
            return f"rows {na} vs {nb}; {only_a} only in A, {only_b} only in B; e.g. {str(sample[:1])[:200]}"
        # same multiset of rows; the files are sorted, so a different order means different sorting keys
        return None
    finally:
        con.close()


def compare(dir_a: Path, dir_b: Path, rtol: float = 0.0) -> int:
    """Print each difference; exit code 1 when any. A pickled result that differs only by float
    rounding (within a relative 1e-9) says so; with `rtol`, such results are not counted as differing."""
    files = sorted({p.relative_to(d).as_posix() for d in (dir_a, dir_b) for p in d.rglob("*") if p.is_file()}
                   - set(NOT_COMPARED))
    differ = rounding = 0
    for rel in files:
        pa, pb = dir_a / rel, dir_b / rel
        note = ""
        if not pa.exists() or not pb.exists():
            reason = f"only in {'A' if pa.exists() else 'B'}"
        elif rel.endswith(".pkl"):
            with open(pa, "rb") as fa, open(pb, "rb") as fb:
                a, b = pickle.load(fa), pickle.load(fb)
            reason = _same(a, b)
            if reason and _same(a, b, rtol=max(rtol, 1e-9)) is None:
                rounding += 1
                note = " [float rounding only: equal within a relative 1e-9]"
                if rtol and _same(a, b, rtol=rtol) is None:
                    print(f"ROUNDING {rel}: {reason}")
                    continue
        elif rel.endswith(".parquet"):
            reason = _compare_parquet(pa, pb)
        else:
            ta, tb = pa.read_bytes(), pb.read_bytes()
            reason = None
            if ta != tb:
                la, lb = ta.decode("utf-8", "replace").splitlines(), tb.decode("utf-8", "replace").splitlines()
                i = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))
                reason = (f"line {i + 1}: {la[i] if i < len(la) else '<end>'!r:.160} != "
                          f"{lb[i] if i < len(lb) else '<end>'!r:.160} ({len(la)} vs {len(lb)} lines)")
        if reason:
            differ += 1
            print(f"DIFF {rel}: {reason}{note}")
    extra = f" ({rounding} by float rounding only{', accepted by --rtol' if rtol else ''})" if rounding else ""
    print(f"{len(files)} results compared, {differ} differ{extra}")
    return 1 if differ else 0


# =============================================================================== driving

def _python() -> str:
    return sys.executable


def _sub_dump(tree: Path, db: Path, out: Path, tables: bool, rules_audit: bool = True) -> None:
    cmd = [_python(), str(Path(__file__).resolve()), "dump", "--tree", str(tree), "--db", str(db), "--out", str(out)]
    cmd += ["--tables"] if tables else []
    cmd += [] if rules_audit else ["--no-rules-audit"]
    env = {**os.environ, "PYTHONPATH": str(tree), "DASHBOARD_PSEUDONYM_KEY": PSEUDONYM_KEY}
    subprocess.run(cmd, cwd=tree, env=env, check=True)


def _build(tree: Path, db: Path) -> None:
    """`python -m analysis demo --db DB --quiet` with the tree's code, DuckDB on one thread: with
    several, refresh's float averages come out different in the last bits from build to build (seen:
    one conversation_sentiment row of 112,239 between two builds by the baseline)."""
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([_python(), str(Path(__file__).resolve()), "build", "--tree", str(tree), "--db", str(db)], cwd=tree,
                   env={**os.environ, "PYTHONPATH": str(tree)}, check=True)
    print(f"built {db} with {tree} in {time.perf_counter() - t0:.0f} s")


def run_all(args) -> int:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    before = Path(args.before_dump).resolve() if args.before_dump else out / "before"
    if args.build:
        if not args.before_dump:
            _build(Path(args.baseline), out / "before.duckdb")
        _build(Path(args.current), out / "after.duckdb")
        db_before, db_after = out / "before.duckdb", out / "after.duckdb"
    else:
        if not args.db:
            raise SystemExit("all: give --db DB, or --build")
        db_before = db_after = Path(args.db).resolve()
    # a stored baseline dump with tables is compared against a dump with tables
    tables = args.build or args.tables or bool(args.before_dump and any((before / "tables").glob("*.parquet")))
    if not args.before_dump:
        _sub_dump(Path(args.baseline), db_before, before, tables, not args.no_rules_audit)
    _sub_dump(Path(args.current), db_after, out / "after", tables, not args.no_rules_audit)
    return compare(before, out / "after")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="dump the figures of one tree on one database")
    d.add_argument("--tree", required=True, help="the code tree (its analysis/ is imported)")
    d.add_argument("--db", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--tables", action="store_true", help="also every table of the database, rows sorted")
    d.add_argument("--no-rules-audit", action="store_true", help="skip the second audit with --rules config/rules.toml")
    c = sub.add_parser("compare", help="compare two dumps; exit 1 if anything differs")
    c.add_argument("dir_a")
    c.add_argument("dir_b")
    c.add_argument("--rtol", type=float, default=0.0, help="accept pickled results whose floats differ by at most this "
                                                            "relative tolerance (default 0: exact)")
    a = sub.add_parser("all", help="dump baseline and current code into OUT/before, OUT/after and compare")
    a.add_argument("--db", help="the database both trees read (not with --build)")
    a.add_argument("--out", required=True)
    a.add_argument("--build", action="store_true", help="build OUT/before.duckdb and OUT/after.duckdb (default demo) "
                                                        "with each tree; compare tables and figures")
    a.add_argument("--tables", action="store_true", help="dump the tables too (always with --build)")
    a.add_argument("--before-dump", help="an existing baseline dump to compare against (nothing of the baseline is "
                                         "built or dumped); with --build it must have been made with --tables on "
                                         "the baseline's default demo")
    a.add_argument("--no-rules-audit", action="store_true")
    a.add_argument("--baseline", default=str(BASELINE), help=f"baseline tree (default {BASELINE})")
    a.add_argument("--current", default=str(CURRENT), help=f"current tree (default {CURRENT})")
    b = sub.add_parser("build", help="build the default demo database with a tree's code, DuckDB on one thread")
    b.add_argument("--tree", required=True)
    b.add_argument("--db", required=True)
    args = p.parse_args(argv)
    if args.cmd == "build":
        sys.path.insert(0, str(Path(args.tree).resolve()))
        os.chdir(args.tree)
        _single_threaded_duckdb()
        from analysis.__main__ import main as analysis_main
        return analysis_main(["demo", "--db", str(Path(args.db).resolve()), "--quiet"])
    if args.cmd == "dump":
        return dump(Path(args.tree), Path(args.db), Path(args.out), args.tables, not args.no_rules_audit)
    if args.cmd == "compare":
        return compare(Path(args.dir_a), Path(args.dir_b), args.rtol)
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
