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
