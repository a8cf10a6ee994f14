"""The audit on Spark (issue 22) writes byte for byte the CSV of the DuckDB audit.

The data are made here, with the edge cases where the two engines could differ: DST changes in
several zones (spring forward, fall back, a change at local midnight that makes local dates go back),
contacts at local midnight and a microsecond either side of 08:00:00 and 21:00:00, the 7th and 8th
counted call of a window, ties on ts broken by contact_id, consent windows ending on day 7, busy and
not_connected calls, replies within and past 24 hours and with an outbound contact in between, opt-outs
at the same instant as a contact, channel and `all` opt-outs, a phone_timezone other than the
account's, state ' ma ', vulnerable accounts, fractional seconds, and ids with commas and quotes; plus
random contacts around the DST changes. The files go through the import into DuckDB (the audit's
`--db` path), are exported to Parquet, and the Spark audit reads those.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analysis.compliance import cli
from analysis.compliance.rules import load_rules
from analysis.db import connect
from analysis.errors import UserError
from analysis.export import export_tables

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc

# A firm's own rules: every kind and every parameter with values other than the defaults (two
# counting definitions, an SMS cap with cap 0, a cooldown after inbound SMS, quiet hours in the phone's
# zone only with a calls-and-letters, both-directions scope, an opt-out for some accounts only).
FIRM_RULES = '''
name = "Firm what-if"
version = "7"

[[rule]]
id = "sms_2in3"
kind = "windowed_cap"
channels = ["sms", "email"]
directions = ["outbound"]
outcomes_excluded = ["failed"]
window_days = 3
cap = 2
accounts = { team = ["T1", "T2"] }

[[rule]]
id = "calls_4in5_strict"
kind = "windowed_cap"
channels = ["call"]
outcomes_excluded = ["busy"]
consent_exclusion = true
consent_window_days = 3
window_days = 5
cap = 4
accounts = { state = [" ny ", "MA"], vulnerable = false }

[[rule]]
id = "any_call_cap0"
kind = "windowed_cap"
channels = ["call"]
directions = ["outbound", "inbound"]
window_days = 1
cap = 0
accounts = { product = ["card"], strategy = ["S2"] }

[[rule]]
id = "after_sms_reply"
kind = "cooldown_after_event"
event = { channels = ["sms"], outcomes = ["received"], directions = ["inbound"] }
channels = ["call", "sms"]
outcomes_excluded = ["busy"]
window_days = 2
accounts = { portfolio = ["P1"] }

[[rule]]
id = "post_conversation_3d"
kind = "cooldown_after_event"
event = { channels = ["call"], outcomes = ["conversation", "third_party"] }
channels = ["call"]
outcomes_excluded = ["busy", "not_connected"]
consent_exclusion = true
consent_window_days = 3
window_days = 3

[[rule]]
id = "phone_zone_hours"
kind = "quiet_hours"
channels = ["call", "letter"]
directions = ["outbound", "inbound"]
start = "09:30:00"
end = "18:15:30"
zones = ["phone_timezone"]

[[rule]]
id = "evening_sms"
kind = "quiet_hours"
channels = ["sms", "chat"]
start = "07:00:00"
end = "20:00:00"
zones = ["timezone"]
reply_exemption_hours = 2
accounts = { vulnerable = true }

[[rule]]
id = "letters_opt_out"
kind = "opt_out"
scope = "channel"
channels = ["letter", "email"]
directions = ["outbound", "inbound"]
accounts = { vulnerable = false }

[[rule]]
id = "cease_sms"
kind = "opt_out"
scope = "all"
channels = ["sms"]
accounts = { team = ["T2"] }
'''

ZONES = ["America/New_York", "America/Chicago", "America/Phoenix", "America/Los_Angeles", "Europe/London",
         "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham", "America/Goose_Bay", "Europe/Berlin"]
CHANNELS = ["call", "call", "call", "sms", "email", "letter", "chat"]
CALL_OUTCOMES = ["no_answer", "voicemail", "busy", "not_connected", "conversation", "third_party", "dropped"]


def z(text: str) -> datetime:
    """An instant from ISO text (with Z or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Book:
    """Rows of the contract's tables, written as the CSV files a firm would bring."""

    def __init__(self):
        self.accounts, self.contacts, self.consents, self.preferences = [], [], [], []
        self._n = 0

    def account(self, account_id, zone, phone=None, state=None, vulnerable=None, portfolio="P1", product="loan",
                team="T1", strategy="S1"):
        self.accounts.append({"account_id": account_id, "consumer_id": f"P-{account_id}", "placed_date": "2009-01-01",
                              "placed_balance": "100.00", "timezone": zone, "phone_timezone": phone or "",
                              "state": state or "", "portfolio": portfolio, "product": product, "team": team,
                              "strategy": strategy, "vulnerable": "" if vulnerable is None else str(vulnerable).lower()})
        return account_id

    def contact(self, account_id, ts, channel="call", direction="outbound", outcome=None, contact_id=None):
        self._n += 1
        if outcome is None and channel == "call":
            outcome = "voicemail"
        self.contacts.append({"contact_id": contact_id or f"{account_id}-c{self._n:04d}", "account_id": account_id,
                              "ts": iso(ts), "channel": channel, "direction": direction, "outcome": outcome or ""})

    def consent(self, account_id, ts):
        self.consents.append({"account_id": account_id, "given_at": iso(ts)})

    def opt_out(self, account_id, channel, ts):
        self.preferences.append({"account_id": account_id, "channel": channel, "opted_out_at": iso(ts)})

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("accounts", "contacts", "consents", "preferences"):
            rows = getattr(self, name)
            with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        return folder


def edge_cases(book: Book) -> None:
    # Rule 1 and the consent window: nine calls, one a day from 2 March (New York), a consent given
    # on day 1 at 10:00 local covering days 1..7 (so the calls of 8 and 9 March count; 9 March is the
    # day after spring forward); and a second account with nine calls in a week, two of them busy and
    # not_connected, so the 7th and 8th counted calls fall on the window's edge.
    a = book.account("A,1 \"quoted\"", "America/New_York", vulnerable=True)
    for day in range(9):
        book.contact(a, z("2026-03-02T15:00:00Z") + timedelta(days=day))
    book.consent(a, z("2026-03-02T15:00:00Z"))
    book.contact(a, z("2026-03-03T03:00:00Z"), channel="sms", contact_id='a,"1"')  # 22:00 in New York
    b = book.account("B1", "America/Chicago", state=" ma ")
    start = z("2026-03-02T14:00:00.5Z")
    outcomes = ["voicemail", "busy", "no_answer", "not_connected", "voicemail", "dropped", "no_answer", "voicemail",
                "voicemail", "voicemail"]
    for i, outcome in enumerate(outcomes):
        book.contact(b, start + timedelta(hours=16 * i), outcome=outcome, contact_id=f"B1-c{i:02d}")
    # Ties on ts: the same instant, ordered by contact_id as text ("c-10" < "c-9").
    t = book.account("T1", "America/Los_Angeles", phone="America/New_York")
    for i, cid in enumerate(["c-9", "c-10", "c-1,x", 'c-"q"', "c-8", "c-7", "c-6", "c-5"]):
        book.contact(t, z("2026-04-01T17:00:00Z") + timedelta(days=i // 4), contact_id=cid)
    # Consent window edge: given 2026-05-01 22:00 local Chicago, calls at 23:59:59.999999 of day 7 (in the
    # window) and 00:00:00 of day 8 (not), with eight earlier calls so the 8th counted one breaches.
    c = book.account("C1", "America/Chicago")
    book.consent(c, z("2026-05-02T03:00:00Z"))
    book.contact(c, z("2026-05-08T04:59:59.999999Z"), contact_id="C1-day7")
    book.contact(c, z("2026-05-08T05:00:00Z"), contact_id="C1-day8")
    for i in range(8):
        book.contact(c, z("2026-05-08T14:00:00Z") + timedelta(hours=3 * i), contact_id=f"C1-k{i}")
    # Rule 2: a conversation, then calls on local day 7 and 8 (day 1 = the conversation's date), one at
    # the conversation's own instant (not after it) and an inbound conversation.
    v = book.account("V1", "Europe/London", phone="Europe/Berlin")
    book.contact(v, z("2026-03-25T10:00:00Z"), outcome="conversation", contact_id="V1-conv")
    book.contact(v, z("2026-03-25T10:00:00Z"), contact_id="V1-same-instant")
    book.contact(v, z("2026-03-31T22:59:59Z"), contact_id="V1-day7")  # 23:59:59 BST on 31 March
    book.contact(v, z("2026-03-31T23:00:00Z"), contact_id="V1-day8")  # 00:00 BST on 1 April
    book.contact(v, z("2026-04-10T12:00:00Z"), direction="inbound", outcome="conversation", contact_id="V1-in")
    book.contact(v, z("2026-04-11T12:00:00Z"), outcome="busy", contact_id="V1-busy")
    book.contact(v, z("2026-04-11T12:00:01Z"), outcome="not_connected", contact_id="V1-nc")
    book.contact(v, z("2026-04-12T12:00:01Z"), outcome="no_answer", contact_id="V1-after-in")
    # Rule 3: wall times a microsecond either side of 08:00 and 21:00 in New York, on the days of the
    # DST changes too, and in a phone zone three hours ahead of the account's.
    q = book.account("Q1", "America/New_York")
    for local in ["2026-03-08T07:59:59", "2026-03-08T08:00:00", "2026-03-08T20:59:59", "2026-03-08T21:00:00",
                  "2026-11-01T07:59:59.999999", "2026-11-01T08:00:00", "2026-11-01T20:59:59.5",
                  "2026-11-01T21:00:00", "2026-11-01T00:00:00", "2026-11-01T01:30:00", "2026-03-08T03:00:00"]:
        book.contact(q, datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("America/New_York")), channel="sms",
                     outcome="sent")
    # the second 01:30 of 1 November (fold=1: EST), an hour after the first
    book.contact(q, datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")), channel="sms")
    p = book.account("Q2", "America/Los_Angeles", phone="America/New_York")
    book.contact(p, z("2026-06-01T15:30:00Z"), channel="email")  # 08:30 LA, 11:30 NY: fine
    book.contact(p, z("2026-06-01T11:59:59Z"), channel="email")  # 04:59:59 LA, 07:59:59 NY: both
    book.contact(p, z("2026-06-02T01:30:00Z"), channel="email")  # 18:30 LA, 21:30 NY: the phone's zone
    # Replies: an inbound SMS, outbound replies at 23:59:59, 24:00:00 and 24:00:01 later (night time),
    # and one with an outbound SMS in between.
    r = book.account("R1", "America/Chicago")
    book.contact(r, z("2026-07-01T04:00:00Z"), channel="sms", direction="inbound", outcome="received", contact_id="R1-in")
    book.contact(r, z("2026-07-02T04:00:00Z"), channel="sms", outcome="sent", contact_id="R1-24h")
    book.contact(r, z("2026-07-03T03:00:00Z"), channel="sms", direction="inbound", outcome="received", contact_id="R1-in2")
    book.contact(r, z("2026-07-04T03:00:01Z"), channel="sms", outcome="sent", contact_id="R1-24h1s")
    book.contact(r, z("2026-07-05T03:00:00Z"), channel="sms", direction="inbound", outcome="received", contact_id="R1-in3")
    book.contact(r, z("2026-07-05T03:30:00Z"), channel="sms", outcome="sent", contact_id="R1-between")
    book.contact(r, z("2026-07-05T04:00:00Z"), channel="sms", outcome="sent", contact_id="R1-after-between")
    book.contact(r, z("2026-07-05T04:00:00Z"), channel="call", contact_id="R1-call-other-channel")
    # Rules 4 and 5: opt-outs at the same instant as a contact (not a breach) and after.
    o = book.account("O1", "Australia/Sydney", vulnerable=False, team="T2")
    book.opt_out(o, "sms", z("2026-04-04T16:00:00Z"))
    book.opt_out(o, "sms", z("2026-04-05T16:00:00Z"))
    book.opt_out(o, "letter", z("2026-04-01T00:00:00.25Z"))
    book.opt_out(o, "all", z("2026-04-10T00:00:00Z"))
    book.contact(o, z("2026-04-04T16:00:00Z"), channel="sms", contact_id="O1-same")
    book.contact(o, z("2026-04-04T16:00:00.000001Z"), channel="sms", contact_id="O1-after")
    book.contact(o, z("2026-04-05T00:00:00Z"), channel="letter", contact_id="O1-letter")
    book.contact(o, z("2026-04-05T00:00:00Z"), channel="email", contact_id="O1-email")
    book.contact(o, z("2026-04-10T00:00:00Z"), channel="call", contact_id="O1-cease-same")
    book.contact(o, z("2026-04-10T00:00:01Z"), channel="call", contact_id="O1-cease-after")
    book.contact(o, z("2026-04-11T00:00:01Z"), channel="letter", direction="inbound", contact_id="O1-inbound")
    book.contact(o, z("2026-04-12T00:00:01Z"), channel="sms", contact_id="O1-sms-after-cease")
    # Local dates that go back (Goose Bay, 7 November 2010: 00:01 ADT became 23:01 AST of the 6th):
    # calls either side of the change, some dated the 7th before others dated the 6th.
    # (03:00:30Z is 00:00:30 on the 7th; 03:01Z is 23:01 on the 6th)
    g = book.account("G1", "America/Goose_Bay", state="MA")
    for seconds in [-5400, -1800, -30, -10, 0, 300, 1800, 5400, 9000, 36000, 90000, 174000]:
        book.contact(g, z("2010-11-07T03:01:00Z") + timedelta(seconds=seconds), contact_id=f"G1-{seconds:+07d}")
    # Accounts of other zones, every state of the selectors, with calls at local midnight.
    for i, zone in enumerate(ZONES):
        m = book.account(f"M{i}", zone, state=["MA", "ny", " ma ", None][i % 4], vulnerable=[True, False, None][i % 3],
                         product=["card", "loan"][i % 2], team=["T1", "T2", "T3"][i % 3], strategy=["S1", "S2"][(i // 2) % 2],
                         portfolio=["P1", "P2"][i % 2])
        local_midnight = datetime(2026, 3, 29, tzinfo=ZoneInfo(zone))
        for k in range(4):
            book.contact(m, local_midnight + timedelta(days=k) - timedelta(microseconds=k % 2))


def random_book(book: Book, rng: np.random.Generator, accounts: int = 60) -> None:
    """Random contacts around the DST changes of several zones, fractional seconds included."""
    windows = [z("2026-03-05T00:00:00Z"), z("2026-03-26T00:00:00Z"), z("2026-10-22T00:00:00Z"), z("2026-04-01T00:00:00Z")]
    for i in range(accounts):
        zone = ZONES[i % len(ZONES)]
        phone = ZONES[(i * 3 + 1) % len(ZONES)] if i % 3 == 0 else (zone if i % 3 == 1 else None)
        a = book.account(f"R{i:03d}" + (",x" if i % 11 == 0 else ""), zone, phone=phone,
                         state=["MA", "NY", None, " ma "][i % 4], vulnerable=[True, False, None][i % 3],
                         product=["card", "loan"][i % 2], team=["T1", "T2", "T3"][i % 3], strategy=["S1", "S2"][(i // 2) % 2],
                         portfolio=["P1", "P2"][i % 2])
        base = windows[i % len(windows)]
        n = int(rng.integers(5, 40))
        seconds = np.sort(rng.integers(0, 14 * 86400, n))
        for k, s in enumerate(seconds):
            channel = CHANNELS[int(rng.integers(0, len(CHANNELS)))]
            direction = "inbound" if rng.random() < 0.2 else "outbound"
            outcome = CALL_OUTCOMES[int(rng.integers(0, len(CALL_OUTCOMES)))] if channel == "call" else (
                "failed" if rng.random() < 0.1 else None)
            micros = int(rng.integers(0, 1_000_000)) if rng.random() < 0.3 else 0
            book.contact(a, base + timedelta(seconds=int(s), microseconds=micros), channel=channel,
                         direction=direction, outcome=outcome, contact_id=f"{a}-{k}" if k % 7 else f'{a}-"{k}"')
        if rng.random() < 0.4:
            book.consent(a, base + timedelta(seconds=int(rng.integers(0, 10 * 86400))))
        if rng.random() < 0.3:
            book.opt_out(a, ["sms", "email", "letter", "call", "all"][i % 5],
                         base + timedelta(seconds=int(rng.integers(0, 14 * 86400))))


@pytest.fixture(scope="module")
def edge_data(tmp_path_factory):
    """(DuckDB database imported from the generated CSV files, Parquet export of it)."""
    book = Book()
    edge_cases(book)
    random_book(book, np.random.default_rng(22))
    base = tmp_path_factory.mktemp("spark_audit")
    folder = book.write(base / "csv")
    from analysis.ingest.load import import_directory

    db = base / "edge.duckdb"
    result = import_directory(folder, db, refresh=False)
    assert result.quarantined == 0
    parquet = base / "parquet"
    export_tables(db, parquet)
    return db, parquet


def duckdb_audit(db: Path, rules, out: Path) -> dict[str, int]:
    con = connect(db, read_only=True)
    try:
        return cli.write_breaches(con, rules, db, out)
    finally:
        con.close()


def spark_audit(spark, parquet: Path, rules, out: Path) -> dict[str, int]:
    from analysis.spark.audit import write_breaches
    from analysis.spark.tables import read_tables

    read_tables(spark, str(parquet))
    return write_breaches(spark, rules, out)


def test_spark_writes_the_duckdb_audit_byte_for_byte_on_edge_cases_with_every_rule_breached(spark, edge_data, tmp_path):
    db, parquet = edge_data
    rules = load_rules()
    expected = duckdb_audit(db, rules, tmp_path / "duckdb.csv")
    got = spark_audit(spark, parquet, rules, tmp_path / "spark.csv")
    assert all(expected.get(rule_id, 0) > 0 for rule_id in rules.ids), expected
    assert got == expected
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "duckdb.csv").read_bytes()
    text = (tmp_path / "spark.csv").read_text(encoding="utf-8")
    # the edge cases are in the file: quoted ids, fractional seconds, the irregular Goose Bay account
    assert '"A,1 ""quoted"""' in text and ".500000Z" in text and "G1-" in text


def test_spark_writes_the_duckdb_audit_byte_for_byte_with_a_firms_own_rules(spark, edge_data, tmp_path):
    db, parquet = edge_data
    path = tmp_path / "firm.toml"
    path.write_text(FIRM_RULES, encoding="utf-8")
    rules = load_rules(path)
    expected = duckdb_audit(db, rules, tmp_path / "duckdb.csv")
    got = spark_audit(spark, parquet, rules, tmp_path / "spark.csv")
    assert all(expected.get(rule_id, 0) > 0 for rule_id in rules.ids), expected
    assert got == expected
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "duckdb.csv").read_bytes()


def test_spark_writes_the_duckdb_audit_byte_for_byte_on_the_demo(spark, demo_db, demo_parquet, tmp_path):
    rules = load_rules()
    expected = duckdb_audit(demo_db, rules, tmp_path / "duckdb.csv")
    got = spark_audit(spark, demo_parquet, rules, tmp_path / "spark.csv")
    assert sum(expected.values()) > 100 and got == expected
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "duckdb.csv").read_bytes()


def test_breach_frame_gives_the_breaches_as_a_dataframe_of_the_spec_columns(spark, edge_data):
    from analysis.spark.audit import breach_frame, release
    from analysis.spark.tables import read_tables

    _, parquet = edge_data
    read_tables(spark, str(parquet))
    frame = breach_frame(spark, load_rules().only("medium_opt_out"))
    try:
        assert frame.columns == ["contact_id", "account_id", "rule_id", "ts", "local_ts", "evidence", "explanation"]
        assert dict(frame.dtypes)["ts"] == "timestamp" and dict(frame.dtypes)["local_ts"] == "timestamp_ntz"
        rows = {r.contact_id: r for r in frame.collect()}
    finally:
        release(spark)
    # strictly after the opt-out: the contact at its instant is not a breach, a microsecond later is
    assert "O1-after" in rows and "O1-same" not in rows
    assert rows["O1-after"].evidence == '{"opt_out":{"channel":"sms","at":"2026-04-04T16:00:00Z"}}'


def test_a_failed_spark_audit_leaves_no_file(spark, edge_data, tmp_path, monkeypatch):
    from analysis.spark import audit

    _, parquet = edge_data
    out = tmp_path / "b.csv"
    out.write_text("before\n")
    monkeypatch.setattr(audit, "spark_sql", lambda stem: "select * from no_such_view_here")
    with pytest.raises(UserError, match="audit on Spark failed"):
        spark_audit(spark, parquet, load_rules(), out)
    assert out.read_text() == "before\n"
    assert [p.name for p in tmp_path.iterdir()] == ["b.csv"]


# --- the command ----------------------------------------------------------------------------------


def run_audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", "audit", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_the_command_on_spark_and_on_duckdb_with_input_writes_what_db_writes(edge_data, tmp_path):
    db, parquet = edge_data
    outs = {}
    for name, args in {"db": ["--db", str(db)], "duckdb": ["--engine", "duckdb", "--input", str(parquet)],
                       "spark": ["--engine", "spark", "--input", str(parquet)]}.items():
        outs[name] = tmp_path / f"{name}.csv"
        done = run_audit(*args, "--out", str(outs[name]))
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1].split()[0] == "total"
        if name == "db":
            summary = done.stdout
        else:
            assert done.stdout.replace(str(outs[name]), "OUT") == summary.replace(str(outs["db"]), "OUT")
    assert outs["spark"].read_bytes() == outs["db"].read_bytes()
    assert outs["duckdb"].read_bytes() == outs["db"].read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark", "--db", "x.duckdb"], "--engine spark reads Parquet: give --input DIR"),
    (["--engine", "spark", "--input", "/no/such/folder"], "--input /no/such/folder is not a directory"),
    (["--engine", "duckdb", "--input", "/no/such/folder"], "--input /no/such/folder is not a directory"),
])
def test_the_command_refuses_a_mistake_in_one_line(args, message, tmp_path):
    done = run_audit(*args, "--out", str(tmp_path / "b.csv"))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}")
    assert "Traceback" not in done.stderr and not (tmp_path / "b.csv").exists()


def test_the_command_on_spark_refuses_a_folder_without_accounts_and_a_bad_rules_file(edge_data, tmp_path):
    _, parquet = edge_data
    done = run_audit("--engine", "spark", "--input", str(tmp_path), "--out", str(tmp_path / "b.csv"))
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert "has no accounts.parquet" in done.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[rule]]\nid = "a"\nkind = "weekly_cap"\n', encoding="utf-8")
    done = run_audit("--engine", "spark", "--input", str(parquet), "--rules", str(bad), "--out", str(tmp_path / "b.csv"))
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert "unknown kind 'weekly_cap'" in done.stderr
