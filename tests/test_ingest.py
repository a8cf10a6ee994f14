"""The importer against real files and a real DuckDB database (SPEC section 1)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analysis.errors import UserError
from analysis.ingest import import_directory, phone_zone
from analysis.schema import TABLES, create_schema

ROOT = Path(__file__).resolve().parent.parent

ACCOUNTS = """account_id,consumer_id,placed_date,placed_balance,timezone
A1,C1,2025-01-02,100.00,America/New_York
A2,C2,2025-02-03,250.50,America/Chicago
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def ingest(directory: Path, db: Path, **kwargs):
    return import_directory(directory, db, refresh=False, **kwargs)


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def quarantine(db: Path, table: str) -> list[tuple]:
    return query(db, "select line, reason, raw from quarantine where table_name = ? order by line", [table])


def utc(db: Path, sql: str) -> list[str]:
    """Timestamps as ISO UTC text (fetching TIMESTAMPTZ into Python would need pytz)."""
    return [r[0] for r in query(db, f"select strftime(timezone('UTC', x), '%Y-%m-%dT%H:%M:%SZ') from ({sql}) as t(x)")]


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every contract table's rows, sorted, as text: for 'nothing changed' comparisons."""
    out = {}
    for name in TABLES:
        out[name] = query(db, f"select * from (select columns(*)::varchar from {name}) order by all")
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_counts(result) -> None:
    for f in result.files:
        assert f.read == f.loaded + f.quarantined, f


# ---------------------------------------------------------------------------------------------
# Bad rows: each lands in quarantine with its reason and physical line; the good rows load
# ---------------------------------------------------------------------------------------------

CONTACTS_HEADER = "contact_id,account_id,ts,channel,direction,outcome,agent_id,duration_s\n"
GOOD_CONTACT = "K0,A1,2026-03-09T14:05:00Z,call,outbound,conversation,ag1,30\n"

BAD_ROWS = [
    # (table, header, bad row, expected reason fragment)
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,,2026-03-09T14:05:00Z,call,outbound,busy,,", "account_id: required value missing"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,   ,call,outbound,busy,,", "ts: required value missing"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A9,2026-03-09T14:05:00Z,call,outbound,busy,,", "account_id: unknown account"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00Z,fax,outbound,busy,,", "channel: must be one of"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00Z,call,sideways,busy,,", "direction: must be one of"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00Z,call,outbound,,,", "outcome: required for calls"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00Z,call,outbound,sent,,", "outcome: must be one of"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00Z,call,outbound,busy,,4.5", "duration_s: not a whole number"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00Z,call,outbound,busy,,-3", "duration_s: must be at least 0"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,09/03/2026 14:05,call,outbound,busy,,", "ts: not an ISO 8601 timestamp"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-02-30T14:05:00Z,call,outbound,busy,,", "ts: not an ISO 8601 timestamp"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00,call,outbound,busy,,", "ts: timestamp without UTC offset"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K0,A1,2026-03-09T15:05:00Z,sms,outbound,,,", "duplicate key (contact_id)"),
    ("contacts", CONTACTS_HEADER + GOOD_CONTACT, "K1,A1,2026-03-09T14:05:00Z,call,outbound,busy,,,surplus", "malformed row"),
    ("accounts", ACCOUNTS, "A3,C3,2025-01-02,-0.01,America/New_York", "placed_balance: must be at least 0"),
    ("accounts", ACCOUNTS, "A3,C3,2025-01-02,10.005,America/New_York", "placed_balance: not an amount with at most 2 decimal places"),
    ("accounts", ACCOUNTS, "A3,C3,2025-1-2,10,America/New_York", "placed_date: not a date YYYY-MM-DD"),
    ("accounts", ACCOUNTS, "A3,C3,2025-01-02,10,Eastern Time", "timezone: not an IANA time zone name"),
    ("accounts", ACCOUNTS, "A3,,2025-01-02,10,America/New_York", "consumer_id: required value missing"),
    ("accounts", ACCOUNTS, "A1,C9,2025-01-02,10,America/New_York", "duplicate key (account_id)"),
    ("surveys", "response_id,account_id,responded_at,nps,csat\nS0,A1,2026-03-09T10:00:00Z,9,\n",
     "S1,A1,2026-03-09T10:00:00Z,,", "nps or csat: at least one is required"),
    ("surveys", "response_id,account_id,responded_at,nps,csat\nS0,A1,2026-03-09T10:00:00Z,9,\n",
     "S1,A1,2026-03-09T10:00:00Z,11,", "nps: must be at most 10"),
    ("surveys", "response_id,account_id,responded_at,nps,csat\nS0,A1,2026-03-09T10:00:00Z,9,\n",
     "S1,A1,2026-03-09T10:00:00Z,,0", "csat: must be at least 1"),
    ("complaints", "complaint_id,account_id,received_at,resolved_at,source\nP0,A1,2026-03-01T10:00:00Z,2026-03-02T10:00:00Z,cfpb\n",
     "P1,A1,2026-03-05T10:00:00Z,2026-03-04T10:00:00Z,", "resolved_at: before received_at"),
    ("complaints", "complaint_id,account_id,received_at,resolved_at,source\nP0,A1,2026-03-01T10:00:00Z,2026-03-02T10:00:00Z,cfpb\n",
     "P1,A1,2026-03-05T10:00:00Z,,newspaper", "source: must be one of"),
    ("promises", "promise_id,account_id,created_at,due_date,amount\nR0,A1,2026-03-01T10:00:00Z,2026-03-10,50\n",
     "R1,A1,2026-03-01T10:00:00Z,2026-03-10,0", "amount: must be greater than 0"),
    ("preferences", "account_id,channel,opted_out_at\nA1,all,2026-03-01T10:00:00Z\n",
     "A2,pigeon,2026-03-01T10:00:00Z", "channel: must be one of"),
    ("turns", "conversation_id,turn,speaker,text\nV1,1,agent,Hello\n", "V1,2,robot,Hi", "speaker: must be one of"),
    ("accounts", "account_id,consumer_id,placed_date,placed_balance,timezone,vulnerable\n"
                 "A1,C1,2025-01-02,100.00,America/New_York,no\nA2,C2,2025-02-03,250.50,America/Chicago,YES\n",
     "A3,C3,2025-01-02,10,America/New_York,perhaps", "vulnerable: not a boolean"),
]


@pytest.mark.parametrize("table,header,bad,reason", BAD_ROWS, ids=[f"{b[0]}: {b[3]}" for b in BAD_ROWS])
def test_each_kind_of_bad_row_is_quarantined_with_its_reason_and_line_while_good_rows_load(tmp_path, table, header, bad, reason):
    # `header` is the file's header and good rows; the bad row comes last
    src = tmp_path / "in"
    write(src, f"{table}.csv", header + bad + "\n")
    if table != "accounts":
        write(src, "accounts.csv", ACCOUNTS)
    bad_line = header.count("\n") + 1
    db = tmp_path / "db.duckdb"
    result = ingest(src, db)
    check_counts(result)
    rows = quarantine(db, table)
    assert len(rows) == 1, rows
    line, got_reason, raw = rows[0]
    assert reason in got_reason
    assert line == bad_line
    assert raw == bad  # the raw text is the row as written
    by_table = {f.table: f for f in result.files}
    assert by_table[table].quarantined == 1
    assert by_table[table].loaded == by_table[table].read - 1 >= 1


def test_line_numbers_count_physical_lines_when_quoted_text_spans_lines_and_after_a_malformed_row(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    write(src, "turns.csv", (
        "conversation_id,turn,speaker,text\n"       # 1
        'V1,1,agent,"Hello,\nthis is a call\nfrom the firm"\n'  # 2-4
        "V1,2,customer,ok\n"                         # 5
        "V1,3,customer,too,many,fields\n"            # 6: malformed
        'V1,4,agent,"one\nmore"\n'                   # 7-8
        "V1,five,agent,bad turn\n"                   # 9
        "\n"                                         # 10: blank, skipped
        "V1,6,robot,bad speaker\n"                   # 11
    ))
    db = tmp_path / "db.duckdb"
    result = ingest(src, db)
    check_counts(result)
    rows = quarantine(db, "turns")
    assert [(line, reason.split(":")[0]) for line, reason, _ in rows] == [(6, "malformed row"), (9, "turn"), (11, "speaker")]
    # turn text is kept exactly as given, line breaks included
    assert query(db, "select text from turns where turn = 1")[0][0] == "Hello,\nthis is a call\nfrom the firm"


def test_rows_read_equal_rows_loaded_plus_quarantined_and_are_printed_per_file(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS + "A3,C3,bad,1,UTC\n")
    write(src, "contacts.csv", CONTACTS_HEADER + GOOD_CONTACT + "K1,A9,2026-03-09T14:05:00Z,sms,outbound,,,\n")
    db = tmp_path / "db.duckdb"
    result = ingest(src, db)
    check_counts(result)
    assert [(f.file, f.read, f.loaded, f.quarantined) for f in result.files] == [
        ("accounts.csv", 3, 2, 1), ("contacts.csv", 2, 1, 1)]
    log = query(db, "select file, rows_read, rows_loaded, rows_quarantined from import_log order by file")
    assert log == [("accounts.csv", 3, 2, 1), ("contacts.csv", 2, 1, 1)]


# ---------------------------------------------------------------------------------------------
# Values: types, defaults, normalisation
# ---------------------------------------------------------------------------------------------

def test_values_are_typed_normalised_and_defaulted_as_the_contract_says(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", (
        "Account_ID , consumer_id,placed_date,placed_balance,timezone,state,vulnerable,notes\n"
        "A1,C1,2025-01-02,1250.5,America/New_York, ma ,YES,ignored\n"
        "A2,C2,2025-01-02,0,America/Chicago,tx,0,ignored\n"
        "A3,C3,2025-01-02,.25,America/Chicago,,,ignored\n"
    ))
    write(src, "contacts.csv", CONTACTS_HEADER + (
        "K1,A1,2026-03-09T14:05:00Z,Call,OUTBOUND, Busy ,,\n"
        "K2,A1,2026-03-09T14:05:00Z,sms,outbound,,,\n"
        "K3,A1,2026-03-09T14:05:00Z,email,inbound,,,\n"
        "K4,A1,2026-03-09T14:05:00Z,letter,outbound,returned to sender,,\n"
    ))
    write(src, "complaints.csv", "complaint_id,account_id,received_at\nP1,A2,2026-03-01T10:00:00Z\n")
    db = tmp_path / "db.duckdb"
    result = ingest(src, db)
    assert result.quarantined == 0, quarantine(db, "accounts") + quarantine(db, "contacts")
    assert query(db, "select account_id, placed_balance::varchar, state, vulnerable from accounts order by 1") == [
        ("A1", "1250.50", "MA", True), ("A2", "0.00", "TX", False), ("A3", "0.25", None, False)]
    assert query(db, "select contact_id, channel, direction, outcome from contacts order by 1") == [
        ("K1", "call", "outbound", "busy"), ("K2", "sms", "outbound", "sent"),
        ("K3", "email", "inbound", "received"), ("K4", "letter", "outbound", "returned to sender")]
    assert query(db, "select source from complaints") == [("consumer",)]


def test_timestamps_with_z_and_with_offsets_are_stored_as_the_same_instant(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    write(src, "contacts.csv", CONTACTS_HEADER + (
        "K1,A1,2026-03-08T14:05:00Z,sms,outbound,,,\n"
        "K2,A1,2026-03-08T19:35:00+05:30,sms,outbound,,,\n"
        "K3,A1,2026-03-08T09:05:00-0500,sms,outbound,,,\n"
        "K4,A1,2026-03-08 14:05:00.250+00,sms,outbound,,,\n"
    ))
    db = tmp_path / "db.duckdb"
    ingest(src, db)
    assert utc(db, "select ts from contacts order by contact_id") == ["2026-03-08T14:05:00Z"] * 4
    assert query(db, "select value from meta where key = 'data_as_of'") == [("2026-03-08T14:05:00Z",)]


def test_naive_times_are_read_in_the_assumed_zone_across_both_daylight_saving_changes(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    write(src, "contacts.csv", CONTACTS_HEADER + (
        "K1,A1,2026-03-08T01:59:59,sms,outbound,,,\n"   # EST, one second before the spring change
        "K2,A1,2026-03-08T02:30:00,sms,outbound,,,\n"   # does not exist in New York: quarantined
        "K3,A1,2026-03-08T03:00:00,sms,outbound,,,\n"   # EDT
        "K4,A1,2026-11-01T01:30:00,sms,outbound,,,\n"   # happens twice: the earlier (EDT) instant
        "K5,A1,2026-11-01T02:00:00,sms,outbound,,,\n"   # EST again
        "K6,A1,2026-07-01T12:00:00+05:30,sms,outbound,,,\n"  # an explicit offset wins over the assumed zone
    ))
    db = tmp_path / "db.duckdb"
    result = ingest(src, db, assume_timezone="America/New_York")
    check_counts(result)
    assert utc(db, "select ts from contacts order by contact_id") == [
        "2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z", "2026-07-01T06:30:00Z"]
    [(line, reason, _)] = quarantine(db, "contacts")
    assert line == 3 and "does not exist in the assumed zone" in reason


def test_an_unknown_assumed_zone_is_a_user_error(tmp_path):
    write(tmp_path / "in", "accounts.csv", ACCOUNTS)
    with pytest.raises(UserError, match="not an IANA time zone"):
        ingest(tmp_path / "in", tmp_path / "db.duckdb", assume_timezone="Eastern")


def test_phone_zone_comes_from_the_number_when_only_one_zone_fits():
    assert phone_zone("+1 212 555 1234") == "America/New_York"
    assert phone_zone("(312) 555-0000") == "America/Chicago"  # national numbers read as US
    assert phone_zone("+44 20 7946 0000") == "Europe/London"
    assert phone_zone("+1 208 555 1234") is None  # Idaho's area code spans two zones
    assert phone_zone("+1 800 555 1234") is None  # toll-free: no area
    assert phone_zone("not a number") is None


PHONE_ACCOUNTS = (
    "account_id,consumer_id,placed_date,placed_balance,timezone,phone,phone_timezone\n"
    "A1,C1,2025-01-02,1,America/Chicago,+12125551234,\n"
    "A2,C2,2025-01-02,1,America/Chicago,(312) 555-0000,\n"
    "A3,C3,2025-01-02,1,America/Chicago,+12125551234,America/Denver\n"
    "A4,C4,2025-01-02,1,America/Chicago,+18005551234,\n"
    "A5,C5,2025-01-02,1,America/Chicago,,\n"
)


def test_with_derive_phone_zones_a_phone_without_phone_timezone_gets_the_numbers_zone_and_given_zones_are_kept(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", PHONE_ACCOUNTS)
    db = tmp_path / "db.duckdb"
    ingest(src, db, derive_phone_zones=True)
    assert query(db, "select account_id, phone_timezone from accounts order by 1") == [
        ("A1", "America/New_York"), ("A2", "America/Chicago"), ("A3", "America/Denver"), ("A4", None), ("A5", None)]


def test_by_default_the_phone_column_leaves_phone_timezone_as_given(tmp_path):
    # SPEC section 1 names no phone column ("extra columns are ignored") and rule 3 uses the phone
    # zone only "when given": a derived zone would add inconvenient_time breaches the contract has not.
    src = tmp_path / "in"
    write(src, "accounts.csv", PHONE_ACCOUNTS)
    db = tmp_path / "db.duckdb"
    ingest(src, db)
    assert query(db, "select account_id, phone_timezone from accounts order by 1") == [
        ("A1", None), ("A2", None), ("A3", "America/Denver"), ("A4", None), ("A5", None)]
    again = tmp_path / "cli.duckdb"
    done = cli(str(src), "--db", str(again), "--derive-phone-zones")
    assert done.returncode == 0, done.stderr
    assert query(again, "select phone_timezone from accounts where account_id = 'A1'") == [("America/New_York",)]


# ---------------------------------------------------------------------------------------------
# Re-import and upsert
# ---------------------------------------------------------------------------------------------

def full_directory(directory: Path) -> None:
    write(directory, "accounts.csv", ACCOUNTS)
    write(directory, "contacts.csv", CONTACTS_HEADER + GOOD_CONTACT + "K1,A2,2026-03-09T16:00:00Z,sms,outbound,,,\n")
    write(directory, "consents.csv", "account_id,given_at\nA1,2026-03-01T10:00:00Z\n")
    write(directory, "preferences.csv", "account_id,channel,opted_out_at\nA1,sms,2026-03-02T10:00:00Z\n")
    write(directory, "agents.csv", "agent_id,team,site,name\nag1,T1,S1,Ann\n")
    write(directory, "conversations.csv", "conversation_id,account_id,started_at,channel,agent_id,contact_id\nV1,A1,2026-03-09T14:05:00Z,call,ag1,K0\n")
    write(directory, "turns.csv", "conversation_id,turn,speaker,text\nV1,1,agent,Hello\nV1,2,customer,Hi\n")
    write(directory, "surveys.csv", "response_id,account_id,responded_at,nps,csat,comment\nS1,A1,2026-03-10T10:00:00Z,9,5,fine\n")
    write(directory, "complaints.csv", "complaint_id,account_id,received_at,resolved_at,outcome,redress_amount\nP1,A2,2026-03-03T10:00:00Z,2026-03-20T10:00:00Z,upheld,25\n")
    write(directory, "payments.csv", "payment_id,account_id,paid_at,amount,method\nY1,A1,2026-03-11T10:00:00Z,50,card\nY2,A1,2026-03-12T10:00:00Z,-50,card\n")
    write(directory, "promises.csv", "promise_id,account_id,created_at,due_date,amount\nR1,A1,2026-03-09T14:10:00Z,2026-03-15,50\n")


def test_all_eleven_tables_load_and_importing_the_same_files_again_changes_nothing(tmp_path):
    src = tmp_path / "in"
    full_directory(src)
    db = tmp_path / "db.duckdb"
    first = ingest(src, db)
    assert len(first.files) == 11 and first.quarantined == 0
    before = snapshot(db)
    assert all(before[name] for name in TABLES)
    second = ingest(src, db)
    assert second.import_id == first.import_id + 1
    assert snapshot(db) == before


def test_a_row_whose_key_exists_is_replaced_by_the_newer_version(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    db = tmp_path / "db.duckdb"
    ingest(src, db)
    newer = tmp_path / "newer"
    write(newer, "accounts.csv", "account_id,consumer_id,placed_date,placed_balance,timezone\nA2,C2,2025-02-03,99.99,America/Denver\nA3,C3,2025-03-01,5,UTC\n")
    ingest(newer, db)
    assert query(db, "select account_id, placed_balance::varchar, timezone from accounts order by 1") == [
        ("A1", "100.00", "America/New_York"), ("A2", "99.99", "America/Denver"), ("A3", "5.00", "UTC")]


def test_a_small_update_of_a_bigger_table_replaces_its_row_and_keeps_the_others(tmp_path):
    # fewer rows than the table holds: the upsert path (a file as big as the table rebuilds it instead)
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS + "A3,C3,2025-03-01,7,UTC\n")
    db = tmp_path / "db.duckdb"
    ingest(src, db)
    write(tmp_path / "newer", "accounts.csv", "account_id,consumer_id,placed_date,placed_balance,timezone\nA1,C1,2025-01-02,1.25,UTC\n")
    ingest(tmp_path / "newer", db)
    assert query(db, "select account_id, placed_balance::varchar, timezone from accounts order by 1") == [
        ("A1", "1.25", "UTC"), ("A2", "250.50", "America/Chicago"), ("A3", "7.00", "UTC")]


def test_every_table_keeps_the_schemas_definition_and_primary_key_after_imports(tmp_path):
    # the importer recreates a table to build its key in one pass: it must come out as schema.py makes it
    src = tmp_path / "in"
    full_directory(src)
    db = tmp_path / "db.duckdb"
    reference = duckdb.connect()
    create_schema(reference)
    expected = reference.execute("select table_name, sql from duckdb_tables() order by 1").fetchall()
    expected_keys = reference.execute("select table_name, constraint_text from duckdb_constraints() "
                                      "where constraint_type = 'PRIMARY KEY' order by 1").fetchall()
    reference.close()
    for _ in range(2):  # first import, then a re-import of every key
        ingest(src, db)
        assert query(db, "select table_name, sql from duckdb_tables() order by 1") == expected
        assert query(db, "select table_name, constraint_text from duckdb_constraints() "
                         "where constraint_type = 'PRIMARY KEY' order by 1") == expected_keys
    con = duckdb.connect(str(db))
    try:
        with pytest.raises(duckdb.ConstraintException):
            con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance) "
                        "select account_id, consumer_id, placed_date, placed_balance from accounts limit 1")
    finally:
        con.close()


def test_a_directory_without_accounts_imports_into_a_database_that_has_them(tmp_path):
    db = tmp_path / "db.duckdb"
    write(tmp_path / "first", "accounts.csv", ACCOUNTS)
    ingest(tmp_path / "first", db)
    write(tmp_path / "second", "payments.csv", "payment_id,account_id,paid_at,amount\nY1,A2,2026-03-11T10:00:00Z,12.5\n")
    result = ingest(tmp_path / "second", db)
    assert [(f.file, f.loaded) for f in result.files] == [("payments.csv", 1)]


def test_parquet_files_load_like_csv_and_their_bad_rows_carry_the_row_number(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    con = duckdb.connect()
    con.execute(f"""copy (select * from (values ('A1', 'C1', date '2025-01-02', 100.0, 'America/New_York'),
                                                ('A2', 'C2', date '2025-01-02', -5.0, 'America/New_York'))
                         as t(account_id, consumer_id, placed_date, placed_balance, timezone))
                    to '{src / "accounts.parquet"}' (format parquet)""")
    con.execute(f"""copy (select * from (values ('K1', 'A1', timestamptz '2026-03-09 14:05:00+00', 'call', 'outbound', 'busy'))
                         as t(contact_id, account_id, ts, channel, direction, outcome))
                    to '{src / "contacts.parquet"}' (format parquet)""")
    con.close()
    db = tmp_path / "db.duckdb"
    result = ingest(src, db)
    check_counts(result)
    assert [(f.file, f.loaded, f.quarantined) for f in result.files] == [("accounts.parquet", 1, 1), ("contacts.parquet", 1, 0)]
    assert [(line, reason) for line, reason, _ in quarantine(db, "accounts")] == [(2, "placed_balance: must be at least 0")]
    assert utc(db, "select ts from contacts") == ["2026-03-09T14:05:00Z"]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_in_a_file_read_in_parallel_bad_rows_keep_their_lines_and_the_first_of_a_duplicate_key_is_kept(tmp_path, kind):
    # 400,000 rows (~25 MB of CSV, several Parquet row groups) are read by several threads; the
    # importer takes each row's position from the order DuckDB keeps, so lines and "first kept"
    # must come out as in a file read row by row.
    n, bad_at, dup_of = 400_000, 312_345, 7
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"""
        create table rows as
        select i, 'K' || i as contact_id, 'A' || (1 + i % 2) as account_id,
               case when i = {bad_at} then 'yesterday' else strftime(timestamp '2026-03-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%SZ') end as ts,
               case when i = {n} then 'sms' else 'call' end as channel, 'outbound' as direction, 'no_answer' as outcome
        from range({n + 1}) as t(i)""")
    con.execute(f"update rows set contact_id = 'K{dup_of}' where contact_id = 'K{n}'")  # the last row repeats an early key
    options = "(header, delimiter ',')" if kind == "csv" else "(format parquet, row_group_size 50000)"
    con.execute(f"copy (select * exclude (i) from rows order by i) to '{src / ('contacts.' + kind)}' {options}")
    con.close()
    db = tmp_path / "db.duckdb"
    result = ingest(src, db)
    check_counts(result)
    rows = quarantine(db, "contacts")
    assert [(line, reason.split(":")[0]) for line, reason, _ in rows] == [(bad_at + 2 if kind == "csv" else bad_at + 1, "ts"),
                                                                          (n + 2 if kind == "csv" else n + 1, "duplicate key (contact_id)")]
    assert rows[0][2].startswith(f"K{bad_at},") and rows[1][2].startswith(f"K{dup_of},A")
    assert query(db, f"select channel from contacts where contact_id = 'K{dup_of}'") == [("call",)]
    assert query(db, "select count(*) from contacts") == [(n - 1,)]


# ---------------------------------------------------------------------------------------------
# All or nothing
# ---------------------------------------------------------------------------------------------

def test_a_missing_required_column_fails_the_import_naming_file_and_column_and_leaves_the_file_untouched(tmp_path):
    db = tmp_path / "db.duckdb"
    full_directory(tmp_path / "first")
    ingest(tmp_path / "first", db)
    digest = sha256(db)
    bad = tmp_path / "bad"
    write(bad, "accounts.csv", ACCOUNTS.replace("A1,C1", "A7,C7"))
    write(bad, "payments.csv", "payment_id,account_id,amount\nY9,A1,5\n")
    with pytest.raises(UserError) as err:
        ingest(bad, db)
    message = str(err.value)
    assert "payments.csv" in message and "'paid_at'" in message and "\n" not in message
    assert sha256(db) == digest


def test_an_unreadable_file_fails_the_import_and_leaves_the_database_file_untouched(tmp_path):
    db = tmp_path / "db.duckdb"
    full_directory(tmp_path / "first")
    ingest(tmp_path / "first", db)
    digest = sha256(db)
    bad = tmp_path / "bad"
    write(bad, "accounts.csv", ACCOUNTS.replace("A1,C1", "A7,C7"))
    (bad / "contacts.parquet").write_bytes(b"this is not parquet at all")
    with pytest.raises(UserError, match="cannot read .*contacts.parquet"):
        ingest(bad, db)
    assert sha256(db) == digest


def test_a_failure_while_loading_rolls_back_every_table_of_the_import(tmp_path):
    db = tmp_path / "db.duckdb"
    full_directory(tmp_path / "first")
    ingest(tmp_path / "first", db)
    before = snapshot(db)
    log_before = query(db, "select count(*) from import_log")
    digest = sha256(db)
    # A Parquet file whose footer is intact (so its columns check out) but whose data pages are
    # damaged: the read fails after accounts.csv has been loaded in the same transaction.
    bad = tmp_path / "bad"
    write(bad, "accounts.csv", ACCOUNTS.replace("A1,C1", "A7,C7"))
    con = duckdb.connect()
    con.execute(f"""copy (select 'K' || i as contact_id, 'A1' as account_id, '2026-03-09T14:05:00Z' as ts, 'sms' as channel,
                                 'outbound' as direction, repeat(md5(i::varchar), 20) as outcome
                          from range(20000) t(i))
                    to '{bad / "contacts.parquet"}' (format parquet, compression zstd, row_group_size 5000)""")
    con.close()
    data = bytearray((bad / "contacts.parquet").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = bytes(4096)
    (bad / "contacts.parquet").write_bytes(bytes(data))
    with pytest.raises(UserError, match="cannot read .*contacts.parquet.*nothing was imported"):
        ingest(bad, db)
    assert snapshot(db) == before
    assert query(db, "select count(*) from import_log") == log_before
    assert sha256(db) == digest  # rolled back before anything reached the file


def test_a_failed_import_into_a_new_database_leaves_no_database_file(tmp_path):
    bad = tmp_path / "bad"
    write(bad, "contacts.csv", CONTACTS_HEADER + GOOD_CONTACT)
    db = tmp_path / "new.duckdb"
    with pytest.raises(UserError, match="accounts"):
        ingest(bad, db)
    assert not db.exists()


@pytest.mark.parametrize("setup,fragment", [
    (lambda d: None, "does not exist"),
    (lambda d: d.mkdir(), "has no table files"),
    (lambda d: write(d, "notes.txt", "hello"), "has no table files"),
    (lambda d: (write(d, "accounts.csv", ACCOUNTS), write(d, "accounts.parquet", "x")), "keep one file per table"),
    (lambda d: write(d, "accounts.csv", ""), "the file is empty"),
])
def test_directory_mistakes_are_one_line_user_errors(tmp_path, setup, fragment):
    src = tmp_path / "in"
    setup(src)
    with pytest.raises(UserError, match=fragment) as err:
        ingest(src, tmp_path / "db.duckdb")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "db.duckdb").exists()


def test_a_missing_database_folder_is_a_user_error(tmp_path):
    write(tmp_path / "in", "accounts.csv", ACCOUNTS)
    with pytest.raises(UserError, match="does not exist: create"):
        ingest(tmp_path / "in", tmp_path / "nowhere" / "db.duckdb")


# ---------------------------------------------------------------------------------------------
# Command line (a real subprocess, derived tables refreshed)
# ---------------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "analysis", "ingest", *args, "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_command_prints_per_file_counts_and_exits_zero(tmp_path):
    src = tmp_path / "in"
    full_directory(src)
    write(src, "payments.csv", "payment_id,account_id,paid_at,amount,method\nY1,A1,2026-03-11T10:00:00Z,50,card\nY2,A9,2026-03-12T10:00:00Z,-50,card\n")
    done = cli(str(src), "--db", str(tmp_path / "db.duckdb"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.strip()}
    assert lines["payments.csv"] == ["2", "1", "1"]
    assert lines["accounts.csv"] == ["2", "2", "0"]
    assert lines["total"] == ["15", "14", "1"]


@pytest.mark.parametrize("make,fragment", [
    (lambda p: write(p / "in", "accounts.csv", "account_id,consumer_id,placed_date,timezone\nA1,C1,2025-01-02,UTC\n"),
     "accounts.csv: required column 'placed_balance' is missing"),
    (lambda p: None, "does not exist"),
])
def test_the_command_reports_a_mistake_in_one_line_with_exit_status_2(tmp_path, make, fragment):
    make(tmp_path)
    done = cli(str(tmp_path / "in"), "--db", str(tmp_path / "db.duckdb"))
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "db.duckdb").exists()


# ---------------------------------------------------------------------------------------------
# Round trip with the demo builder's data
# ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_demo_database_exported_as_csv_imports_back_row_for_row(tmp_path):
    # The demo builder writes the contract tables directly; exporting them in the SPEC's file format
    # and importing them must give the same rows, so the two agree on every type and rule.
    demo = tmp_path / "demo.duckdb"
    done = subprocess.run([sys.executable, "-m", "analysis", "demo", "--db", str(demo), "--accounts", "300", "--quiet"],
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "csv"
    out.mkdir()
    con = duckdb.connect(str(demo), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    for name, table in TABLES.items():
        cols = ", ".join(f"strftime(timezone('UTC', {c.name}), '%Y-%m-%dT%H:%M:%S.%fZ') as {c.name}" if c.type == "timestamp"
                         else c.name for c in table.columns)
        con.execute(f"copy (select {cols} from {name}) to '{out / (name + '.csv')}' (header)")
    con.close()
    back = tmp_path / "back.duckdb"
    result = ingest(out, back)
    assert result.quarantined == 0 and len(result.files) == 11
    original, imported = snapshot(demo), snapshot(back)
    assert original["accounts"]
    for name in TABLES:
        assert imported[name] == original[name], name


def test_the_readme_import_command_runs_on_the_shipped_example(tmp_path):
    # Docs are tested: the README's command, as written, except that the database goes to tmp_path.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Importing your data", 1)[1].split("\n## ", 1)[0]
    command = next(line for line in section.splitlines() if " -m analysis ingest " in line).split()
    assert command[:4] == [".venv/bin/python", "-m", "analysis", "ingest"]
    db = tmp_path / "example.duckdb"
    args = command[4:]
    args[args.index("--db") + 1] = str(db)
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    assert [(line, reason) for line, reason, _ in quarantine(db, "contacts")] == [
        (6, "outcome: required for calls"), (7, "account_id: unknown account")]
    assert query(db, "select count(*) from accounts") == [(4,)]


# ---------------------------------------------------------------------------------------------
# contacts has no key index (schema Table.key_index): uniqueness is the importer's own check
# ---------------------------------------------------------------------------------------------

def contact_rows(db: Path) -> list[tuple]:
    return query(db, "select contact_id, account_id, channel, outcome from contacts order by contact_id")


def test_contacts_has_no_key_index_and_a_duplicate_contact_id_is_still_quarantined_with_the_same_reason(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    write(src, "contacts.csv", CONTACTS_HEADER + GOOD_CONTACT + "K0,A2,2026-03-09T15:05:00Z,sms,outbound,,,\n"
          + "K1,A2,2026-03-09T16:00:00Z,sms,outbound,,,\n")
    db = tmp_path / "db.duckdb"
    result = ingest(src, db)
    check_counts(result)
    assert query(db, "select count(*) from duckdb_constraints() where table_name = 'contacts' "
                     "and constraint_type in ('PRIMARY KEY', 'UNIQUE')") == [(0,)]
    assert query(db, "select count(*) from duckdb_indexes() where table_name = 'contacts'") == [(0,)]
    assert quarantine(db, "contacts") == [
        (3, "duplicate key (contact_id): an earlier row of this file has the same; the first is kept",
         "K0,A2,2026-03-09T15:05:00Z,sms,outbound,,,")]
    assert contact_rows(db) == [("K0", "A1", "call", "conversation"), ("K1", "A2", "sms", "sent")]
    # a first import writes the checked rows once and keeps them as the table (load._adopt_checked):
    # bad rows and helper columns gone, the table exactly as schema.py makes it, no scratch left
    reference = duckdb.connect()
    create_schema(reference)
    expected = reference.execute("select sql from duckdb_tables() where table_name = 'contacts'").fetchall()
    reference.close()
    assert query(db, "select sql from duckdb_tables() where table_name = 'contacts'") == expected
    assert query(db, "select count(*) from duckdb_tables() where table_name like '\\_ingest%' escape '\\'") == [(0,)]


def test_without_the_key_index_a_contact_imported_again_replaces_its_row_and_the_others_stay(tmp_path):
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    write(src, "contacts.csv", CONTACTS_HEADER + GOOD_CONTACT + "K1,A2,2026-03-09T16:00:00Z,sms,outbound,,,\n"
          + "K2,A2,2026-03-09T17:00:00Z,email,outbound,,,\n")
    db = tmp_path / "db.duckdb"
    ingest(src, db)
    # a smaller file (the upsert path: delete the file's keys, append its rows), K1 changed, K3 new
    write(tmp_path / "newer", "contacts.csv", CONTACTS_HEADER + "K1,A1,2026-03-09T16:00:00Z,chat,inbound,,,\n"
          + "K3,A1,2026-03-10T10:00:00Z,letter,outbound,,,\n")
    ingest(tmp_path / "newer", db)
    assert contact_rows(db) == [("K0", "A1", "call", "conversation"), ("K1", "A1", "chat", "received"),
                                ("K2", "A2", "email", "sent"), ("K3", "A1", "letter", "sent")]
    before = snapshot(db)
    ingest(tmp_path / "newer", db)  # the same file again changes nothing, and adds no second K1
    assert snapshot(db) == before
    assert query(db, "select count(*), count(distinct contact_id) from contacts") == [(4, 4)]


def test_a_database_whose_contacts_still_have_a_primary_key_imports_and_a_full_reimport_drops_it(tmp_path):
    # a database made before contacts lost its key index: the upsert goes through the key it has,
    # and a re-import of the whole table recreates it as schema.table_ddl makes it (no key)
    db = tmp_path / "db.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table contacts (contact_id VARCHAR, account_id VARCHAR, ts TIMESTAMPTZ, channel VARCHAR, "
                "direction VARCHAR, outcome VARCHAR, agent_id VARCHAR, duration_s BIGINT, primary key (contact_id))")
    con.close()
    src = tmp_path / "in"
    write(src, "accounts.csv", ACCOUNTS)
    contacts = CONTACTS_HEADER + GOOD_CONTACT + "K1,A2,2026-03-09T16:00:00Z,sms,outbound,,,\n"
    write(src, "contacts.csv", contacts)
    ingest(src, db)  # empty keyed table: rebuilt without the key
    keys = "select count(*) from duckdb_constraints() where table_name = 'contacts' and constraint_type = 'PRIMARY KEY'"
    assert query(db, keys) == [(0,)]
    con = duckdb.connect(str(db))
    con.execute("alter table contacts add primary key (contact_id)")
    con.close()
    write(tmp_path / "one", "contacts.csv", CONTACTS_HEADER + "K1,A1,2026-03-09T16:00:00Z,chat,inbound,,,\n")
    ingest(tmp_path / "one", db)  # smaller than the table: INSERT OR REPLACE through the key it has
    assert query(db, keys) == [(1,)]
    assert contact_rows(db) == [("K0", "A1", "call", "conversation"), ("K1", "A1", "chat", "received")]
    ingest(src, db)  # every key again: rebuilt, as the schema makes it
    assert query(db, keys) == [(0,)]
    assert contact_rows(db) == [("K0", "A1", "call", "conversation"), ("K1", "A2", "sms", "sent")]
