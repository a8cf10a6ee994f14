"""Contact headroom: for each account and channel, the part of a local date in which one more
outbound contact breaches no active rule (SPEC section 4, `plan`: contact_from / contact_until).

Every rule kind bounds that part in its own way, and each bound is one query over a thin slice of
the data around the date (`queries/plan_bound_<kind>.sql`):

- windowed_cap: the new contact is counted, so it must come before the cap-th counted contact dated in
  the window (at the start of the date that is "calls left"; contacts already made that day end
  the window early);
- cooldown_after_event: an event (a telephone conversation) dated in the cooldown ends the window at
  its instant (the date is blocked when the event came before it);
- quiet_hours: the allowed wall-clock span in the account's zone, cut by the phone zone's;
- opt_out: an opt-out (or a cease request, scope `all`) ends the window at its instant.

The window is the intersection of the bounds with the date, in whole seconds, both ends allowed.
The new contact is taken to be counted (a counted call, for calls), never a reply that the quiet
hours' reply exemption would excuse and never inside a consent window: the plan claims no exception.
Ties are taken against it: an earlier contact at the same instant counts, whatever the ids.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from analysis.compliance.engine import counting_params, rule_params, union_query
from analysis.compliance.rules import CooldownAfterEvent, OptOut, QuietHours, Rule, RuleSet, WindowedCap, load_rules
from analysis.db import create_table, install_macro
from analysis.plan import PLAN_CHANNELS

if TYPE_CHECKING:
    import pandas as pd

BOUND_COLUMNS = ["account_key", "channel", "rule_id", "lo", "hi", "left_at_start", "cooldown_ends"]
# The outcome a planned contact on a channel other than a call is recorded with (SPEC section 1's default).
NEW_OUTCOME = "sent"


def new_channels(rule: Rule, channels: tuple[str, ...]) -> list[str]:
    """The channels among `channels` on which one more outbound contact falls under `rule`: the rule
    covers the channel and outbound contacts, and (for the kinds that count) counts it: a call is
    counted (the plan's contract), another channel's contact is counted unless its outcome `sent` is
    excluded."""
    p = rule.params
    if "outbound" not in p.directions:
        return []
    out = [c for c in channels if c in p.channels]
    if isinstance(p, (WindowedCap, CooldownAfterEvent)):
        out = [c for c in out if c == "call" or NEW_OUTCOME not in p.outcomes_excluded]
    return out


def bound_queries(rules: RuleSet, channels: tuple[str, ...]) -> list[tuple[str, dict, None]]:
    """(query stem, parameters, None) of each rule's bound, for engine.union_query."""
    queries = []
    for rule in rules.rules:
        chans = new_channels(rule, channels)
        if not chans:
            continue
        p = rule.params
        if isinstance(p, WindowedCap):
            params = {"rule_id": rule.rule_id, "cap": p.cap, "window_days": p.window_days,
                      **p.accounts.params(), **counting_params(p)}
        else:
            params = rule_params(rule)
        queries.append((f"plan_bound_{rule.kind}", {**params, "new_channels": chans}, None))
    return queries


def longest_window(rules: RuleSet) -> int:
    """The most local days back any rule's window reaches (consent windows included)."""
    days = [1]
    for rule in rules.rules:
        p = rule.params
        if isinstance(p, (WindowedCap, CooldownAfterEvent)):
            days.append(p.window_days + (p.consent_window_days if p.consent_exclusion else 0))
    return max(days)


def headroom(con, day: date, rules: RuleSet | None = None, channels: tuple[str, ...] = PLAN_CHANNELS) -> pd.DataFrame:
    """One row per (account placed on or before `day`, channel): `account_id, channel, offered,
    contact_from, contact_until` (UTC, whole seconds, both allowed; meaningful where `offered`),
    `timezone, calls_left, caps, cooldown_ends, from_rule, until_rule, blocked_by`
    (queries/plan_headroom.sql). Works on a read-only connection (temporary tables of its own cursor)."""
    cur = con.cursor()
    try:
        headroom_table(cur, day, rules, channels)
        out = cur.execute("select * from plan_room").df()
    finally:
        cur.close()
    for col in ("contact_from", "contact_until", "cooldown_ends"):
        out[col] = out[col].dt.tz_convert("UTC")
    return out.sort_values(["account_id", "channel"], kind="stable").reset_index(drop=True)


def headroom_table(cur, day: date, rules: RuleSet | None = None, channels: tuple[str, ...] = PLAN_CHANNELS) -> None:
    """The headroom as the temporary table `plan_room` on the cursor `cur`, for a caller that goes on in
    SQL on the same cursor (analysis.plan.build). The steps before it (`plan_accounts`, `plan_contacts`,
    `plan_consents`, `plan_bounds`) are dropped once it is made: temporary tables are held in memory,
    and at 200k accounts they held 108 of the 196 MB of temp tables (measured)."""
    rules = load_rules() if rules is None else rules
    cur.execute("set TimeZone = 'UTC'")
    params = {"date": day, "days_back": longest_window(rules) + 2}
    for stem in ("plan_accounts", "plan_contacts", "plan_consents"):
        create_table(cur, stem, stem, params, temp=True)
    queries = bound_queries(rules, channels)
    if queries:
        for stem in dict.fromkeys(stem for stem, _, _ in queries):
            install_macro(cur, stem)
        union, bound = union_query(queries, columns=BOUND_COLUMNS, ordered=False)
        cur.execute("create or replace temp table plan_bounds as " + union, bound)
    else:
        cur.execute("create or replace temp table plan_bounds (account_key integer, channel varchar, rule_id varchar, "
                    "lo timestamptz, hi timestamptz, left_at_start bigint, cooldown_ends timestamptz)")
    create_table(cur, "plan_room", "plan_headroom", {"channels": list(channels)}, temp=True)
    for step in ("plan_bounds", "plan_consents", "plan_contacts", "plan_accounts"):
        cur.execute("drop table " + step)
