"""Pipeline step "aggregates": tables at the grain the dashboard's filters need, so a page reads
thousands of rows where it read millions.

The sidebar filters by UTC date, by the account's portfolio, team and strategy, and by channel.
Each table here keeps those as columns, is ordered by day (DuckDB's zone maps then skip the row
groups outside a date range) and is rebuilt in full from the contract's tables and the derived
`breaches` after every import (analysis/pipeline.py STEPS, after "breaches"):

- `contact_daily`: contacts counted per day x portfolio x team x strategy x channel x direction x
  agent, with the breaches on them (Compliance: placed calls, worst offenders);
- `breach_facts`: each breach with its contact's and account's attributes (Compliance: counts, trend,
  the list), no join with the contacts at read time;
- `payment_facts`: each payment with the channel of the account's last contact before it (Repayments:
  collections by channel of last contact), the as-of join made once;
- `outbound_facts`: each outbound contact with its account's filter attributes, local weekday and
  hour, whether it reached the right party (the as-of join to the replies made once) and whether it
  was breached, and the day of the account's previous contact (and reaching contact) on the channel
  (Repayments: best time to reach, accounts counted without a distinct; Balance: contacts and breaches per account);
- `promise_facts`: each promise with its account's filter attributes, its team and what the account
  paid in its window (Repayments: promises kept, broken promises), the range join made once.

After an import (`refresh(con, changed=...)`), the four tables of one row per breach, payment,
outbound contact or promise are refreshed for the touched accounts only (analysis.incremental): each of their
rows depends on its account's rows alone (the as-of joins match within the account), so deleting the
touched accounts' rows and inserting them again, computed by the same query over those accounts'
rows, gives the full rebuild's rows. `contact_daily` adds up every account's contacts per group: it
is refreshed by difference (stored + the touched accounts' new share - their old share) when the
import came through analysis.store, whose previous version still holds their old rows
(`changed.previous`), and rebuilt in full otherwise (DECISIONS.md).

A reader uses them only when `ready` (this step has run with this definition, meta `aggregates`);
otherwise, on a database built before the step existed or a hand-made one, it runs the query over
the contract's tables, which gives the same rows (tests/test_aggregates.py).

Every figure read from these is the one the query over the contract's tables gives:
benchmarks/compare_figures.py proves it on a database.
"""
from __future__ import annotations

from pathlib import Path

from analysis import incremental
from analysis.db import bind, create_table, get_meta, install_layer, quote_ident, rows, set_meta, sql_text

TABLES = {"contact_daily": "contact_daily_build", "breach_facts": "breach_facts_build",
          "payment_facts": "payment_facts_build", "outbound_facts": "outbound_facts_build",
          "promise_facts": "promise_facts_build"}
VERSION = "3"  # bumped when a table's definition changes (meta aggregates); 3: balance_months
# The tables of one row per breach, payment, outbound contact or promise, each row a function of its
# account's rows (and of the agents table, for breach_facts and promise_facts): refreshed per account after an import.
PER_ACCOUNT = ("breach_facts", "payment_facts", "outbound_facts", "promise_facts")
# The tables those read, restricted to the touched accounts when refreshing them (agents is read whole).
READS = ("accounts", "contacts", "payments", "breaches", "promises")
# The contract tables whose touched accounts are refreshed: those of READS, and those whose rows
# change an account's breaches (the breaches step recomputes the same accounts).
TOUCHING = ("accounts", "contacts", "payments", "consents", "preferences", "promises")
# A full build of the PER_ACCOUNT tables computes this many accounts at a time (rebuild_per_account):
# its memory is that of a 100k-account book, whatever the book's size.
BATCH_ACCOUNTS = 100_000
# The Balance page's sums per account and UTC month (issue 20, stop 33): a per-account table like those
# above, which also reads the account's complaints, survey responses and conversation labels, so the
# accounts an import touched there are refreshed too (and those of its conversations: `conversation_accounts`).
TABLES["balance_months"] = "balance_months_build"
PER_ACCOUNT += ("balance_months",)
READS += ("complaints", "surveys")
TOUCHING += ("complaints", "surveys")
# Read by balance_months alone, for 3 of its 18 columns: the touched accounts' copy holds those only (a copy
# of every column took 5x as long at 200k accounts, measured: docs/measurements.md "H1: Balance").
NARROW_READS = {"conversation_sentiment": ("account_id", "started_at", "label")}


def ready(con) -> bool:
    """True when this step has built the tables, with this definition, in this database."""
    return get_meta(con, "aggregates") == VERSION


def stem(con, name: str) -> str:
    """The query file to run: `name`_agg (reading the aggregate tables) when they are ready, else `name`."""
    return f"{name}_agg" if ready(con) else name


def touched_accounts(con, changed) -> frozenset[str] | None:
    """The accounts whose rows of the PER_ACCOUNT tables to recompute after the import `changed`
    names, or None when those tables must be rebuilt in full: no import named, the tables are not a
    full rebuild of the data just before it (or of another definition), the import touched the agents
    (an agent's team is on each of its breaches), the breaches or conversations step rebuilt in full this
    time (any account's breaches or conversation labels may have changed), or so many accounts that a
    full rebuild is cheaper."""
    if not (ready(con) and incremental.can_increment(con, "aggregates", changed)) or "agents" in changed.tables:
        return None
    if not all(get_meta(con, incremental.meta_key(step)) == str(changed.import_id)
               and get_meta(con, f"derived_mode_{step}") == "incremental" for step in ("breaches", "conversations")):
        return None
    accounts = changed.values("account_id", *TOUCHING) | conversation_accounts(con, changed)
    return None if incremental.too_many(con, len(accounts)) else accounts


def conversation_accounts(con, changed) -> frozenset[str]:
    """The accounts whose conversation_sentiment rows the import `changed` may have changed (balance_months
    counts their labels): those of the conversations it added or replaced (before and after) and of the
    conversations whose turns it touched (a turn changes its conversation's label)."""
    ids = changed.values("conversation_id", "turns") - changed.values("conversation_id", "conversations")
    found = rows(con, "select distinct account_id from conversations where conversation_id in (select unnest($ids))",
                 {"ids": sorted(ids)}) if ids else []
    return changed.values("account_id", "conversations") | {r[0] for r in found}


def refresh(con, changed=None) -> None:
    """Pipeline step: rebuild `contact_daily` in full (one grouped scan of the contacts) and the
    PER_ACCOUNT tables in full (`rebuild_per_account`), or, after an import (`changed`,
    analysis.changes.Changes), for the accounts it touched (`touched_accounts`), in one transaction:
    contact_daily by difference when the version before the import is there to read (else in full)."""
    accounts = touched_accounts(con, changed)
    if accounts is None:
        create_table(con, "contact_daily", TABLES["contact_daily"])
        set_meta(con, "contact_daily_mode", "full")
        rebuild_per_account(con)
        set_meta(con, "aggregates", VERSION)
        incremental.mark(con, "aggregates", "full")
        return
    cur = con.cursor()
    try:
        incremental.key_table(cur, "_refresh_accounts", "account_id", accounts)
        by_difference = bool(changed.previous) and Path(changed.previous).is_file()
        if by_difference:
            old_contact_share(cur, changed.previous)
        else:
            create_table(con, "contact_daily", TABLES["contact_daily"])
        cur.execute("begin transaction")
        try:
            put_accounts(cur, replace=True)
            if by_difference:
                apply_contact_shares(cur)
            set_meta(cur, "contact_daily_mode", "difference" if by_difference else "full")
            incremental.mark(cur, "aggregates", "incremental")
            cur.execute("commit")
        except BaseException:
            cur.execute("rollback")
            raise
    finally:
        cur.close()


def rebuild_per_account(con) -> None:
    """The PER_ACCOUNT tables in full, BATCH_ACCOUNTS accounts at a time (in account_id order).

    In one statement each, at 1M accounts (~45M outbound contacts) the as-of join and the sort by day
    ran out of DuckDB's memory under the demo's 3 GB cap, on two threads and on one. A batch's rows
    are the same as the whole table's for those accounts (each row is a function of its account's
    rows), so the batches together give the same rows; each batch is inserted ordered by day, so a
    date filter still skips most row groups (a range is found in each batch's run of days)."""
    ids = [r[0] for r in rows(con, "select account_id from accounts order by account_id")]
    cur = con.cursor()
    try:
        for name in PER_ACCOUNT:
            sql = sql_text(TABLES[name])
            install_layer(cur, sql)
            target = incremental.main_table(cur, name)
            cur.execute("create or replace table " + target + " as select * from (\n" + sql + "\n) limit 0", bind(sql, None))
        for start in range(0, len(ids), BATCH_ACCOUNTS):
            incremental.key_table(cur, "_refresh_accounts", "account_id", ids[start:start + BATCH_ACCOUNTS])
            put_accounts(cur, replace=False)
    finally:
        cur.close()


def put_accounts(cur, replace: bool) -> None:
    """Insert the PER_ACCOUNT tables' rows of the accounts in temp table `_refresh_accounts` (on `cur`),
    computed by the same queries over temp tables holding those accounts' rows of READS; with
    `replace`, their old rows are deleted first."""
    for table in READS:
        incremental.shadow(cur, table, "account_id", "_refresh_accounts")
    for table, columns in NARROW_READS.items():
        narrow_shadow(cur, table, columns)
    for name in PER_ACCOUNT:
        target = incremental.main_table(cur, name)
        sql = sql_text(TABLES[name])
        install_layer(cur, sql)
        if replace:
            cur.execute("delete from " + target + " where account_id in (select account_id from _refresh_accounts)")
        cur.execute("insert into " + target + " by name select * from (\n" + sql + "\n)", bind(sql, None))


def narrow_shadow(cur, table: str, columns: tuple[str, ...]) -> None:
    """A temporary table `table` on `cur`: the `columns` of the database's table, for the accounts of
    `_refresh_accounts` (incremental.shadow, narrowed to the columns the PER_ACCOUNT queries read)."""
    cur.execute("create or replace temp table " + quote_ident(table) + " as select "
                + ", ".join(quote_ident(c) for c in columns) + " from " + incremental.main_table(cur, table)
                + " where account_id in (select account_id from _refresh_accounts)")


def old_contact_share(cur, previous: str) -> None:
    """Temp table `_daily_old` (on `cur`): what the accounts of `_refresh_accounts` added to
    contact_daily before the import, i.e. the contact_daily query over their rows in the `previous`
    version's file (attached read-only; outside a transaction, where it could not be detached).

    contact_daily adds up every account's contacts per group. The import replaced the touched
    accounts' rows and the breaches step theirs, so their old share is gone from this file; the
    version the import was copied from still holds it. Every other account's share is unchanged
    (its contacts, attributes and breaches; agents untouched, else the step is full)."""
    cur.execute("attach ? as _previous (read_only)", [previous])
    try:
        for table in ("accounts", "contacts", "breaches"):
            incremental.shadow(cur, table, "account_id", "_refresh_accounts", database="_previous")
    finally:
        cur.execute("detach _previous")
    create_table(cur, "_daily_old", TABLES["contact_daily"], temp=True)


# contact_daily after an import, by difference: the touched accounts' new share - their old share, per
# group, kept where a count changes (`_daily_delta`: most of their contacts are old ones, in the same
# groups with the same counts before and after, and cancel out); each of those groups recomputed as
# stored + change (a group left with no contact is dropped, as a full build would not have it), then
# put in place of its stored row. Nullable keys match with `is not distinct from`; day is never null,
# and its equality lets DuckDB skip the row groups of other days (contact_daily is stored in day
# order). Counts are integers, so the result is exactly the full build's.
DAILY_DELTA = """
create or replace temp table _daily_delta as
select
    day, portfolio, team, strategy, channel, direction, agent_id, agent_team,
    sum(contacts) as contacts,
    sum(breaches) as breaches,
    sum(breach_contacts) as breach_contacts
from (
    select * from _daily_new
    union all by name
    select
        day, portfolio, team, strategy, channel, direction, agent_id, agent_team,
        -contacts as contacts, -breaches as breaches, -breach_contacts as breach_contacts
    from _daily_old
)
group by day, portfolio, team, strategy, channel, direction, agent_id, agent_team
having sum(contacts) <> 0 or sum(breaches) <> 0 or sum(breach_contacts) <> 0"""
DAILY_GROUP_MATCH = """
    t.day = d.day and t.portfolio is not distinct from d.portfolio and t.team is not distinct from d.team
    and t.strategy is not distinct from d.strategy and t.channel is not distinct from d.channel
    and t.direction is not distinct from d.direction and t.agent_id is not distinct from d.agent_id
    and t.agent_team is not distinct from d.agent_team"""
DAILY_MERGED = """
create or replace temp table _daily_merged as
select
    day, portfolio, team, strategy, channel, direction, agent_id, agent_team,
    cast(sum(contacts) as bigint) as contacts,
    cast(sum(breaches) as bigint) as breaches,
    cast(sum(breach_contacts) as bigint) as breach_contacts
from (
    select t.* from contact_daily as t where exists (select 1 from _daily_delta as d where""" + DAILY_GROUP_MATCH + """)
    union all by name
    select * from _daily_delta
)
group by day, portfolio, team, strategy, channel, direction, agent_id, agent_team
having sum(contacts) <> 0"""
DAILY_DELETE = "delete from contact_daily as t where exists (select 1 from _daily_delta as d where" + DAILY_GROUP_MATCH + ")"
DAILY_INSERT = ("insert into contact_daily by name select * from _daily_merged "
                "order by day, portfolio, team, strategy, channel, direction, agent_id")


def apply_contact_shares(cur) -> None:
    """contact_daily += the touched accounts' new share (the query over the temp tables put_accounts
    made) - their old share (`_daily_old`), group by group (the statements above)."""
    create_table(cur, "_daily_new", TABLES["contact_daily"], temp=True)
    for statement in (DAILY_DELTA, DAILY_MERGED, DAILY_DELETE, DAILY_INSERT):
        cur.execute(statement)
