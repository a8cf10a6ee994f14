"""The demo builder: deterministic, complete, valid against the contract, and telling its story."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analysis import pipeline
from analysis.demo import build
from analysis.schema import CALL_OUTCOMES, CHANNELS, COMPLAINT_OUTCOMES, COMPLAINT_SOURCES, TABLES

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS = 600
SEED = 3


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build(path, accounts=ACCOUNTS, seed=SEED, progress=False)
    return path


@pytest.fixture(scope="module")
def con(built):
    c = duckdb.connect(str(built), read_only=True)
    c.execute("set TimeZone = 'UTC'")
    yield c
    c.close()


def one(con, sql, params=None):
    cur = con.cursor()
    try:
        return cur.execute(sql, params or []).fetchall()[0][0]
    finally:
        cur.close()


def differing_rows(path_a: Path, path_b: Path, table: str) -> int:
    """Rows in one database's table and not in the other's (both directions, duplicates counted)."""
    c = duckdb.connect()
    c.execute(f"attach '{path_a}' as a (read_only)")
    c.execute(f"attach '{path_b}' as b (read_only)")
    n = c.execute(f"""select (select count(*) from (select * from a.{table} except all select * from b.{table}))
                           + (select count(*) from (select * from b.{table} except all select * from a.{table}))""").fetchall()[0][0]
    c.close()
    return n


def test_the_same_seed_builds_identical_tables(built, tmp_path):
    again = tmp_path / "again.duckdb"
    build(again, accounts=ACCOUNTS, seed=SEED, progress=False)
    for table in TABLES:
        assert differing_rows(built, again, table) == 0, table


def test_a_different_seed_builds_different_data(built, tmp_path):
    other = tmp_path / "other.duckdb"
    build(other, accounts=ACCOUNTS, seed=SEED + 1, progress=False)
    for table in ("accounts", "contacts", "turns", "payments"):
        assert differing_rows(built, other, table) > 0, table


def test_every_contract_table_has_rows(con):
    for table in TABLES:
        assert one(con, f"select count(*) from {table}") > 0, table


def test_keys_are_unique_and_every_reference_resolves(con):
    for table in TABLES.values():
        key = ", ".join(table.key)
        dupes = one(con, f"select count(*) from (select {key} from {table.name} group by all having count(*) > 1)")
        assert dupes == 0, table.name
        if table.references_account:
            orphans = one(con, f"select count(*) from {table.name} t anti join accounts a using (account_id)")
            assert orphans == 0, table.name
    assert one(con, "select count(*) from turns t anti join conversations v using (conversation_id)") == 0
    # A conversation belongs to a contact of the same account, at the same instant, on the same channel.
    assert one(con, """select count(*) from conversations v left join contacts c using (contact_id)
                       where c.contact_id is null or c.account_id <> v.account_id or c.ts <> v.started_at
                          or c.channel <> v.channel""") == 0
    for table in ("contacts", "conversations", "surveys", "promises"):
        assert one(con, f"select count(*) from {table} t where agent_id is not null and agent_id not in (select agent_id from agents)") == 0, table


def test_values_are_in_the_contract_enums_and_ranges(con):
    assert one(con, "select count(*) from contacts where channel not in (select unnest(?))", [list(CHANNELS)]) == 0
    assert one(con, "select count(*) from contacts where direction not in ('inbound', 'outbound')") == 0
    assert one(con, "select count(*) from contacts where channel = 'call' and (outcome is null or outcome not in (select unnest(?)))",
               [list(CALL_OUTCOMES)]) == 0
    # Every call outcome occurs, so rules and dashboards see the whole enum.
    assert one(con, "select count(distinct outcome) from contacts where channel = 'call'") == len(CALL_OUTCOMES)
    assert one(con, "select count(*) from contacts where duration_s < 0") == 0
    assert one(con, "select count(*) from accounts where placed_balance < 0") == 0
    assert one(con, "select count(*) from accounts where timezone not in (select name from pg_timezone_names())") == 0
    assert one(con, "select count(*) from accounts where phone_timezone not in (select name from pg_timezone_names())") == 0
    assert one(con, "select count(*) from turns where speaker not in ('agent', 'customer') or text is null or text = ''") == 0
    assert one(con, "select count(*) from surveys where nps is null and csat is null") == 0
    assert one(con, "select count(*) from surveys where nps not between 0 and 10 or csat not between 1 and 5") == 0
    assert one(con, "select count(*) from complaints where resolved_at < received_at") == 0
    assert one(con, "select count(*) from complaints where source not in (select unnest(?))", [list(COMPLAINT_SOURCES)]) == 0
    assert one(con, "select count(*) from complaints where outcome not in (select unnest(?))", [list(COMPLAINT_OUTCOMES)]) == 0
    assert one(con, "select count(*) from promises where amount <= 0") == 0
    assert one(con, "select count(*) from preferences where channel not in (select unnest(?))", [list(CHANNELS) + ["all"]]) == 0


def test_the_population_has_the_segments_the_rules_and_filters_need(con):
    assert one(con, "select count(*) from accounts where state = 'MA'") > 0
    assert one(con, "select count(*) from accounts where vulnerable") > 0
    assert one(con, "select count(*) from accounts where timezone = 'America/Phoenix'") > 0
    assert one(con, "select count(*) from accounts where phone_timezone <> timezone") > 0
    assert one(con, "select count(*) from accounts where phone is not null") > 0
    assert one(con, "select count(distinct portfolio) from accounts") >= 3
    assert one(con, "select count(distinct team) from accounts") >= 3
    assert one(con, "select count(distinct site) from agents") >= 2
    assert one(con, "select count(distinct consumer_id) from accounts") < ACCOUNTS  # some consumers owe several debts
    assert one(con, "select list(distinct strategy order by strategy) from accounts") == ["challenger", "champion"]
    assert one(con, "select count(*) from preferences where channel = 'all'") > 0
    assert one(con, "select count(*) from payments where amount < 0") > 0
    assert one(con, "select count(*) from complaints where resolved_at is null") > 0
    assert one(con, "select count(*) from complaints where resolved_at - received_at > interval 56 days") > 0
    assert one(con, "select count(*) from complaints where source in ('cfpb', 'ombudsman')") > 0


def test_the_data_spans_more_than_twelve_months_and_ends_on_the_fixed_date(con):
    first, last = con.cursor().execute("select min(ts)::date::varchar, max(ts)::date::varchar from contacts").fetchall()[0]
    assert first <= "2025-10-31" and "2026-10-25" <= last <= "2026-10-31"


def test_meta_records_the_newest_event_and_the_seed(con):
    newest = one(con, """select strftime(max(t), '%Y-%m-%dT%H:%M:%SZ') from (
        select max(ts) t from contacts union all select max(paid_at) from payments
        union all select max(responded_at) from surveys union all select max(received_at) from complaints
        union all select max(resolved_at) from complaints union all select max(created_at) from promises
        union all select max(given_at) from consents union all select max(opted_out_at) from preferences)""")
    assert newest < "2026-11-01"
    assert one(con, "select value from meta where key = 'data_as_of'") == newest
    assert one(con, "select value from meta where key = 'demo_seed'") == str(SEED)


def per_strategy(con, sql) -> dict:
    return dict(con.cursor().execute(sql).fetchall())


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """A larger demo: collections and complaints per account are too noisy to compare at 600 accounts."""
    path = tmp_path_factory.mktemp("story") / "story.duckdb"
    build(path, accounts=5000, seed=SEED, progress=False)
    c = duckdb.connect(str(path), read_only=True)
    yield c
    c.close()


def test_the_challenger_calls_more_breaches_more_collects_more_and_draws_more_complaints(story):
    con = story
    calls = per_strategy(con, """select a.strategy, count(c.contact_id) / count(distinct a.account_id)
        from accounts a left join contacts c on c.account_id = a.account_id and c.channel = 'call' and c.direction = 'outbound'
        group by 1""")
    assert calls["challenger"] > 1.2 * calls["champion"]
    breaches = per_strategy(con, """select a.strategy, (select count(*) from breaches b where b.account_id in
        (select account_id from accounts x where x.strategy = a.strategy)) / count(*) from accounts a group by 1""")
    assert breaches["challenger"] > 1.5 * breaches["champion"]
    collected = per_strategy(con, """select a.strategy, coalesce(sum(p.amount), 0) / count(distinct a.account_id)
        from accounts a left join payments p using (account_id) group by 1""")
    assert collected["challenger"] > collected["champion"]
    complaints = per_strategy(con, """select a.strategy, count(p.complaint_id) / count(distinct a.account_id)
        from accounts a left join complaints p using (account_id) group by 1""")
    assert complaints["challenger"] > complaints["champion"]
    nps = per_strategy(con, """select a.strategy, 100.0 * (count(*) filter (where s.nps >= 9) - count(*) filter (where s.nps <= 6))
        / count(s.nps) from surveys s join accounts a using (account_id) group by 1""")
    assert nps["challenger"] < nps["champion"]


def test_every_rule_of_spec_section_2_is_breached_somewhere(con):
    from analysis.compliance.engine import find_breaches
    from analysis.compliance.rules import load_rules

    found = set(find_breaches(con)["rule_id"])
    assert {r.rule_id for r in load_rules().rules} <= found
    # Some placed calls fall inside a consent window, so the consent exemption is exercised too.
    assert one(con, """select count(*) from contacts c join consents k using (account_id) join accounts a using (account_id)
        where c.channel = 'call' and c.direction = 'outbound' and c.ts >= k.given_at
          and timezone(a.timezone, c.ts)::date <= timezone(a.timezone, k.given_at)::date + 6""") > 0


def test_contacts_follow_the_working_week_and_the_working_day(con):
    local = """select c.*, timezone(a.timezone, c.ts) as lts from contacts c join accounts a using (account_id)
               where c.direction = 'outbound' and c.channel = 'call'"""
    share_in_hours = one(con, f"select avg((hour(lts) between 8 and 20)::int) from ({local})")
    assert 0.95 < share_in_hours < 1.0  # mostly 08-21 local, a few outside
    by_dow = per_strategy(con, f"select dayofweek(lts), count(*) from ({local}) group by 1")  # 0 = Sunday
    assert by_dow[0] < 0.2 * by_dow[3] and by_dow[6] < by_dow[3]
    rpc = per_strategy(con, f"""select hour(lts) >= 17, avg((outcome = 'conversation')::int) from ({local})
                                where hour(lts) between 8 and 20 group by 1""")
    assert rpc[True] > rpc[False]  # people are home in the evening
    assert one(con, "select count(distinct channel) from contacts") == len(CHANNELS)
    assert one(con, "select count(*) from contacts where direction = 'inbound'") > 0


def test_transcripts_alternate_speakers_and_vary(con):
    assert one(con, "select count(*) from turns where (turn % 2 = 1) <> (speaker = 'agent')") == 0
    lengths = con.cursor().execute("select min(n), max(n) from (select count(*) n from turns group by conversation_id)").fetchall()[0]
    assert lengths[0] >= 4 and lengths[1] <= 12
    firsts = "select text from turns where turn = 1"
    with_miranda = one(con, f"select avg((text ilike '%attempt to collect a debt%')::int) from ({firsts})")
    assert 0.75 < with_miranda < 1.0  # most agents disclose, some miss it
    assert one(con, "select count(*) from turns where speaker = 'agent' and regexp_matches(text, 'arrested|jail|sheriff|damn|bullshit')") > 0
    assert one(con, "select count(*) from turns where speaker = 'customer' and regexp_matches(text, 'hospital|passed away|lost my job|depression|benefits')") > 0
    # Fragments are combined, so the middle of a conversation is not a handful of stock lines.
    assert one(con, "select count(distinct text) from turns where turn > 2") >= 150
    assert one(con, "select count(*) from surveys where comment is not null") > 0
    assert one(con, "select count(distinct comment) from surveys") >= 5


def test_promises_are_kept_late_and_broken(con):
    kept = """select p.promise_id, (select min(y.paid_at)::date from payments y where y.account_id = p.account_id
                  and y.paid_at >= p.created_at and y.amount >= p.amount) as first_full
              from promises p where p.due_date + 30 < date '2026-10-31'"""
    rows = per_strategy(con, f"""select case when first_full is null then 'broken' when first_full <= due_date + 3 then 'kept'
                                             else 'late' end, count(*) from ({kept}) k join promises using (promise_id) group by 1""")
    assert rows.get("kept", 0) > 0 and rows.get("late", 0) > 0 and rows.get("broken", 0) > 0


def test_a_failed_build_leaves_the_previous_database_and_no_temp_file(built, tmp_path, monkeypatch):
    target = tmp_path / "keep.duckdb"
    target.write_bytes(built.read_bytes())
    before = target.read_bytes()
    # A derived step that fails stands in for any failure after loading has begun.
    monkeypatch.setattr(pipeline, "STEPS", pipeline.STEPS + [("boom", "tests.test_demo:_failing_step")])
    with pytest.raises(RuntimeError, match="step failed"):
        build(target, accounts=50, seed=1, progress=False)
    assert target.read_bytes() == before
    assert not any(p.name.endswith((".tmp", ".tmp.wal")) for p in tmp_path.iterdir())


def _failing_step(con):
    raise RuntimeError("step failed")


@pytest.mark.parametrize("args, message", [
    (["--db", "{tmp}/missing/x.duckdb", "--accounts", "20"], "does not exist"),
    (["--db", "{tmp}", "--accounts", "20"], "is a directory"),
    (["--db", "{tmp}/x.duckdb", "--accounts", "3"], "too small"),
    (["--db", "{tmp}/x.duckdb", "--seed", "-1"], "negative"),
])
def test_the_command_line_reports_a_mistake_in_one_line_and_writes_nothing(tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    out = subprocess.run([sys.executable, "-m", "analysis", "demo", *args], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and message in out.stderr and "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_builds_a_small_database_and_replaces_an_older_one(tmp_path):
    db = tmp_path / "cli.duckdb"
    for accounts in (40, 30):
        out = subprocess.run([sys.executable, "-m", "analysis", "demo", "--db", str(db), "--accounts", str(accounts),
                              "--seed", "5", "--quiet"], cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        c = duckdb.connect(str(db), read_only=True)
        assert c.execute("select count(*) from accounts").fetchall()[0][0] == accounts
        c.close()
    # The path is a link to the current version (analysis.store): beside it only the store's lock and
    # versions folder, which holds that one version (the first, unused, is gone) and no temp or WAL file.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cli.duckdb.lock", ".cli.duckdb.versions", "cli.duckdb"]
    assert [p.name for p in (tmp_path / ".cli.duckdb.versions").iterdir()] == [db.resolve().name]
