"""Incremental refresh = full rebuild (analysis.incremental, analysis.changes, analysis.pipeline.refresh).

The demo's rows are split by date into a base and "one more day", written as the contract's CSV
files and imported with the real importer into a real DuckDB file: the base first (full refresh),
then the day, refreshed incrementally with the keys the import reports (`ImportResult.changed`).
Every derived table (all columns, ordered by all of them) must then equal a full rebuild of the
same data. The day holds the cases that are easy to get wrong:

- a contact that breaches a 7-day cap whose window reaches back into the base;
- new contacts of existing accounts, and a whole new account (with all its rows);
- conversations with turns (new texts to score), and a changed turn of a base conversation;
- a consent and an opt-out given earlier than the account's base contacts (they change old breaches);
- replaced rows: a base contact whose outcome changes (a cooldown event disappears) and an account
  moved to another consumer (consumer-level signals of both consumers change).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from analysis import incremental
from analysis.compliance import engine, signals
from analysis.compliance.rules import load_rules
from analysis.db import connect, get_meta, quote_ident
from analysis.ingest import find_sources, import_directory, import_sources, plan
from analysis.pipeline import STEPS, refresh
from analysis.schema import DERIVED, TABLES
from analysis.sentiment import conversations as sentiment_conversations

# The column that dates a row of each table (turns: their conversation's start).
WHEN = {"contacts": "ts", "consents": "given_at", "preferences": "opted_out_at", "conversations": "started_at",
        "surveys": "responded_at", "complaints": "received_at", "payments": "paid_at", "promises": "created_at"}
CHANGED_TEXT = "I lost my job last month and I am really unhappy with these calls"


def _q(con, sql, params=None):
    cur = con.cursor()
    try:
        return cur.execute(sql, params or []).fetchall()
    finally:
        cur.close()


def _derived(con) -> dict:
    """Every derived table, all columns, ordered by all of them (Arrow tables: exact values, and
    timestamps with time zone without pytz)."""
    out = {}
    for name in DERIVED:
        cur = con.cursor()
        try:
            out[name] = cur.sql(f"select * from {quote_ident(name)} order by all").to_arrow_table()
        finally:
            cur.close()
    return out


def _same(a: dict, b: dict) -> None:
    assert set(a) == set(b) == set(DERIVED)
    for name in DERIVED:
        assert a[name].num_rows == b[name].num_rows, name
        assert a[name].equals(b[name]), name


def _import(con, directory: Path):
    files, _ = find_sources(directory)
    return import_sources(con, plan(files))


# The steps that refresh incrementally (analysis.incremental); any other step of STEPS rebuilds in full.
# (aggregates: its per-account tables, and contact_daily by difference when the import came through the
# store, whose previous version still holds the touched accounts' old rows.)
INCREMENTAL_STEPS = ("breaches", "risk_signals", "conversations", "aggregates")


def _modes(con) -> dict[str, str | None]:
    """How each incremental step last refreshed: 'full' or 'incremental' (meta derived_mode_<step>)."""
    assert set(INCREMENTAL_STEPS) <= {name for name, _ in STEPS}
    return {name: get_meta(con, f"derived_mode_{name}") for name in INCREMENTAL_STEPS}


@pytest.fixture(scope="module")
def split(demo_db, tmp_path_factory):
    """(base dir, day dir, facts): the demo's rows as CSV files, split by date, with the edge cases."""
    root = tmp_path_factory.mktemp("split")
    con = duckdb.connect()  # the split is computed here, on copies of the demo's tables
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{Path(demo_db).resolve()}' as demo (read_only)")
    for name in [*TABLES, "breaches", "breach_rules"]:
        con.execute(f"create table {quote_ident(name)} as select * from demo.{quote_ident(name)}")
    con.execute("detach demo")
    con.execute("create table _cut as select max(ts) - interval 1 day as cutoff from contacts")
    facts = {}

    # A 7-day cap breach, before the last day, whose window starts at least a day before it: the
    # contact and every later contact of its account go into the day.
    cap_rules = [r for (r,) in _q(con, "select rule_id from breach_rules where kind = 'windowed_cap'")]
    cands = _q(con, """
        select b.contact_id, b.account_id, b.rule_id, b.evidence from breaches as b
        where b.rule_id in (select unnest($1::varchar[])) and b.ts < (select cutoff from _cut)
        order by b.ts desc, b.contact_id""", [cap_rules])
    window_breach = None
    for contact_id, account_id, rule_id, evidence in cands:
        window = json.loads(evidence)["contacts"]
        span = _q(con, "select date_diff('second', min(ts), max(ts)) from contacts "
                       "where contact_id in (select unnest($1::varchar[]))", [window])[0][0]
        if span >= 86400:
            window_breach = (contact_id, account_id, rule_id)
            break
    assert window_breach, "the demo has a 7-day cap breach whose window spans more than a day"
    facts["window_breach"] = window_breach

    # A cooldown breach whose event (a base contact) is re-imported in the day as unanswered.
    event = _q(con, """
        select json_extract_string(b.evidence, '$.conversation') from breaches as b
        inner join breach_rules as r on r.rule_id = b.rule_id
        where r.kind = 'cooldown_after_event' and b.ts < (select cutoff from _cut) and b.account_id <> $1
        order by b.ts, b.contact_id limit 1""", [window_breach[1]])[0][0]
    facts["changed_event"] = event

    # A whole new account: one with contacts and a conversation, not involved above.
    new_account = _q(con, """
        select account_id from conversations
        where account_id not in ($1, (select account_id from contacts where contact_id = $2))
        group by account_id order by count(*) desc, account_id limit 1""", [window_breach[1], event])[0][0]
    facts["new_account"] = new_account

    # An account moved to the consumer of another account (both consumers' signals change).
    moved, target_consumer = _q(con, """
        select a.account_id, b.consumer_id from accounts as a, accounts as b
        where a.account_id not in ($1, $2) and b.account_id not in ($1, $2) and a.consumer_id <> b.consumer_id
            and a.account_id in (select account_id from contacts where channel = 'call' and ts >= (select cutoff from _cut) - interval 7 day)
            and b.account_id in (select account_id from contacts where channel = 'call' and ts >= (select cutoff from _cut) - interval 7 day)
        order by a.account_id, b.account_id limit 1""", [new_account, window_breach[1]])[0]
    facts["moved_account"] = (moved, target_consumer)

    # A consent and an opt-out of accounts that have no other row in the day (so only these rows
    # make them touched), each changing old breaches: the opt-out is the evidence of an opt-out
    # breach, the consent is followed by placed calls in its 7-day window.
    busy = ("account_id not in (select account_id from contacts where ts >= (select cutoff from _cut)) "
            "and account_id not in ($1, $2, $3)")
    quiet = [new_account, window_breach[1], moved]
    preference = _q(con, f"""
        select account_id, json_extract_string(evidence, '$.opt_out.channel'), json_extract_string(evidence, '$.opt_out.at')
        from breaches where rule_id in (select rule_id from breach_rules where kind = 'opt_out') and {busy}
        order by ts, contact_id limit 1""", quiet)[0]
    quiet.append(preference[0])
    consent = _q(con, """
        select g.account_id, g.given_at::varchar from consents as g
        inner join contacts as c on c.account_id = g.account_id and c.ts >= g.given_at
            and c.ts < g.given_at + interval 6 day and c.channel = 'call' and c.direction = 'outbound'
        where g.account_id not in (select account_id from contacts where ts >= (select cutoff from _cut))
            and g.account_id not in ($1, $2, $3, $4)
        group by g.account_id, g.given_at order by count(*) desc, g.account_id limit 1""", quiet)[0]
    facts["consent"], facts["preference"] = consent, preference

    # A base conversation whose turn changes, and the latest conversation (with turns) in the day.
    changed_turn = _q(con, """
        select conversation_id, turn from turns
        where conversation_id in (select conversation_id from conversations
                                  where started_at < (select cutoff from _cut) and account_id <> $1)
            and speaker = 'customer'
        order by conversation_id, turn limit 1""", [new_account])[0]
    last_conversation = _q(con, "select conversation_id from conversations where conversation_id in "
                                "(select conversation_id from turns) order by started_at desc, conversation_id desc limit 1")[0][0]
    facts["changed_turn"], facts["last_conversation"] = changed_turn, last_conversation
    # An account's first conversation (of two or more, all in the base) imported only in the day: in
    # the base its second one is the first (QA rules for the first conversation move between them).
    first, second = _q(con, """
        with ranked as (
            select account_id, conversation_id,
                row_number() over (partition by account_id order by started_at, conversation_id) as n
            from conversations
            where account_id not in (select account_id from conversations where started_at >= (select cutoff from _cut))
                and account_id not in ($1, (select account_id from conversations where conversation_id = $2))
                and conversation_id in (select conversation_id from turns)
        )
        select max(conversation_id) filter (where n = 1), max(conversation_id) filter (where n = 2)
        from ranked group by account_id having count(*) >= 2 order by account_id limit 1""",
                       [new_account, changed_turn[0]])[0]
    facts["first_conversation"] = (first, second)

    # Which rows go into the day: `_day_<table>` holds their keys.
    con.execute("""create table _day_contacts as
        select contact_id from contacts where ts >= (select cutoff from _cut) or account_id = $1
            or (account_id = $2 and ts >= (select ts from contacts where contact_id = $3))""",
                [new_account, window_breach[1], window_breach[0]])
    day_where = {
        "accounts": "account_id = $new",
        "contacts": "contact_id in (select contact_id from _day_contacts)",
        "consents": "account_id = $new or (account_id = $consent_account and given_at = cast($consent_at as timestamptz))",
        "preferences": "account_id = $new or (account_id = $pref_account and channel = $pref_channel "
                       "and opted_out_at = cast($pref_at as timestamptz))",
        "conversations": "account_id = $new or started_at >= (select cutoff from _cut) or conversation_id in ($last, $first)",
        "turns": "conversation_id in (select conversation_id from conversations where account_id = $new "
                 "or started_at >= (select cutoff from _cut) or conversation_id in ($last, $first))",
        "agents": "false",
    }
    params = {"new": new_account, "last": last_conversation, "first": first, "consent_account": consent[0],
              "consent_at": consent[1], "pref_account": preference[0], "pref_channel": preference[1], "pref_at": preference[2]}
    base_dir, day_dir = root / "base", root / "day"
    base_dir.mkdir()
    day_dir.mkdir()
    for name, table in TABLES.items():
        where = day_where.get(name) or (f"account_id = $new or {quote_ident(WHEN[name])} >= (select cutoff from _cut)")
        used = {k: v for k, v in params.items() if f"${k}" in where}
        con.execute(f"create table _day as select * from {quote_ident(name)} where {where}", used)
        con.execute(f"create table _base as select * from {quote_ident(name)} except all select * from _day")
        cols = ", ".join(quote_ident(c.name) for c in table.columns)
        for part, folder in (("_base", base_dir), ("_day", day_dir)):
            if _q(con, f"select count(*) from {part}")[0][0]:
                con.execute(f"copy (select {cols} from {part}) to '{folder / (name + '.csv')}' (header, timestampformat '%Y-%m-%dT%H:%M:%S.%g%z')")
        con.execute("drop table _day")
        con.execute("drop table _base")
    # Replaced rows, appended to the day's files: the event contact unanswered, the account's new
    # consumer, the turn's new text.
    con.execute(f"copy (select * replace ('no_answer' as outcome) from contacts where contact_id = $1) "
                f"to '{root / 'event.csv'}' (header false, timestampformat '%Y-%m-%dT%H:%M:%S.%g%z')", [event])
    con.execute(f"copy (select * replace ($2 as consumer_id) from accounts where account_id = $1) "
                f"to '{root / 'account.csv'}' (header false)", [moved, target_consumer])
    con.execute(f"copy (select * replace ($3 as text) from turns where conversation_id = $1 and turn = $2) "
                f"to '{root / 'turn.csv'}' (header false)", [changed_turn[0], changed_turn[1], CHANGED_TEXT])
    for extra, name in (("event.csv", "contacts.csv"), ("account.csv", "accounts.csv"), ("turn.csv", "turns.csv")):
        with open(day_dir / name, "a", encoding="utf-8") as out:
            out.write((root / extra).read_text(encoding="utf-8"))
    con.close()
    return base_dir, day_dir, facts


@pytest.fixture
def base_db(split, tmp_path):
    """A database holding the base import, fully refreshed; and the split."""
    base_dir, day_dir, facts = split
    path = tmp_path / "books.duckdb"
    con = connect(path)
    result = _import(con, base_dir)
    assert result.quarantined == 0, _q(con, "select table_name, reason, raw from quarantine")
    refresh(con, progress=False, changed=result.changed)  # nothing stored to increment from: full
    assert set(_modes(con).values()) == {"full"}
    yield con, day_dir, facts
    con.close()


def test_the_split_is_a_real_base_and_day(split):
    base_dir, day_dir, facts = split
    for d in (base_dir, day_dir):
        assert (d / "contacts.csv").exists() and (d / "accounts.csv").exists() and (d / "turns.csv").exists()
    assert (day_dir / "consents.csv").exists() and (day_dir / "preferences.csv").exists()


def test_one_more_day_refreshed_incrementally_equals_a_full_rebuild(base_db):
    con, day_dir, facts = base_db
    contact, account, rule = facts["window_breach"]
    assert not _q(con, "select 1 from breaches where contact_id = $1", [contact])
    assert _q(con, "select count(*) from breaches where contact_id = $1 and rule_id = $2", [contact, rule]) == [(0,)]

    first, second = facts["first_conversation"]
    first_only = "select count(*) from qa_results where conversation_id = $1 and rule_id in " \
                 "(select rule_id from qa_rules where applies_to = 'first_conversation')"
    assert _q(con, first_only, [second])[0][0] > 0

    result = _import(con, day_dir)
    assert result.quarantined == 0, _q(con, "select table_name, reason, raw from quarantine")
    changed = result.changed
    assert changed.import_id == 2
    assert {facts["new_account"], account, facts["moved_account"][0], facts["consent"][0], facts["preference"][0]} \
        <= changed.values("account_id")
    assert facts["consent"][0] not in changed.values("account_id", "contacts")
    assert facts["last_conversation"] in changed.values("conversation_id", "conversations")
    assert facts["changed_turn"][0] in changed.values("conversation_id", "turns")
    # the moved account's former consumer is named too, not only its new one
    assert facts["moved_account"][1] in changed.values("consumer_id", "accounts")
    assert len(changed.values("consumer_id", "accounts")) == 3

    by_account = "select count(*), coalesce(sum(hash(contact_id, rule_id)), 0)::varchar from breaches where account_id = $1"
    before = {a: _q(con, by_account, [a]) for a in (facts["consent"][0], facts["preference"][0])}
    refresh(con, progress=False, changed=changed)
    assert set(_modes(con).values()) == {"incremental"}
    incremental_tables = _derived(con)
    # the consent and the opt-out alone changed their accounts' breaches
    assert all(_q(con, by_account, [a]) != b for a, b in before.items())

    # The edge cases did what they should (so the comparison below covers them).
    assert _q(con, "select count(*) from breaches where contact_id = $1 and rule_id = $2", [contact, rule]) == [(1,)]
    assert _q(con, "select count(*) from breaches where evidence like '%' || $1 || '%' and rule_id in "
                   "(select rule_id from breach_rules where kind = 'cooldown_after_event')", [facts["changed_event"]]) == [(0,)]
    assert _q(con, "select count(*) > 0 from conversation_sentiment where account_id = $1", [facts["new_account"]]) == [(True,)]
    assert _q(con, first_only, [second]) == [(0,)] and _q(con, first_only, [first])[0][0] > 0
    assert _q(con, "select count(*) from vulnerability_flags where conversation_id = $1 and turn = $2",
              list(facts["changed_turn"]))[0][0] > 0
    assert _q(con, "select count(*) > 0 from breaches where account_id = $1", [facts["new_account"]]) == [(True,)]

    refresh(con, progress=False)  # the full rebuild of the same data
    assert set(_modes(con).values()) == {"full"}
    full_tables = _derived(con)
    _same(incremental_tables, full_tables)
    assert sum(t.num_rows for t in full_tables.values()) > 1000


def test_one_more_day_through_the_store_takes_the_touched_accounts_old_share_out_of_contact_daily(split, tmp_path):
    # As the ingest command does it: each import writes a new version copied from the previous one
    # (analysis.store), which still holds the touched accounts' rows as they were; contact_daily is
    # then refreshed by difference, not rebuilt, and must equal a full rebuild.
    base_dir, day_dir, _ = split
    path = tmp_path / "books.duckdb"
    import_directory(base_dir, path)
    import_directory(day_dir, path)
    # then an account moves to another team: every group its contacts were in loses them, and a group
    # of its contacts alone (one agent on one day) must go, as a full build would not have it
    con = connect(path, read_only=True)
    account, team = _q(con, """
        select a.account_id, (select min(team) from accounts where team <> a.team)
        from accounts as a join contacts as c using (account_id)
        group by all order by count(*) desc, a.account_id limit 1""")[0]
    moved = tmp_path / "moved"
    moved.mkdir()
    _q(con, f"copy (select * replace ($1 as team) from accounts where account_id = $2) to "
            f"'{moved / 'accounts.csv'}' (header)", [team, account])
    con.close()
    result = import_directory(moved, path)
    assert result.quarantined == 0 and account in result.changed.values("account_id")
    assert result.changed.previous is not None and Path(result.changed.previous) != store_file(path)
    con = connect(path, read_only=True)
    assert get_meta(con, "contact_daily_mode") == "difference"
    assert set(_modes(con).values()) == {"incremental"}
    by_difference = _derived(con)
    con.close()
    again = tmp_path / "full.duckdb"
    shutil.copyfile(store_file(path), again)
    con = connect(again)
    refresh(con, progress=False)
    assert get_meta(con, "contact_daily_mode") == "full"
    _same(by_difference, _derived(con))
    day_rows = _q(con, "select count(*), sum(contacts) from contact_daily")[0]
    assert day_rows[0] > 100 and day_rows[1] == _q(con, "select count(*) from contacts")[0][0]
    assert _q(con, "select count(*) from contact_daily where team = $1", [team])[0][0] > 0
    con.close()


def store_file(path: Path) -> Path:
    from analysis import store

    return store.current(path)


def test_a_changed_rule_set_or_setting_rebuilds_in_full(base_db, tmp_path):
    con, day_dir, facts = base_db
    changed = _import(con, day_dir).changed
    config = Path(__file__).resolve().parent.parent / "config"
    # the same rules but a lower cap for the 7-day rule: another rule set (another sha256)
    rules_file = tmp_path / "rules.toml"
    original = (config / "rules.toml").read_text(encoding="utf-8")
    assert "cap = 7" in original
    rules_file.write_text(original.replace("cap = 7", "cap = 3", 1), encoding="utf-8")
    lower = load_rules(rules_file)
    assert lower.sha256 != load_rules(config / "rules.toml").sha256
    engine.refresh(con, rules=lower, changed=changed)
    signals.refresh(con, consumer_max_calls=3, changed=changed)
    qa_file = tmp_path / "qa_rules.yaml"
    qa_file.write_text((config / "qa_rules.yaml").read_text(encoding="utf-8")
                       + "\n", encoding="utf-8")
    sentiment_conversations.refresh(con, "vader", rules_path=qa_file, changed=changed)
    assert set(_modes(con).values()) == {"full"}
    after = _derived(con)
    engine.refresh(con, rules=lower)
    signals.refresh(con, consumer_max_calls=3)
    sentiment_conversations.refresh(con, "vader", rules_path=qa_file)
    _same(_derived(con), after)
    assert get_meta(con, "rule_set_sha256") == lower.sha256


def test_an_import_left_unrefreshed_makes_the_next_refresh_full(base_db, tmp_path):
    con, day_dir, facts = base_db
    _import(con, day_dir)  # derived tables not refreshed: they now lag one import behind
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(day_dir / "consents.csv", again / "consents.csv")
    changed = _import(con, again).changed
    assert changed.import_id == 3 and changed.tables == frozenset({"consents"})
    assert not incremental.can_increment(con, "breaches", changed)
    refresh(con, progress=False, changed=changed)
    assert set(_modes(con).values()) == {"full"}
    after = _derived(con)
    refresh(con, progress=False)
    _same(_derived(con), after)


def test_an_import_that_changes_nothing_the_steps_read_keeps_every_derived_row(base_db):
    con, day_dir, facts = base_db
    changed = _import(con, day_dir).changed
    refresh(con, progress=False, changed=changed)
    before = _derived(con)
    agents = day_dir.parent / "agents_only"
    agents.mkdir(exist_ok=True)
    con.execute(f"copy (select * from agents limit 3) to '{agents / 'agents.csv'}' (header)")
    changed = _import(con, agents).changed
    assert changed.tables == frozenset({"agents"}) and not changed.values("account_id")
    refresh(con, progress=False, changed=changed)
    # the aggregates put each agent's team on its breaches: an agents import rebuilds them in full
    assert _modes(con) == {"breaches": "incremental", "risk_signals": "incremental", "conversations": "incremental",
                           "aggregates": "full"}
    _same(_derived(con), before)


def test_a_derived_table_made_by_an_older_version_of_the_code_is_rebuilt_in_full(base_db):
    """A database built before a derived table gained a column (here risk_signals without agent_id) must
    not take an incremental refresh into the old columns: the step rebuilds in full, with the new ones."""
    con, day_dir, facts = base_db
    con.execute("alter table risk_signals drop column agent_id")
    changed = _import(con, day_dir).changed
    assert not incremental.can_increment(con, "risk_signals", changed)
    assert incremental.can_increment(con, "breaches", changed)
    refresh(con, progress=False, changed=changed)
    assert _modes(con)["risk_signals"] == "full" and _modes(con)["breaches"] == "incremental"
    after = _derived(con)
    refresh(con, progress=False)
    _same(_derived(con), after)
