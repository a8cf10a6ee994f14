"""Policy what-if: change one rule's cap or window and see what it would flag, and the money at stake.

`simulate` runs the engine's `find_breaches` twice on the same data, with the rule as configured
and with the change, and reports for each: how many contacts would breach, on how many accounts,
and how much those accounts paid within 30 days after those contacts (each payment counted once,
reversals included). The contacts flagged only under the change, and their 30-day collections, are
what a stricter policy would put at stake: the calls it forbids came before that money.
These are associations, not effects: a payment after a call need not be caused by it.
"""
from __future__ import annotations

import pandas as pd

from analysis.compliance.engine import find_breaches
from analysis.compliance.rules import CooldownAfterEvent, RuleSet, WindowedCap, load_rules
from analysis.db import query_df
from analysis.errors import UserError

COLLECTION_DAYS = 30
SCENARIOS = ("current", "what_if", "only_what_if", "only_current")
# Which parameters a manager may change, per rule kind.
CHANGEABLE = {WindowedCap: ("cap", "window_days"), CooldownAfterEvent: ("window_days",)}


def changeable_rules(rules: RuleSet | None = None) -> pd.DataFrame:
    """The rules whose cap or window can be changed: rule_id, title, kind, cap, window_days."""
    rules = rules or load_rules()
    out = []
    for r in rules.rules:
        if type(r.params) in CHANGEABLE:
            out.append({"rule_id": r.rule_id, "title": r.title, "kind": r.kind,
                        "cap": getattr(r.params, "cap", None), "window_days": r.params.window_days})
    return pd.DataFrame(out, columns=["rule_id", "title", "kind", "cap", "window_days"])


def scenario_rules(rule_id: str, cap: int | None = None, window_days: int | None = None,
                   rules: RuleSet | None = None) -> tuple[RuleSet, RuleSet]:
    """(the rule as configured, the rule with the change), each as a one-rule RuleSet."""
    rules = rules or load_rules()
    try:
        base = rules.only(rule_id)
    except KeyError:
        raise UserError(f"rule {rule_id!r} is not in the rule set {rules.label}: choose one of {', '.join(rules.ids)}") from None
    params = base.rules[0].params
    allowed = CHANGEABLE.get(type(params), ())
    changes = {}
    if cap is not None:
        if "cap" not in allowed:
            raise UserError(f"rule {rule_id} has no cap to change: choose a windowed cap rule")
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise UserError(f"cap {cap!r} must be a whole number of contacts, 0 or more")
        changes["cap"] = cap
    if window_days is not None:
        if "window_days" not in allowed:
            raise UserError(f"rule {rule_id} has no window to change: choose a windowed cap or cooldown rule")
        if isinstance(window_days, bool) or not isinstance(window_days, int) or not 1 <= window_days <= 366:
            raise UserError(f"window {window_days!r} must be a whole number of days from 1 to 366")
        changes["window_days"] = window_days
    return base, base.with_rule(rule_id, **changes) if changes else base


def simulate(con, rule_id: str, cap: int | None = None, window_days: int | None = None,
             rules: RuleSet | None = None) -> pd.DataFrame:
    """What the rule flags as configured and with the change, and the 30-day collections at stake.

    One row per scenario: current, what_if, only_what_if (flagged only with the change),
    only_current (flagged only as configured); columns scenario, cap, window_days, breaches
    (= contacts: one rule), accounts, payments, collected_amount (float, currency of the data).
    """
    base, changed = scenario_rules(rule_id, cap, window_days, rules)
    now = find_breaches(con, base)[["contact_id", "account_id", "ts"]]
    then = find_breaches(con, changed)[["contact_id", "account_id", "ts"]]
    only_then = then[~then["contact_id"].isin(now["contact_id"])]
    only_now = now[~now["contact_id"].isin(then["contact_id"])]
    flagged = pd.concat([df.assign(scenario=name) for name, df in
                         zip(SCENARIOS, (now, then, only_then, only_now))], ignore_index=True)
    flagged = flagged[["scenario", "contact_id", "account_id", "ts"]].astype({"scenario": object, "contact_id": object, "account_id": object})
    found = query_df(con, "compliance_whatif_collected", {"days": COLLECTION_DAYS}, frames={"flagged_contacts": flagged})
    found = found.set_index("scenario")
    p_base, p_changed = base.rules[0].params, changed.rules[0].params
    rows = []
    for name in SCENARIOS:
        params = p_base if name in ("current", "only_current") else p_changed
        row = found.loc[name] if name in found.index else None
        rows.append({
            "scenario": name,
            "cap": getattr(params, "cap", None),
            "window_days": params.window_days,
            "breaches": int(row["contacts"]) if row is not None else 0,
            "accounts": int(row["accounts"]) if row is not None else 0,
            "payments": int(row["payments"]) if row is not None else 0,
            "collected_amount": float(row["collected_amount"]) if row is not None else 0.0,
        })
    return pd.DataFrame(rows)
