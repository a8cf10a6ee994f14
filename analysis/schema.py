"""The import contract of SPEC section 1, as data.

Everything that needs to know the tables (the importer, the demo builder, the data dictionary,
the DDL) reads it from here, so the contract is written down once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from analysis.db import quote_ident

CHANNELS = ("call", "sms", "email", "letter", "chat")
DIRECTIONS = ("outbound", "inbound")
CALL_OUTCOMES = ("no_answer", "voicemail", "busy", "not_connected", "conversation", "third_party", "dropped")
PREFERENCE_CHANNELS = CHANNELS + ("all",)
SPEAKERS = ("agent", "customer")
COMPLAINT_SOURCES = ("consumer", "cfpb", "ombudsman", "regulator", "other")
COMPLAINT_OUTCOMES = ("upheld", "partially_upheld", "not_upheld", "withdrawn")

# Logical type -> DuckDB storage type. Timestamps are stored as instants (TIMESTAMPTZ);
# local times are derived from the account's zone when a rule needs them.
SQL_TYPES = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "amount": "DECIMAL(18,2)",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "bool": "BOOLEAN",
    "tz": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    doc: str = ""
    min_value: float | None = None
    max_value: float | None = None
    min_exclusive: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str = ""
    references_account: bool = True  # account_id must name a known account (when given)
    required_file: bool = False
    extra_checks: tuple[str, ...] = field(default_factory=tuple)
    # False: no primary-key index; the key's uniqueness is the importer's own check (duplicates in a
    # file quarantined, an existing key replaced). See DECISIONS.md, "The contacts key index".
    key_index: bool = True

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


C = Column

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "accounts",
            (
                C("account_id", "str", True, doc="one debt in collection; unique"),
                C("consumer_id", "str", True, doc="the person; one consumer may owe several debts"),
                C("placed_date", "date", True, doc="date the debt was placed with the firm"),
                C("placed_balance", "amount", True, min_value=0, doc="balance at placement, >= 0"),
                C("timezone", "tz", True, doc="IANA zone of the consumer's location"),
                C("phone_timezone", "tz", doc="IANA zone of the phone number's area code, when known"),
                C("phone", "str", doc="phone number (E.164 or national); with ingest --derive-phone-zones, fills an empty phone_timezone"),
                C("state", "str", doc="region code, trimmed and upper-cased on import (e.g. MA)"),
                C("portfolio", "str"),
                C("product", "str"),
                C("team", "str"),
                C("strategy", "str", doc="treatment arm (e.g. champion, challenger)"),
                C("vulnerable", "bool", doc="known vulnerable customer; default false"),
            ),
            key=("account_id",),
            references_account=False,
            required_file=True,
            doc="One row per debt in collection.",
        ),
        Table(
            "contacts",
            (
                C("contact_id", "str", True, doc="unique"),
                C("account_id", "str", True),
                C("ts", "timestamp", True, doc="when the contact happened"),
                C("channel", "str", True, enum=CHANNELS),
                C("direction", "str", True, enum=DIRECTIONS),
                C("outcome", "str", doc="required for calls, one of " + ", ".join(CALL_OUTCOMES)
                  + "; other channels free text, default sent (outbound) / received (inbound)"),
                C("agent_id", "str"),
                C("duration_s", "int", min_value=0),
            ),
            key=("contact_id",),
            key_index=False,
            doc="One row per contact attempt or message, either direction.",
        ),
        Table(
            "consents",
            (
                C("account_id", "str", True),
                C("given_at", "timestamp", True, doc="the consumer's direct prior consent to be called"),
            ),
            key=("account_id", "given_at"),
            doc="One row per consent given.",
        ),
        Table(
            "preferences",
            (
                C("account_id", "str", True),
                C("channel", "str", True, enum=PREFERENCE_CHANNELS,
                  doc="a channel: do not contact through that medium; all: written request to cease communication"),
                C("opted_out_at", "timestamp", True),
            ),
            key=("account_id", "channel", "opted_out_at"),
            doc="One row per opt-out request.",
        ),
        Table(
            "agents",
            (
                C("agent_id", "str", True, doc="unique"),
                C("team", "str"),
                C("site", "str"),
                C("name", "str"),
            ),
            key=("agent_id",),
            references_account=False,
            doc="One row per agent.",
        ),
        Table(
            "conversations",
            (
                C("conversation_id", "str", True, doc="unique"),
                C("account_id", "str", True),
                C("started_at", "timestamp", True),
                C("channel", "str", True, enum=CHANNELS),
                C("agent_id", "str"),
                C("contact_id", "str", doc="the contact the conversation belongs to"),
            ),
            key=("conversation_id",),
            doc="One row per call or chat conversation with a transcript.",
        ),
        Table(
            "turns",
            (
                C("conversation_id", "str", True),
                C("turn", "int", True, doc="order within the conversation"),
                C("speaker", "str", True, enum=SPEAKERS),
                C("text", "str", True, doc="kept exactly as given"),
            ),
            key=("conversation_id", "turn"),
            references_account=False,
            doc="One row per utterance of a conversation.",
        ),
        Table(
            "surveys",
            (
                C("response_id", "str", True, doc="unique"),
                C("account_id", "str"),
                C("responded_at", "timestamp", True),
                C("nps", "int", min_value=0, max_value=10, doc="0..10"),
                C("csat", "int", min_value=1, max_value=5, doc="1..5"),
                C("comment", "str"),
                C("channel", "str", doc="survey channel"),
                C("agent_id", "str"),
            ),
            key=("response_id",),
            extra_checks=("nps_or_csat",),
            doc="One row per survey response; at least one of nps and csat.",
        ),
        Table(
            "complaints",
            (
                C("complaint_id", "str", True, doc="unique"),
                C("account_id", "str"),
                C("received_at", "timestamp", True),
                C("source", "str", enum=COMPLAINT_SOURCES, doc="default consumer"),
                C("category", "str"),
                C("description", "str"),
                C("resolved_at", "timestamp", doc=">= received_at"),
                C("outcome", "str", enum=COMPLAINT_OUTCOMES),
                C("redress_amount", "amount"),
                # Kept from CFPB exports (import-cfpb); optional in the contract.
                C("issue", "str", doc="CFPB issue"),
                C("sub_issue", "str", doc="CFPB sub-issue"),
                C("company_response", "str", doc="CFPB company response to consumer"),
                C("timely_response", "bool", doc="CFPB timely response?"),
                C("state", "str", doc="consumer state from the CFPB export"),
                C("sent_to_company_date", "date", doc="CFPB date sent to company (routing, not resolution)"),
            ),
            key=("complaint_id",),
            extra_checks=("resolved_after_received",),
            doc="One row per complaint.",
        ),
        Table(
            "payments",
            (
                C("payment_id", "str", True, doc="unique"),
                C("account_id", "str", True),
                C("paid_at", "timestamp", True),
                C("amount", "amount", True, doc="negative: a reversal"),
                C("method", "str"),
            ),
            key=("payment_id",),
            doc="One row per payment or reversal.",
        ),
        Table(
            "promises",
            (
                C("promise_id", "str", True, doc="unique"),
                C("account_id", "str", True),
                C("created_at", "timestamp", True),
                C("due_date", "date", True),
                C("amount", "amount", True, min_value=0, min_exclusive=True, doc="> 0"),
                C("agent_id", "str"),
            ),
            key=("promise_id",),
            doc="One row per promise to pay.",
        ),
    ]
}

# Tables the product keeps besides the contract's. Derived tables are rebuilt from the contract's.
SYSTEM_DDL = [
    """create table if not exists quarantine (
        import_id bigint, table_name varchar, file varchar, line bigint, raw varchar, reason varchar)""",
    """create table if not exists import_log (
        import_id bigint, started_at timestamptz, finished_at timestamptz, source varchar,
        table_name varchar, file varchar, rows_read bigint, rows_loaded bigint, rows_quarantined bigint)""",
    """create table if not exists meta (key varchar primary key, value varchar)""",
]


# Derived tables: computed from the contract's tables by a pipeline step (analysis/pipeline.py) and
# stored, because the dashboard opens the database read-only. Declared here, beside the contract:
# `create_schema` creates every one of them empty, so readers just query (no existence checks, no
# stand-in views); the step that builds a table replaces its rows. A test checks that each step
# leaves exactly these columns and types.
@dataclass(frozen=True)
class Derived:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type)
    grain: str
    step: str  # the pipeline step that builds it (analysis.pipeline.STEPS)
    key: tuple[str, ...] = ()


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple((part.split(None, 1)[0], part.split(None, 1)[1]) for part in (p.strip() for p in spec.split(",")) if part)


DERIVED: dict[str, Derived] = {d.name: d for d in [
    Derived("breaches", _cols("contact_id VARCHAR, account_id VARCHAR, rule_id VARCHAR, ts TIMESTAMP WITH TIME ZONE, "
                              "local_ts TIMESTAMP, evidence VARCHAR, explanation VARCHAR"),
            "one row per (contact, rule) presumed breach of the stored rule set (meta rule_set)", "breaches"),
    Derived("breach_rules", _cols("rule_id VARCHAR, kind VARCHAR, title VARCHAR, citation VARCHAR, text VARCHAR, parameters VARCHAR"),
            "one row per rule of the rule set that produced `breaches`", "breaches"),
    Derived("risk_signals", _cols("signal VARCHAR, account_id VARCHAR, consumer_id VARCHAR, contact_id VARCHAR, "
                                  "agent_id VARCHAR, ts TIMESTAMP WITH TIME ZONE, detail VARCHAR"),
            "one row per (signal, contact or account-day) pattern found", "risk_signals"),
    Derived("sentiment_cache", _cols("text_hash VARCHAR, model_id VARCHAR, score DOUBLE, label VARCHAR"),
            "one row per distinct text x model version scored", "conversations", key=("text_hash", "model_id")),
    Derived("turn_sentiment", _cols("conversation_id VARCHAR, turn BIGINT, speaker VARCHAR, model_id VARCHAR, score DOUBLE, label VARCHAR"),
            "one row per conversation turn", "conversations"),
    Derived("conversation_sentiment", _cols(
        "conversation_id VARCHAR, account_id VARCHAR, agent_id VARCHAR, channel VARCHAR, started_at TIMESTAMP WITH TIME ZONE, "
        "model_id VARCHAR, customer_turns BIGINT, customer_mean DOUBLE, customer_min DOUBLE, customer_first_third DOUBLE, "
        "customer_last_third DOUBLE, customer_trajectory DOUBLE, agent_turns BIGINT, agent_mean DOUBLE, "
        "agent_first_third DOUBLE, agent_last_third DOUBLE, agent_trajectory DOUBLE, label VARCHAR"),
            "one row per conversation", "conversations"),
    Derived("comment_sentiment", _cols("response_id VARCHAR, score DOUBLE, label VARCHAR, model_id VARCHAR"),
            "one row per survey response with a comment", "conversations"),
    Derived("qa_rules", _cols("rule_id VARCHAR, kind VARCHAR, title VARCHAR, source VARCHAR, speaker VARCHAR, "
                              "first_turns BIGINT, applies_to VARCHAR"),
            "one row per QA phrase rule of config/qa_rules.yaml", "conversations", key=("rule_id",)),
    Derived("qa_results", _cols("conversation_id VARCHAR, rule_id VARCHAR, kind VARCHAR, passed BOOLEAN"),
            "one row per conversation x QA rule that applies to it", "conversations"),
    Derived("qa_hits", _cols("conversation_id VARCHAR, rule_id VARCHAR, kind VARCHAR, turn BIGINT, start_char BIGINT, "
                             "end_char BIGINT, matched_text VARCHAR"),
            "one row per QA phrase match in a turn", "conversations"),
    Derived("vulnerability_flags", _cols("conversation_id VARCHAR, account_id VARCHAR, turn BIGINT, driver VARCHAR, cue VARCHAR, "
                                         "start_char BIGINT, end_char BIGINT, matched_text VARCHAR"),
            "one row per vulnerability cue matched in a customer turn", "conversations"),
    # Aggregates at the grain of the sidebar filters, for the pages at scale (analysis/aggregates.py).
    Derived("contact_daily", _cols("day DATE, portfolio VARCHAR, team VARCHAR, strategy VARCHAR, channel VARCHAR, "
                                   "direction VARCHAR, agent_id VARCHAR, agent_team VARCHAR, contacts BIGINT, "
                                   "breaches BIGINT, breach_contacts BIGINT"),
            "one row per UTC day x account portfolio x team x strategy x channel x direction x agent with a contact",
            "aggregates"),
    Derived("breach_facts", _cols("contact_id VARCHAR, rule_id VARCHAR, account_id VARCHAR, ts TIMESTAMP WITH TIME ZONE, "
                                  "day DATE, channel VARCHAR, direction VARCHAR, outcome VARCHAR, agent_id VARCHAR, "
                                  "duration_s BIGINT, portfolio VARCHAR, team VARCHAR, strategy VARCHAR, agent_team VARCHAR"),
            "one row per breach (contact, rule) with its contact's and account's attributes", "aggregates"),
    Derived("payment_facts", _cols("payment_id VARCHAR, account_id VARCHAR, paid_at TIMESTAMP WITH TIME ZONE, day DATE, "
                                   "month_start DATE") + (("amount", "DECIMAL(18,2)"), ("last_channel", "VARCHAR")),
            "one row per payment with the channel of the account's last contact before it", "aggregates"),
    Derived("outbound_facts", _cols("day DATE, account_id VARCHAR, portfolio VARCHAR, team VARCHAR, strategy VARCHAR, "
                                    "channel VARCHAR, agent_id VARCHAR, weekday BIGINT, local_hour BIGINT, "
                                    "reached BOOLEAN, breached BOOLEAN, prev_day DATE, prev_reached_day DATE"),
            "one row per outbound contact with its account's attributes, local weekday and hour, reached, breached, "
            "and the day of the account's previous contact (and reached contact) on the channel",
            "aggregates"),
    Derived("promise_facts", _cols("promise_id VARCHAR, account_id VARCHAR, agent_id VARCHAR, portfolio VARCHAR, "
                                   "strategy VARCHAR, account_team VARCHAR, team VARCHAR, created_date DATE, due_date DATE")
            + (("amount", "DECIMAL(18,2)"), ("paid_in_window", "DECIMAL(38,2)")),
            "one row per promise with its account's attributes, its team and what the account paid in its window",
            "aggregates"),
    Derived("balance_months", _cols("account_id VARCHAR, month_start DATE, portfolio VARCHAR, team VARCHAR, strategy VARCHAR, "
                                    "contacts BIGINT, breach_contacts BIGINT")
            + (("collected", "DECIMAL(38,2)"),)
            + _cols("complaints BIGINT, promoters BIGINT, passives BIGINT, detractors BIGINT, "
                    "conversations_scored BIGINT, conversations_negative BIGINT"),
            "one row per account x UTC month with an outbound contact, payment, complaint, NPS response or "
            "labelled conversation: the Balance page's sums", "aggregates"),
    # Propensity to pay (analysis.propensity): models stored by `propensity train` (kept, not rebuilt), and
    # the latest scoring, which the "propensity" step redoes with the latest model after each import.
    Derived("propensity_models", _cols("model_id VARCHAR, as_of DATE, created_at TIMESTAMP WITH TIME ZONE, "
                                       "features VARCHAR, evaluation VARCHAR, model BLOB, sha256 VARCHAR"),
            "one row per stored propensity model (features and evaluation as JSON, the model serialized)",
            "propensity"),
    Derived("propensity_scores", _cols("model_id VARCHAR, as_of DATE, account_id VARCHAR, propensity DOUBLE, "
                                       "balance DOUBLE, expected_collection DOUBLE"),
            "one row per account open at as_of, scored by model_id (the latest scoring run)", "propensity"),
    # The contact plan for the scores' date (the pipeline step "plan", analysis.plan.build.refresh, after every
    # scoring run), so the Contact plan page reads it instead of planning on each visit.
    Derived("contact_plan", _cols(
        "as_of DATE, model_id VARCHAR, rank BIGINT, account_id VARCHAR, channel VARCHAR, propensity DOUBLE, "
        "contact_from TIMESTAMP WITH TIME ZONE, contact_until TIMESTAMP WITH TIME ZONE, best_local_hour BIGINT, "
        "account_rank BIGINT, queue VARCHAR, balance DOUBLE, expected_collection DOUBLE, reach_rate DOUBLE, "
        "local_date DATE, timezone VARCHAR, local_window VARCHAR, calls_left BIGINT, caps VARCHAR, "
        "cooldown_ends TIMESTAMP WITH TIME ZONE, reasons VARCHAR, team VARCHAR, portfolio VARCHAR, strategy VARCHAR, "
        "state VARCHAR"),
            "one row per (account, channel) offered on as_of by the plan ranked by expected collection", "plan"),
]}


def derived_ddl(name: str, replace: bool = False) -> str:
    """The create statement of a derived table: `create table if not exists`, or `create or replace`."""
    d = DERIVED[name]
    cols = [f"{quote_ident(c)} {t}" for c, t in d.columns]  # t: a DuckDB type name of the declaration
    key = [f"primary key ({', '.join(map(quote_ident, d.key))})"] if d.key else []
    create = "create or replace table" if replace else "create table if not exists"
    return f"{create} {quote_ident(d.name)} ({', '.join(cols + key)})"


def table_ddl(table: Table) -> str:
    cols = ",\n    ".join(f"{quote_ident(c.name)} {SQL_TYPES[c.type]}" for c in table.columns)
    if not table.key_index:
        return f"create table if not exists {quote_ident(table.name)} (\n    {cols}\n)"
    return (f"create table if not exists {quote_ident(table.name)} (\n    {cols},\n"
            f"    primary key ({', '.join(map(quote_ident, table.key))})\n)")


def create_schema(con) -> None:
    """Create every contract, system and derived table that does not exist yet (derived ones empty)."""
    for table in TABLES.values():
        con.execute(table_ddl(table))
    for ddl in SYSTEM_DDL:
        con.execute(ddl)
    for name in DERIVED:
        con.execute(derived_ddl(name))
