"""The contact-rule engine: every (contact, rule) breach of a rule set, with its evidence.

Each rule kind is one parametrised, set-based query in `queries/rule_<kind>.sql`; a rule is that
query run with the rule's parameters (bound, never interpolated). Preparation queries run once
per audit: `breach_accounts` (accounts with integer keys: every later join goes by integers),
`breach_contacts` (every contact with its local wall times) and `breach_counted` (the counted
contacts, one temp table per distinct counting definition), so the seven default rules convert
time zones and apply consent windows once. The rule queries then run as one statement
(`union_query`), sorted in output order. `find_breaches` returns the breaches as a DataFrame;
`refresh` (a pipeline step) stores them in the table `breaches` so the read-only dashboard can
show them, with the rule set that produced them in meta `rule_set`.

Breaches are *presumed* breaches for a reviewer, not legal findings. The definitions are SPEC
section 2; DECISIONS.md "Contact rules" records the choices that are easy to get wrong.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from analysis import incremental
from analysis.compliance.rules import (
    CooldownAfterEvent,
    OptOut,
    QuietHours,
    Rule,
    RuleSet,
    WindowedCap,
    load_rules,
)
from analysis.db import create_table, get_meta, install_macro, quote_ident, rows, set_meta
from analysis.schema import derived_ddl

if TYPE_CHECKING:  # pandas is imported where a frame is made: the audit command needs none (1 s less)
    import pandas as pd

COLUMNS = ["contact_id", "account_id", "rule_id", "ts", "local_ts", "evidence", "explanation"]
QUERY = {
    "windowed_cap": "rule_windowed_cap",
    "cooldown_after_event": "rule_cooldown_after_event",
    "quiet_hours": "rule_quiet_hours",
    "opt_out": "rule_opt_out",
}


def _noun(channels: tuple[str, ...]) -> str:
    return channels[0] if len(channels) == 1 else "contact"


def counting_params(p: WindowedCap | CooldownAfterEvent) -> dict:
    """Parameters of `breach_counted`: which contacts are counted (shared by rules 1, 2, 6, 7)."""
    return {
        "channels": list(p.channels),
        "directions": list(p.directions),
        "outcomes_excluded": list(p.outcomes_excluded),
        "consent_exclusion": p.consent_exclusion,
        "consent_window_days": p.consent_window_days,
    }


def _counting_key(p) -> tuple:
    return (p.channels, p.directions, p.outcomes_excluded, p.consent_exclusion, p.consent_window_days)


def windowed_cap_params(rules: list[Rule]) -> dict:
    """Bound parameters of `rule_windowed_cap` for rules that count the same contacts over the
    same window (the window counts are computed once for all of them)."""
    first = rules[0].params
    members = [{"rule_id": r.rule_id, "cap": r.params.cap, **r.params.accounts.params()} for r in rules]
    return {"window_days": first.window_days, "noun": _noun(first.channels), "rules": members}


def rule_params(rule: Rule) -> dict:
    """The bound parameters of the kind query of one rule (other than windowed_cap)."""
    p = rule.params
    params = {"rule_id": rule.rule_id, **p.accounts.params()}
    if isinstance(p, CooldownAfterEvent):
        ev = p.event
        params.update(
            window_days=p.window_days,
            noun=_noun(p.channels),
            event_channels=list(ev.channels),
            event_directions=list(ev.directions),
            event_outcomes=list(ev.outcomes),
            event_noun=("telephone conversation" if set(ev.channels) == {"call"} and set(ev.outcomes) == {"conversation"}
                        else "event"),
        )
    elif isinstance(p, QuietHours):
        params.update(
            channels=list(p.channels),
            directions=list(p.directions),
            start=p.start,
            end=p.end,
            zones=list(p.zones),
            reply_exemption_hours=p.reply_exemption_hours,
        )
    elif isinstance(p, OptOut):
        params.update(scope=p.scope, channels=list(p.channels), directions=list(p.directions))
    else:
        raise TypeError(f"rule {rule.rule_id}: kind {rule.kind} runs in groups (windowed_cap_params)")
    return params


def plan(rules: RuleSet) -> list[tuple[dict | None, str, dict]]:
    """The queries to run: (counting parameters or None, query stem, parameters).

    Rules that count contacts (windowed_cap, cooldown_after_event) are grouped by their counting
    parameters, so `breach_counted` is built once per group; windowed_cap rules that also share the
    window run as one query. Other rules run on their own.
    """
    counting_groups: dict[tuple, list[Rule]] = {}
    others = []
    for rule in rules.rules:
        if rule.kind in ("windowed_cap", "cooldown_after_event"):
            counting_groups.setdefault(_counting_key(rule.params), []).append(rule)
        else:
            others.append(rule)
    steps = []
    for group in counting_groups.values():
        counting = counting_params(group[0].params)
        windows: dict[int, list[Rule]] = {}
        for rule in group:
            if rule.kind == "windowed_cap":
                windows.setdefault(rule.params.window_days, []).append(rule)
            else:
                steps.append((counting, QUERY[rule.kind], rule_params(rule)))
        for members in windows.values():
            steps.append((counting, "rule_windowed_cap", windowed_cap_params(members)))
    steps += [(None, QUERY[rule.kind], rule_params(rule)) for rule in others]
    return steps


def union_query(queries: list[tuple[str, dict, str | None]], columns: list[str] = COLUMNS,
                ordered: bool = True) -> tuple[str, dict]:
    """One statement for all rule queries: their breaches (or other `columns`: the contact plan's
    bounds, analysis.plan.headroom), union all, in output order (unless not `ordered`).

    `queries` holds (query stem, its parameters, the temp table of its counted contacts or None).
    Each rule query file is a table macro (`-- Macro: rule_<kind>(p_...)`, installed on the cursor by
    `find_breaches`); the statement calls each one with its arguments bound as `$q<i>_<name>`, so
    queries that bind the same name to different values share one statement, and a counting query
    reads its group's counted-contacts table (`p_counted`, a table name passed as a value).
    """
    parts, bound = [], {}
    for i, (stem, params, counted) in enumerate(queries):
        args = {**({"counted": counted} if counted is not None else {}), **params}
        call = ", ".join(f"{quote_ident('p_' + name)} := $q{i}_{name}" for name in args)
        bound.update({f"q{i}_{name}": value for name, value in args.items()})
        parts.append(f"select {', '.join(map(quote_ident, columns))} from {quote_ident(stem)}({call})")
    union = "select * from (\n" + "\nunion all\n".join(parts) + "\n)"
    return (union + "\norder by ts, contact_id, rule_id" if ordered else union), bound


def empty_breaches() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "contact_id": pd.Series([], dtype="str"),
        "account_id": pd.Series([], dtype="str"),
        "rule_id": pd.Series([], dtype="str"),
        "ts": pd.Series([], dtype="datetime64[us, UTC]"),
        "local_ts": pd.Series([], dtype="datetime64[us]"),
        "evidence": pd.Series([], dtype="str"),
        "explanation": pd.Series([], dtype="str"),
    })


def find_breaches(con, rules: RuleSet | None = None) -> pd.DataFrame:
    """All breaches of `rules` (default: config/rules.toml) in the database.

    Columns: contact_id, account_id, rule_id, ts (tz-aware UTC), local_ts (the account's wall
    time, naive), evidence (JSON text), explanation (one sentence); sorted by ts, contact_id,
    rule_id. Works on a read-only connection: all it writes are temporary tables of the cursor
    it opens (`breach_accounts`: accounts with integer keys; `breach_zone_days`: UTC offsets per
    zone and day; `breach_contacts`: contacts with their local times; `breach_counted_<n>`: the
    counted contacts of the rules that count, one per counting definition), dropped before it
    returns. It changes no setting of the database instance (`preserve_insertion_order` is
    global to it: see DECISIONS.md).
    """
    rules = load_rules() if rules is None else rules
    if not rules.rules:
        return empty_breaches()
    cur = con.cursor()
    try:
        query, params, temps = breach_statement(cur, rules)
        # One statement sorted and handed over through Arrow: cheaper than inserting each rule's
        # breaches into a temp table and sorting that (see DECISIONS.md "Audit speed").
        out = cur.sql(query, params=params).to_arrow_table().to_pandas()
        for table in temps:
            cur.execute(f"drop table if exists {quote_ident(table)}")
    finally:
        cur.close()
    if not len(out):
        return empty_breaches()
    out["ts"] = out["ts"].dt.tz_convert("UTC")
    return out


def breach_statement(cur, rules: RuleSet) -> tuple[str, dict, list[str]]:
    """Prepare the audit of `rules` (at least one) on the cursor `cur`: its temporary tables (see
    `find_breaches`) and the rule macros. Returns the one statement that lists the breaches in output
    order (COLUMNS), its parameters, and the temporary tables it made (for the caller to drop).
    The preparation reads `accounts`, `contacts`, `consents` and `preferences` by those names, so on a
    cursor where they name temporary tables it sees only those tables' rows (the incremental refresh)."""
    cur.execute("set TimeZone = 'UTC'")
    # The zone offsets per UTC day are a table of their own so that the join to them builds its
    # hash on these few rows (as a CTE its size is misjudged and the hash is built on contacts).
    for stem in ("breach_zone_days", "breach_accounts", "breach_contacts"):
        create_table(cur, stem, stem, temp=True)
    counted_tables: list[str] = []  # plan() lists the steps of one counting group together
    queries = []
    built = None
    for counting, stem, params in plan(rules):
        if counting is not None and counting != built:
            counted_tables.append(f"breach_counted_{len(counted_tables) + 1}")
            create_table(cur, counted_tables[-1], "breach_counted", counting, temp=True)
            built = counting
        queries.append((stem, params, counted_tables[-1] if counting is not None else None))
    for stem in dict.fromkeys(stem for stem, _, _ in queries):  # each rule kind's macro, once
        install_macro(cur, stem)
    query, params = union_query(queries)
    return query, params, [*counted_tables, "breach_contacts", "breach_zone_days", "breach_accounts"]


BREACHES_DDL = derived_ddl("breaches", replace=True)
RULES_DDL = derived_ddl("breach_rules", replace=True)
# The contract's tables the rules read, all by account (account_id).
ACCOUNT_TABLES = ("accounts", "contacts", "consents", "preferences")


def refresh(con, rules: RuleSet | None = None, changed=None) -> int:
    """Recompute the table `breaches` (and `breach_rules`, meta `rule_set`) in one transaction.

    `changed` (analysis.changes.Changes of the import just made): recompute only the breaches of the
    accounts whose accounts, contacts, consents or preferences rows that import touched, when the
    stored breaches are a full rebuild of the data before it under the same rule set
    (analysis.incremental); otherwise, or with `changed` None, rebuild in full. Every rule is a
    condition on one account's rows, so an account's breaches depend on its rows only.
    The breaches go from the audit's statement straight into the table (no DataFrame in between).
    Returns the number of breaches stored.
    """
    rules = load_rules() if rules is None else rules
    accounts = None
    if incremental.can_increment(con, "breaches", changed) and get_meta(con, "rule_set_sha256") == rules.sha256:
        touched = changed.values("account_id", *ACCOUNT_TABLES)
        if not incremental.too_many(con, len(touched)):
            accounts = touched
    rule_rows = [(r.rule_id, r.kind, r.title, r.citation, r.text, json.dumps(r.as_dict()["params"], sort_keys=True))
                 for r in rules.rules]
    cols = ", ".join(map(quote_ident, COLUMNS))
    cur = con.cursor()
    try:
        target = incremental.main_table(cur, "breaches")
        if accounts is not None:
            incremental.key_table(cur, "_refresh_accounts", "account_id", accounts)
            for table in ACCOUNT_TABLES:
                incremental.shadow(cur, table, "account_id", "_refresh_accounts")
        statement = breach_statement(cur, rules) if rules.rules else None
        cur.execute("begin transaction")
        try:
            if accounts is None:
                cur.execute(BREACHES_DDL)
            else:
                cur.execute("delete from " + target + " where account_id in (select account_id from _refresh_accounts)")
            if statement is not None:
                query, params, _ = statement
                cur.execute("insert into " + target + " (" + cols + ") select " + cols + " from (\n" + query + "\n)", params)
            if accounts is None:
                cur.execute(RULES_DDL)
                if rule_rows:
                    cur.executemany("insert into breach_rules values (?, ?, ?, ?, ?, ?)", rule_rows)
                set_meta(cur, "rule_set", rules.label)
                set_meta(cur, "rule_set_sha256", rules.sha256)
            incremental.mark(cur, "breaches", "full" if accounts is None else "incremental")
            cur.execute("commit")
        except BaseException:
            cur.execute("rollback")
            raise
        return rows(cur, "select count(*) from " + target)[0][0]
    finally:
        cur.close()
