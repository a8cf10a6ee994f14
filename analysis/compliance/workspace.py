"""The compliance officer's workspace: the data behind the Compliance page.

Every function takes the open connection first (the dashboard calls them through
`dashboard.data.load`) and reads the stored `breaches` table (pipeline step `breaches`) and
`risk_signals` (step `risk_signals`). Queries return counts; rates are divided here, and a zero
denominator gives an empty value (None), never 0.

Review states are not in the analytics database (it is read-only for the dashboard): the page
reads them from the review log (`analysis.compliance.reviews`) and joins them with
`with_reviews`, keyed by (contact_id, rule_id).
"""
from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd

from analysis import aggregates
from analysis.compliance import reviews
from analysis.compliance.rules import load_rules
from analysis.db import get_meta, query_df, query_rows, ratio, rows
from analysis.pipeline import has_run
from analysis.filters import Filters

DIMENSIONS = ("rule", "team", "agent", "strategy", "month")
REVIEW_STATUSES = (reviews.UNREVIEWED,) + reviews.STATES
OFFENDER_LEVELS = ("agent", "team")


def ready(con) -> bool:
    """True when the audit has stored its breaches (the pipeline step has run)."""
    return has_run(con, "breaches")


def rule_set_label(con) -> str | None:
    """Which rule set produced the stored breaches (meta `rule_set`, written by the audit)."""
    return get_meta(con, "rule_set")


def rule_catalog(con) -> dict[str, dict]:
    """rule_id -> {rule_id, kind, title, citation, text, params (dict)} of the rules that produced the breaches.

    Read from the table `breach_rules` that the audit stores with the breaches, so the text shown
    is the text of the rule set that was applied; while it is empty (no audit yet), from the default rules file.
    """
    found = rows(con, "select rule_id, kind, title, citation, text, parameters from breach_rules")
    if found:
        return {r[0]: {"rule_id": r[0], "kind": r[1], "title": r[2], "citation": r[3], "text": r[4],
                       "params": json.loads(r[5]) if r[5] else {}} for r in found}
    return {r.rule_id: {"rule_id": r.rule_id, "kind": r.kind, "title": r.title, "citation": r.citation,
                        "text": r.text, "params": r.as_dict()["params"]} for r in load_rules().rules}


# --- counts ---------------------------------------------------------------------------------------

def breach_counts(con, filters: Filters) -> pd.DataFrame:
    """Breaches by rule, team, agent, strategy and month: dimension, value, breaches, contacts, accounts."""
    return query_df(con, aggregates.stem(con, "compliance_breach_counts"), filters.params())


def breaches_by(con, filters: Filters, dimension: str) -> pd.DataFrame:
    """One dimension of `breach_counts`: value, breaches, contacts, accounts (months in time order)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {DIMENSIONS}")
    df = breach_counts(con, filters)
    df = df[df["dimension"] == dimension].drop(columns="dimension").reset_index(drop=True)
    if dimension == "month":
        df = df.sort_values("value").reset_index(drop=True)
    return df


def trend(con, filters: Filters) -> pd.DataFrame:
    """Breaches per month and rule: month, rule_id, breaches, accounts, placed_calls (month's, repeated)."""
    return query_df(con, aggregates.stem(con, "compliance_breach_trend"), filters.params())


def trend_totals(con, filters: Filters) -> pd.DataFrame:
    """One row per month: breaches, placed_calls and breaches_per_1000_calls (empty when no call was placed)."""
    df = trend(con, filters)
    if df.empty:
        return pd.DataFrame(columns=["month", "breaches", "placed_calls", "breaches_per_1000_calls"])
    out = df.groupby("month", as_index=False).agg(breaches=("breaches", "sum"), placed_calls=("placed_calls", "first"))
    out["breaches_per_1000_calls"] = [ratio(b, c, 1000) for b, c in zip(out["breaches"], out["placed_calls"])]
    return out


def worst_offenders(con, filters: Filters, level: str = "agent", top: int | None = 10) -> pd.DataFrame:
    """Agents or teams with the most breaches per 1,000 placed calls: name, breaches, placed_calls, rate.

    Ones with no placed call have an empty rate and sort last; ties go to the larger count.
    """
    if level not in OFFENDER_LEVELS:
        raise ValueError(f"level must be one of {OFFENDER_LEVELS}")
    df = query_df(con, aggregates.stem(con, "compliance_offenders"), filters.params())
    df = df[df["level"] == level].drop(columns="level")
    df = df.assign(breaches_per_1000_calls=[ratio(b, c, 1000) for b, c in zip(df["breaches"], df["placed_calls"])])
    df = df.sort_values(["breaches_per_1000_calls", "breaches", "name"], ascending=[False, False, True],
                        na_position="last").reset_index(drop=True)
    return df.head(top) if top else df


# --- the list and review states ---------------------------------------------------------------------

def breach_list(con, filters: Filters, rules: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every breach passing the filters, newest first, with contact and account attributes."""
    return query_df(con, aggregates.stem(con, "compliance_breach_list"), {**filters.params(), "rules": list(rules), "contact_id": None})


def with_reviews(breaches: pd.DataFrame, current: pd.DataFrame, statuses: tuple[str, ...] = ()) -> pd.DataFrame:
    """The breach list with each breach's review state (latest review, else 'unreviewed').

    Joined on (contact_id, rule_id), so reviews made before an audit rerun stay with the breaches
    that still exist; reviews of breaches that no longer exist are kept in the log but not shown.
    `statuses` keeps only those review states (empty = all).
    """
    cols = {"state": "review_state", "reason": "review_reason", "note": "review_note",
            "reviewer": "reviewed_by", "reviewed_at": "reviewed_at"}
    latest = current[["contact_id", "rule_id", *cols]].rename(columns=cols) if len(current) else \
        pd.DataFrame(columns=["contact_id", "rule_id", *cols.values()])
    out = breaches.merge(latest.astype({"contact_id": "object", "rule_id": "object"}),
                         on=["contact_id", "rule_id"], how="left")
    out["review_state"] = out["review_state"].fillna(reviews.UNREVIEWED)
    if statuses:
        out = out[out["review_state"].isin(statuses)]
    return out.reset_index(drop=True)


def review_summary(listed: pd.DataFrame) -> dict[str, int]:
    """How many of the listed breaches are in each review state."""
    counts = listed["review_state"].value_counts() if len(listed) else pd.Series(dtype=int)
    return {s: int(counts.get(s, 0)) for s in REVIEW_STATUSES}


LIST_COLUMNS = ("review_state", "rule_id", "local_time", "timezone", "contact_id", "account_id", "consumer_id", "channel",
                "direction", "outcome", "agent_id", "team", "strategy", "explanation")


def review_states(current: pd.DataFrame) -> tuple[tuple[str, str, str], ...]:
    """The review log's current states (`reviews.current`) as plain (contact_id, rule_id, state) tuples: an
    argument the dashboard's cache can key on, for `breach_state_counts` and `breach_page`."""
    if current.empty:
        return ()
    return tuple(zip(current["contact_id"], current["rule_id"], current["state"]))


def _reviewed(states: tuple[tuple[str, str, str], ...]) -> dict:
    return {"reviewed_contacts": [s[0] for s in states], "reviewed_rules": [s[1] for s in states],
            "reviewed_states": [s[2] for s in states]}


def _states_frame(states: tuple[tuple[str, str, str], ...]) -> pd.DataFrame:
    return pd.DataFrame(list(states), columns=["contact_id", "rule_id", "state"]).assign(
        reason=None, note=None, reviewer=None, reviewed_at=None)


def breach_state_counts(con, filters: Filters, rules: tuple[str, ...] = (),
                        states: tuple[tuple[str, str, str], ...] = ()) -> dict[str, int]:
    """How many breaches of the list (`breach_list` of these filters and rules) are in each review state
    (`states`: `review_states` of the log), every state of REVIEW_STATUSES: counted in SQL on the aggregate
    table, without reading the list (else, before the aggregates are built, from the list)."""
    if not aggregates.ready(con):
        return review_summary(with_reviews(breach_list(con, filters, rules), _states_frame(states)))
    found = dict(query_rows(con, "compliance_breach_states_agg",
                            {**filters.params(), "rules": list(rules), **_reviewed(states)}))
    return {s: int(found.get(s, 0)) for s in REVIEW_STATUSES}


def breach_page(con, filters: Filters, rules: tuple[str, ...] = (), states: tuple[tuple[str, str, str], ...] = (),
                statuses: tuple[str, ...] = (), limit: int | None = None) -> pd.DataFrame:
    """The list the page shows: `with_reviews(breach_list(...), ..., statuses)[LIST_COLUMNS]`, the first
    `limit` rows (None = all, the download). On the aggregate tables the list is ordered and cut before
    the breaches and accounts are read, so a page of 2,000 rows does not read the 100k rows of a large book."""
    if not aggregates.ready(con):
        listed = with_reviews(breach_list(con, filters, rules), _states_frame(states), statuses)[list(LIST_COLUMNS)]
        listed = listed.astype("str")  # as the query gives them (the merge makes the keys objects)
        return listed if limit is None else listed.head(limit)
    found = query_df(con, "compliance_breach_page_agg", {**filters.params(), "rules": list(rules), **_reviewed(states),
                                                         "statuses": list(statuses), "contact_id": None, "limit": limit})
    return found[list(LIST_COLUMNS)].astype("str")  # an empty result's columns are objects


def breach_listed(con, filters: Filters, rules: tuple[str, ...], states: tuple[tuple[str, str, str], ...],
                  statuses: tuple[str, ...], key: str) -> bool:
    """Whether the breach `key` ("contact_id|rule_id", as in the page's link) is in `breach_page`'s whole
    list, found by its key (the page holds only the rows it shows)."""
    contact_id, _, rule_id = key.partition("|")
    if rules and rule_id not in rules:
        return False
    if not aggregates.ready(con):
        listed = breach_page(con, filters, rules, states, statuses)
        return bool(((listed["contact_id"] == contact_id) & (listed["rule_id"] == rule_id)).any())
    return not query_df(con, "compliance_breach_page_agg", {
        **filters.params(), "rules": [rule_id], **_reviewed(states), "statuses": list(statuses),
        "contact_id": contact_id, "limit": 1}).empty


# --- one breach -------------------------------------------------------------------------------------

def evidence_ids(evidence) -> list[str]:
    """Every string inside the breach's evidence JSON (contact ids among them), in order, once each."""
    try:
        data = json.loads(evidence) if isinstance(evidence, str) else evidence
    except (TypeError, ValueError):
        return []
    found: list[str] = []

    def walk(x):
        if isinstance(x, str):
            if x not in found:
                found.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk(data)
    return found


def account_timeline(con, account_id: str) -> pd.DataFrame:
    """The account's contacts in contact order, with local wall time and the rules each breaches."""
    return query_df(con, "compliance_account_contacts", {"account_id": account_id})


def account_spans(con, account_id: str) -> pd.DataFrame:
    """Consent windows, cooldowns after events and opt-outs of the account, in local wall time.

    Window lengths and the cooldown's event come from the applied rules (the first rule with a
    consent exclusion, the first cooldown rule), so the drawing follows the configuration.
    """
    consent_days, cooldown_days = 7, 7
    event = {"event_channels": ["call"], "event_outcomes": ["conversation"], "event_directions": ["outbound", "inbound"]}
    catalog = list(rule_catalog(con).values())
    for r in catalog:
        if r["params"].get("consent_exclusion"):
            consent_days = int(r["params"].get("consent_window_days", consent_days))
            break
    for r in catalog:
        if r["kind"] == "cooldown_after_event":
            cooldown_days = int(r["params"]["window_days"])
            ev = r["params"]["event"]
            event = {"event_channels": list(ev["channels"]), "event_outcomes": list(ev["outcomes"]),
                     "event_directions": list(ev["directions"])}
            break
    return query_df(con, "compliance_account_spans", {
        "account_id": account_id, "consent_window_days": consent_days, "cooldown_days": cooldown_days, **event})


def breach_detail(con, contact_id: str, rule_id: str) -> dict | None:
    """Everything the page and the evidence pack show about one breach, or None when it does not exist.

    Keys: breach (dict of the list's columns), rule (rule_id, kind, title, citation, text, params),
    rule_set (label), evidence (parsed JSON), evidence_contacts (the account's contacts named in
    the evidence, plus the breach contact), timeline (all the account's contacts), spans, window
    (local start/end of the breach's counting window for a windowed cap, else None).
    """
    found = query_df(con, aggregates.stem(con, "compliance_breach_list"),
                     {**Filters().params(), "rules": [rule_id], "contact_id": contact_id})
    if found.empty:
        return None
    breach = found.iloc[0].to_dict()
    rule_info = rule_catalog(con).get(rule_id) or {
        "rule_id": rule_id, "kind": "", "title": "", "citation": "", "params": {},
        "text": "(the rule's text was not stored with the breaches: rerun the audit)"}
    timeline = account_timeline(con, breach["account_id"])
    ids = set(evidence_ids(breach["evidence"])) | {contact_id}
    evidence_contacts = timeline[timeline["contact_id"].isin(ids)].reset_index(drop=True)
    try:
        evidence = json.loads(breach["evidence"]) if breach["evidence"] else None
    except ValueError:
        evidence = breach["evidence"]
    window = None
    if rule_info["kind"] == "windowed_cap":
        local = timeline.loc[timeline["contact_id"] == contact_id, "local_ts"].iloc[0]
        day = pd.Timestamp(local).normalize()
        window = (day - timedelta(days=int(rule_info["params"]["window_days"]) - 1), day + timedelta(days=1))
    return {
        "breach": breach,
        "rule": rule_info,
        "rule_set": rule_set_label(con),
        "evidence": evidence,
        "evidence_contacts": evidence_contacts,
        "timeline": timeline,
        "spans": account_spans(con, breach["account_id"]),
        "window": window,
    }


# --- risk signals --------------------------------------------------------------------------------------

def signals_ready(con) -> bool:
    """Whether the risk signals step has run, with the columns this code reads (a database whose
    signals an older version stored lacks `agent_id` until `refresh`)."""
    from analysis import incremental

    return has_run(con, "risk_signals") and incremental.declared_columns(con, "risk_signals")


def signal_counts(con, filters: Filters) -> pd.DataFrame:
    """Risk signals per signal and month: signal, month, signals, accounts, consumers."""
    return query_df(con, "risk_signal_counts", filters.params())


def signal_list(con, filters: Filters, signals: tuple[str, ...] = (), limit: int | None = None) -> pd.DataFrame:
    """The risk signals passing the filters, newest first: the first `limit` (None = all, the download).
    At 1M accounts the whole list is 1.9M signals (470 MB as a frame, 8 s): the page asks for its first rows."""
    return query_df(con, "risk_signal_list", {**filters.params(), "signals": list(signals), "limit": limit})


def signal_total(counts: pd.DataFrame, signals: tuple[str, ...] = ()) -> int:
    """How many signals `signal_list(con, filters, signals)` holds, from `signal_counts(con, filters)`
    (the same filters: risk_signal_counts.sql and risk_signal_list.sql)."""
    chosen = counts if not signals else counts[counts["signal"].isin(signals)]
    return int(chosen["signals"].sum())
