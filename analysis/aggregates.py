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
  was breached (Repayments: best time to reach; Balance: contacts and breaches per account).

After an import (`refresh(con, changed=...)`), the three tables of one row per breach, payment or
outbound contact are refreshed for the touched accounts only (analysis.incremental): each of their
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
          "payment_facts": "payment_facts_build", "outbound_facts": "outbound_facts_build"}
VERSION = "1"  # bumped when a table's definition changes (meta aggregates)
# The tables of one row per breach, payment or outbound contact, each row a function of its
# account's rows (and of the agents table, for breach_facts): refreshed per account after an import.
PER_ACCOUNT = ("breach_facts", "payment_facts", "outbound_facts")
# The tables those read, restricted to the touched accounts when refreshing them (agents is read whole).
READS = ("accounts", "contacts", "payments", "breaches")
# The contract tables whose touched accounts are refreshed: those of READS, and those whose rows
# change an account's breaches (the breaches step recomputes the same accounts).
TOUCHING = ("accounts", "contacts", "payments", "consents", "preferences")
# A full build of the PER_ACCOUNT tables computes this many accounts at a time (rebuild_per_account):
# its memory is that of a 100k-account book, whatever the book's size.
BATCH_ACCOUNTS = 100_000


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
    (an agent's team is on each of its breaches), the breaches step rebuilt in full this time (any
    account's breaches may have changed), or so many accounts that a full rebuild is cheaper."""
    if not (ready(con) and incremental.can_increment(con, "aggregates", changed)) or "agents" in changed.tables:
        return None
    breaches_now = (get_meta(con, incremental.meta_key("breaches")) == str(changed.import_id)
                    and get_meta(con, "derived_mode_breaches") == "incremental")
    if not breaches_now:
        return None
    accounts = changed.values("account_id", *TOUCHING)
    return None if incremental.too_many(con, len(accounts)) else accounts


def refresh(con, changed=None) -> None:
    """Pipeline step: rebuild `contact_daily` in full (one grouped scan of the contacts) and the
    PER_ACCOUNT tables in full (`rebuild_per_account`), or, after an import (`changed`,
    analysis.changes.Changes), for the accounts it touched (`touched_accounts`), in one transaction."""
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
        by_difference = old_contact_shares(cur, accounts, changed.previous)
        if not by_difference:
            create_table(con, "contact_daily", TABLES["contact_daily"])
        cur.execute("begin transaction")
        try:
            put_accounts(cur, accounts, replace=True)
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
            put_accounts(cur, ids[start:start + BATCH_ACCOUNTS], replace=False)
    finally:
        cur.close()


# contact_daily's group: every column but the three counts
DAILY_KEYS = ("day", "portfolio", "team", "strategy", "channel", "direction", "agent_id", "agent_team")
DAILY_COUNTS = ("contacts", "breaches", "breach_contacts")


def old_contact_shares(cur, accounts, previous: str | None) -> bool:
    """Put in temp table `_daily_old` (on `cur`) what `accounts` added to contact_daily before the
    import: the contact_daily query over their rows in the `previous` version's file (read-only).
    False, with nothing made, when there is no previous file to read.

    contact_daily adds up every account's contacts per group. The import replaced the touched
    accounts' rows and the breaches step theirs, so their old share is gone from this file; the
    version the import was copied from still holds it. Every other account's share is unchanged
    (its contacts, attributes and breaches; agents untouched, else the step is full)."""
    if not previous or not Path(previous).is_file():
        return False
    incremental.key_table(cur, "_refresh_accounts", "account_id", accounts)
    cur.execute("attach ? as _previous (read_only)", [previous])
    try:
        for table in ("accounts", "contacts", "breaches"):
            cur.execute(f"create or replace temp table {quote_ident(table)} as select * from _previous.main.{quote_ident(table)} "
                        "where account_id in (select account_id from _refresh_accounts)")
    finally:
        cur.execute("detach _previous")
    sql = sql_text(TABLES["contact_daily"])
    install_layer(cur, sql)
    cur.execute("create or replace temp table _daily_old as select * from (\n" + sql + "\n)", bind(sql, None))
    return True


def apply_contact_shares(cur) -> None:
    """contact_daily += the touched accounts' new share (the query over the temp tables put_accounts
    made) - their old share (`_daily_old`): the groups either touches are recomputed as stored +
    new - old and put in place of their rows; a group left with no contact is dropped, as a full
    build would not have it. Counts are integers: the result is exactly the full build's."""
    sql = sql_text(TABLES["contact_daily"])
    install_layer(cur, sql)
    cur.execute("create or replace temp table _daily_new as select * from (\n" + sql + "\n)", bind(sql, None))
    target = incremental.main_table(cur, "contact_daily")
    keys = ", ".join(quote_ident(k) for k in DAILY_KEYS)
    same = " and ".join("t." + quote_ident(k) + " is not distinct from d." + quote_ident(k) for k in DAILY_KEYS)
    negated = ", ".join("-" + quote_ident(c) + " as " + quote_ident(c) for c in DAILY_COUNTS)
    cur.execute(f"create or replace temp table _daily_groups as select distinct {keys} from "
                f"(select {keys} from _daily_new union all select {keys} from _daily_old)")
    sums = ", ".join("cast(sum(" + quote_ident(c) + ") as bigint) as " + quote_ident(c) for c in DAILY_COUNTS)
    cur.execute(f"""create or replace temp table _daily_merged as
        select {keys}, {sums} from (
            select t.* from {target} as t where exists (select 1 from _daily_groups as d where {same})
            union all by name select * from _daily_new
            union all by name select {keys}, {negated} from _daily_old
        )
        group by {keys}
        having sum(contacts) <> 0""")
    cur.execute(f"delete from {target} as t where exists (select 1 from _daily_groups as d where {same})")
    cur.execute(f"insert into {target} by name select * from _daily_merged order by {keys}")


def put_accounts(cur, accounts, replace: bool) -> None:
    """Insert the PER_ACCOUNT tables' rows of `accounts`, computed by the same queries over temp tables
    (on `cur`) holding those accounts' rows of READS; with `replace`, their old rows are deleted first."""
    incremental.key_table(cur, "_refresh_accounts", "account_id", accounts)
    for table in READS:
        incremental.shadow(cur, table, "account_id", "_refresh_accounts")
    for name in PER_ACCOUNT:
        target = incremental.main_table(cur, name)
        sql = sql_text(TABLES[name])
        install_layer(cur, sql)
        if replace:
            cur.execute("delete from " + target + " where account_id in (select account_id from _refresh_accounts)")
        cur.execute("insert into " + target + " by name select * from (\n" + sql + "\n)", bind(sql, None))
