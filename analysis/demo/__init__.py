"""`python -m analysis demo`: build the synthetic demo database.

Every table of the import contract (SPEC section 1), from `numpy.random.default_rng(seed)` only,
vectorised per chunk of accounts (no Python loop per contact), loaded through DuckDB from pandas.
The story it tells: a *challenger* strategy that calls more than the *champion*, collects
somewhat more, breaches the contact rules (SPEC section 2) more often, draws more complaints and
lower NPS. Time is fixed (the data ends on 2026-10-31), never read from the wall clock.

One generator per table family, each a function with its own inputs, in the order they draw:
`agents`, then per chunk `accounts`, `consents` (and preferences), `contacts`, `conversations`
(and turns), `payments` (promises and payments), `surveys`, `complaints`; `world` holds what they
share. The generators simulate behaviour; they do not decide which contacts are breaches. The
dialer they simulate reads the contact rules from the rule configuration (`dialer`), and the rule
engine finds the breaches in the finished tables (`pipeline.refresh` runs the audit).

The database is written to `<db>.tmp` next to the target and renamed into place at the end, so a
failed build leaves nothing half-written.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from analysis.demo.accounts import make_accounts
from analysis.demo.agents import Agents, make_agents
from analysis.demo.complaints import make_complaints
from analysis.demo.consents import make_consents_and_preferences
from analysis.demo.contacts import make_contacts
from analysis.demo.conversations import make_conversations
from analysis.demo.dialer import Dialer
from analysis.demo.payments import make_promises_and_payments
from analysis.demo.surveys import make_surveys
from analysis.demo.world import Fragments, Loader, fragments
from analysis.errors import UserError

CHUNK_ACCOUNTS = 25_000
# DuckDB's memory limit for the build (MB): with Python's own chunk (~0.5 GB) and the derived steps'
# Python side, a 1M-account build stays well under 8 GB (measured: docs/measurements.md).
DUCKDB_MEMORY_MB = 3072
# ... but for the contact plan, the build's last step: at 1M accounts (2.6M rows, a window and a sort over
# all of them) it sat at the edge of 3 GB (out of memory in each of 3 runs after training, measured
# 2026-12-07), so it gets half as much again; the build's peak is the generation's or the plan's.
PLAN_MEMORY_MB = 4608


def _chunk(rng, loader: Loader, frag: Fragments, agents: Agents, dialer: Dialer, first: int, n: int) -> None:
    """Accounts `first` to `first + n - 1` and everything that happens to them."""
    accounts = make_accounts(rng, loader, first, n, segment_states=dialer.tight_states)
    prefs = make_consents_and_preferences(rng, loader, accounts)
    contacts = make_contacts(rng, loader, accounts, prefs, agents, dialer)
    conv = make_conversations(rng, loader, frag, accounts, contacts, agents)
    make_promises_and_payments(rng, loader, accounts, conv)
    make_surveys(rng, loader, frag, accounts, conv)
    make_complaints(rng, loader, frag, accounts, contacts)


def _generate(con, accounts: int, seed: int, progress: bool) -> Loader:
    """Fill the contract's tables: agents from `default_rng([seed, 0])`, the k-th chunk of
    accounts from `default_rng([seed, 1 + k])`."""
    from analysis.compliance.rules import load_rules

    dialer = Dialer.from_rules(load_rules())
    loader = Loader(con)
    frag = fragments()
    cur = con.cursor()
    cur.register("frag_df", frag.frame())
    cur.execute("create table demo_fragments as select * from frag_df")
    cur.unregister("frag_df")
    cur.close()
    agents = make_agents(np.random.default_rng([seed, 0]), loader, accounts)
    bar = _progress(accounts, progress)
    for chunk_no, first in enumerate(range(0, accounts, CHUNK_ACCOUNTS)):
        n = min(CHUNK_ACCOUNTS, accounts - first)
        _chunk(np.random.default_rng([seed, 1 + chunk_no]), loader, frag, agents, dialer, first, n)
        bar.update(n)
    bar.close()
    con.execute("drop table demo_fragments")
    return loader


def build(path, accounts: int = 20000, seed: int = 42, progress: bool = True, sentiment_model: str | None = None) -> dict:
    """Build the demo database at `path` (replacing it). Returns row counts per table.
    `sentiment_model`: the model that scores its texts (None: the configured one)."""
    from analysis import store
    from analysis.db import query_rows, quote_ident, set_meta
    from analysis.pipeline import refresh
    from analysis.schema import TABLES, create_schema

    if accounts < 10:
        raise UserError(f"--accounts {accounts} is too small: use at least 10")
    t0 = time.perf_counter()
    # A new version of the database (analysis.store), published whole when the build ends: a
    # dashboard reading the old one keeps it until its next run, and a failed build changes nothing.
    with store.writing(path, fresh=True) as con:
        # Peak memory flat in the number of accounts: the tables are generated and appended a chunk
        # at a time, and DuckDB (its buffer pool, the key indexes, the derived steps' sorts and
        # joins) is capped at DUCKDB_MEMORY_MB (or half the memory if less), spilling to disk past it.
        _memory_limit(con, DUCKDB_MEMORY_MB)
        create_schema(con)
        loader = _generate(con, accounts, seed, progress)
        # The importer's definition of freshness (newest event of any table), so both agree.
        set_meta(con, "data_as_of", query_rows(con, "ingest_data_as_of")[0][0])
        set_meta(con, "demo_seed", str(seed))
        set_meta(con, "demo_accounts", str(accounts))
        set_meta(con, "source", "demo")
        if progress:
            print(f"  loaded {loader.counters['contact']:,} contacts for {accounts:,} accounts in {time.perf_counter() - t0:.1f}s",
                  file=sys.stderr)
        refresh(con, progress=progress, sentiment_model=sentiment_model)
        _propensity(con, progress)
        counts = {name: con.cursor().execute(f"select count(*) from {quote_ident(name)}").fetchall()[0][0] for name in TABLES}
    if progress:
        print(f"  demo database {path} built in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return counts


def _propensity(con, progress: bool) -> None:
    """Train the propensity-to-pay model on the demo and score its open accounts (the Contact plan page
    needs them); a demo too small to learn from is left without a model."""
    import duckdb

    from analysis.plan.build import refresh as store_plan
    from analysis.propensity.cli import train_and_store

    t0 = time.perf_counter()
    try:
        model, scores = train_and_store(con, score_too=True)
    except UserError as exc:
        if progress:
            print(f"  no propensity model: {exc}", file=sys.stderr)
        return
    except duckdb.OutOfMemoryException:
        # A 1M-account book's features do not fit the build's memory limit (measured 2026-12-07): the demo is
        # built without a model, as before issue 24, and the command trains one without that limit.
        print("  no propensity model: the book's features do not fit the demo build's memory limit; train one with "
              "`python -m analysis propensity train --db FILE`", file=sys.stderr)
        return
    if progress:
        print(f"  propensity model {model.model_id} (out-of-time AUC {model.evaluation['auc']:.3f}) trained, "
              f"{len(scores):,} accounts scored in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    t0 = time.perf_counter()
    _memory_limit(con, PLAN_MEMORY_MB)
    try:
        planned = store_plan(con)
    except duckdb.OutOfMemoryException:
        # The model and its scores are kept; the Contact plan page then plans on its own (slowly at this size).
        print("  no stored contact plan: the plan does not fit the demo build's memory limit; store one with "
              "`python -m analysis propensity score --db FILE`", file=sys.stderr)
        return
    finally:
        _memory_limit(con, DUCKDB_MEMORY_MB)  # the build's again
    if progress:
        print(f"  contact plan ({planned:,} rows) stored in {time.perf_counter() - t0:.1f}s", file=sys.stderr)


def _memory_limit(con, mb: int) -> None:
    """DuckDB's memory limit: `mb`, or half the machine's memory if less."""
    con.execute("set memory_limit = ?", [f"{min(mb, _half_memory_mb())}MB"])


def _half_memory_mb() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**21)
    except (ValueError, OSError, AttributeError):
        return 4096


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="acct", desc="demo accounts", file=sys.stderr, disable=not enabled, leave=False)


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file to write (replaced if it exists)")
    parser.add_argument("--accounts", type=int, default=20000, help="number of accounts (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--sentiment-model", choices=("transformer", "vader"), default=None,
                        help="the model that scores the texts (default: config/sentiment.toml's; `make run`'s "
                             "first build uses vader, then rescores with the configured model in the background)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    if args.seed < 0:
        raise UserError(f"--seed {args.seed} is negative: use a seed of 0 or more")
    counts = build(args.db, accounts=args.accounts, seed=args.seed, progress=not args.quiet, sentiment_model=args.sentiment_model)
    print(", ".join(f"{name} {n:,}" for name, n in counts.items()))
    return 0
