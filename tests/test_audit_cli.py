"""`python -m analysis audit`: the SPEC section 4 columns, per-rule counts, one-line errors."""
from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from analysis.compliance.rules import load_rules
from analysis.schema import create_schema

ROOT = Path(__file__).resolve().parent.parent
SPEC_COLUMNS = ["contact_id", "account_id", "rule_id", "ts", "local_ts", "evidence", "explanation"]


def audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", "audit", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "audit.duckdb"
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    create_schema(con)
    con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone, state)"
                " values ('A1', 'P1', date '2026-01-01', 10, 'America/Chicago', 'MA')")
    # Three voicemails on consecutive days (the third breaches the MA cap of 2), the first at
    # 07:30:00.25 local time in Chicago (inconvenient).
    for i, ts in enumerate([datetime(2026, 1, 5, 13, 30, 0, 250000, tzinfo=timezone.utc),
                            datetime(2026, 1, 6, 15, 0, tzinfo=timezone.utc),
                            datetime(2026, 1, 7, 15, 0, tzinfo=timezone.utc)], start=1):
        con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome)"
                    " values (?, 'A1', ?, 'call', 'outbound', 'voicemail')", [f"K{i}", ts])
    con.close()
    return path


def test_audit_writes_the_spec_columns_and_prints_counts_per_rule(db, tmp_path):
    out = tmp_path / "breaches.csv"
    done = audit("--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with out.open(encoding="utf-8") as fh:
        assert fh.readline().strip() == ",".join(SPEC_COLUMNS)
    assert [(r["contact_id"], r["rule_id"]) for r in rows] == [("K1", "inconvenient_time"), ("K3", "state_ma_2in7")]
    first = rows[0]
    assert first["account_id"] == "A1"
    assert first["ts"] == "2026-01-05T13:30:00.250000Z"
    assert first["local_ts"] == "2026-01-05T07:30:00.250000"
    assert json.loads(first["evidence"]) == {"zone": "America/Chicago", "local_time": "2026-01-05T07:30:00"}
    assert rows[1]["ts"] == "2026-01-07T15:00:00Z" and rows[1]["local_ts"] == "2026-01-07T09:00:00"
    assert json.loads(rows[1]["evidence"]) == {"contacts": ["K1", "K2", "K3"]}
    lines = done.stdout.splitlines()
    counts = {line.split()[0]: line.split()[1] for line in lines[1:-1]}
    assert counts == {"regf_7in7": "0", "regf_post_conversation": "0", "inconvenient_time": "1",
                      "medium_opt_out": "0", "cease_communication": "0", "policy_vulnerable_3in7": "0",
                      "state_ma_2in7": "1"}
    assert lines[-1].split()[:2] == ["total", "2"]


def test_audit_takes_a_custom_rules_file(db, tmp_path):
    rules = tmp_path / "firm.toml"
    rules.write_text('name = "Firm"\n[[rule]]\nid = "calls_1in7"\nkind = "windowed_cap"\n'
                     'channels = ["call"]\nwindow_days = 7\ncap = 1\n', encoding="utf-8")
    out = tmp_path / "b.csv"
    done = audit("--db", str(db), "--out", str(out), "--rules", str(rules))
    assert done.returncode == 0, done.stderr
    with out.open(newline="", encoding="utf-8") as fh:
        assert [(r["contact_id"], r["rule_id"]) for r in csv.DictReader(fh)] == [("K2", "calls_1in7"), ("K3", "calls_1in7")]


def one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode != 0
    err = done.stderr.strip()
    assert "Traceback" not in done.stderr and len(err.splitlines()) == 1, done.stderr
    for word in words:
        assert word in err


def test_a_missing_database_is_a_one_line_error(tmp_path):
    done = audit("--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "b.csv"))
    one_line_error(done, "none.duckdb", "does not exist")
    assert not (tmp_path / "none.duckdb").exists() and not (tmp_path / "b.csv").exists()


def test_a_bad_rules_file_is_a_one_line_error(db, tmp_path):
    rules = tmp_path / "bad.toml"
    rules.write_text('name = "Firm"\n[[rule]]\nid = "x"\nkind = "daily_cap"\n', encoding="utf-8")
    done = audit("--db", str(db), "--out", str(tmp_path / "b.csv"), "--rules", str(rules))
    one_line_error(done, "bad.toml", "daily_cap")
    assert not (tmp_path / "b.csv").exists()


def test_an_unwritable_out_path_is_a_one_line_error_and_an_existing_file_is_kept(db, tmp_path):
    done = audit("--db", str(db), "--out", str(tmp_path / "no_such_dir" / "b.csv"))
    one_line_error(done, "no_such_dir", "does not exist")
    done = audit("--db", str(db), "--out", str(tmp_path))
    one_line_error(done, "is a directory")
    if os.geteuid() != 0:  # root may write anywhere, so the permission case only holds for users
        locked = tmp_path / "locked"
        locked.mkdir()
        (locked / "b.csv").write_text("previous\n")
        locked.chmod(0o500)
        try:
            done = audit("--db", str(db), "--out", str(locked / "b.csv"))
            one_line_error(done, "not writable")
            assert (locked / "b.csv").read_text() == "previous\n"
        finally:
            locked.chmod(0o700)


def test_a_file_that_is_not_our_database_is_a_one_line_error(tmp_path):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    done = audit("--db", str(other), "--out", str(tmp_path / "b.csv"))
    one_line_error(done, "no accounts table")


def _readme_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Contact rules in brief", 1)[1].split("\n## ", 1)[0]


def test_the_readme_audit_commands_run(db, tmp_path):
    # Docs are tested: the commands of the README section, on a small database instead of the demo.
    block = re.search(r"```sh\n(.*?)```", _readme_section(), re.S).group(1)
    commands = [line.strip() for line in block.splitlines() if line.strip()]
    assert commands and all(c.startswith(".venv/bin/python -m analysis audit") for c in commands)
    for command in commands:
        args = shlex.split(command.replace("data/demo.duckdb", str(db)).replace("breaches.csv", str(tmp_path / "b.csv")))
        done = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "b.csv").read_text(encoding="utf-8").startswith(",".join(SPEC_COLUMNS))


def test_the_readme_rule_example_is_a_valid_rule(tmp_path):
    block = re.search(r"```toml\n(.*?)```", _readme_section(), re.S).group(1)
    path = tmp_path / "firm.toml"
    path.write_text('name = "Firm"\n' + block, encoding="utf-8")
    rules = load_rules(path)
    assert rules.ids == ("sms_3in7",) and rules.rule("sms_3in7").params.cap == 3


# --- the bytes of the file (DuckDB's writer, issue 20) ----------------------------------------------

AWKWARD_IDS = ["K,1", 'K"2"', "K\n3", "K\r4", "", "#K6", " K7 ", "Kü8", "K\t9", "K'10"]


def _expected_csv(db: Path) -> bytes:
    """The file as Python's csv module writes it (QUOTE_MINIMAL, \\n line ends; what the command wrote
    with pandas before), from the engine's own breaches and the SPEC's timestamp formats."""
    import io

    from analysis.compliance.engine import find_breaches

    def iso(value) -> str:
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        return text + (f".{value.microsecond:06d}" if value.microsecond else "")

    con = duckdb.connect(str(db), read_only=True)
    try:
        found = find_breaches(con)
    finally:
        con.close()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SPEC_COLUMNS)
    for r in found.itertuples(index=False):
        writer.writerow([r.contact_id, r.account_id, r.rule_id, iso(r.ts.tz_convert("UTC")) + "Z", iso(r.local_ts),
                         r.evidence, r.explanation])
    return buf.getvalue().encode("utf-8")


def test_the_file_is_byte_for_byte_what_pythons_csv_module_writes_awkward_ids_included(tmp_path):
    db = tmp_path / "awkward.duckdb"
    con = duckdb.connect(str(db))
    con.execute("set TimeZone = 'UTC'")
    create_schema(con)
    accounts = ["A,1", 'A"2', "A\n3", "A\r4", "#A5", " Ä6 "]
    for n, account in enumerate(accounts):
        con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone,"
                    " phone_timezone, state, vulnerable) values (?, 'P', date '1960-01-01', 10, ?,"
                    " 'America/Los_Angeles', 'MA', true)", [account, ["America/Chicago", "Asia/Kolkata"][n % 2]])
        # a cease request long ago: every outbound contact after it is a breach (evidence quotes it)
        con.execute("insert into preferences values (?, 'all', ?)", [account, datetime(1965, 1, 1, tzinfo=timezone.utc)])
    k = 0
    for account in accounts:
        # before 1970, whole and sub-second times, late and early hours, a DST change in November
        for base in (datetime(1969, 12, 31, 3, 0, tzinfo=timezone.utc),
                     datetime(2026, 11, 1, 5, 30, 0, 1, tzinfo=timezone.utc)):
            for hour in range(0, 24, 4):
                contact = AWKWARD_IDS[k % len(AWKWARD_IDS)] + ("" if k < len(AWKWARD_IDS) else str(k))
                con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome)"
                            " values (?, ?, ?, 'call', 'outbound', 'voicemail')",
                            [contact, account, base.replace(hour=hour, microsecond=(k % 3) * 250000)])
                k += 1
    con.close()
    out = tmp_path / "b.csv"
    done = audit("--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    expected = _expected_csv(db)
    assert expected.count(b"\n") > 100 and b'"K\n3"' in expected and b"\r" in expected  # the cases are there
    assert out.read_bytes() == expected
    assert out.stat().st_mode & 0o777 == 0o600  # owner only, as before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the temp file is gone


def test_the_file_is_byte_for_byte_the_expected_one_for_the_fixture_and_an_empty_result(db, tmp_path):
    out = tmp_path / "b.csv"
    assert audit("--db", str(db), "--out", str(out)).returncode == 0
    assert out.read_bytes() == _expected_csv(db)
    empty = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(empty))
    create_schema(con)
    con.close()
    done = audit("--db", str(empty), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == (",".join(SPEC_COLUMNS) + "\n").encode()
    assert done.stdout.splitlines()[-1].split()[:2] == ["total", "0"]
