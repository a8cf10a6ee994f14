"""The rules file: the default set, custom rules without code, clear errors, what-if copies,
the stored table, and the promise that compliance code never reads the wall clock."""
from __future__ import annotations

import ast
import dataclasses
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis.compliance.engine import COLUMNS, find_breaches, refresh
from analysis.compliance.rules import DEFAULT_RULES, load_rules
from analysis.db import get_meta
from analysis.errors import UserError
from analysis.schema import create_schema

ROOT = Path(__file__).resolve().parent.parent

SMS_RULE = """
name = "Acme collections"
version = "7"

[[rule]]
id = "acme_sms_3in7"
kind = "windowed_cap"
title = "At most 3 SMS in 7 days"
citation = "Acme policy 4.2"
channels = ["sms"]
window_days = 7
cap = 3
"""


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def one_account(con, **extra):
    con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone)"
                " values ('A', 'P', date '2026-01-01', 10, 'America/New_York')")


def test_the_default_file_holds_the_seven_spec_rules_in_order():
    rules = load_rules()
    assert rules.ids == ("regf_7in7", "regf_post_conversation", "inconvenient_time", "medium_opt_out",
                         "cease_communication", "policy_vulnerable_3in7", "state_ma_2in7")
    kinds = {r.rule_id: r.kind for r in rules.rules}
    assert kinds["regf_7in7"] == kinds["policy_vulnerable_3in7"] == kinds["state_ma_2in7"] == "windowed_cap"
    assert kinds["regf_post_conversation"] == "cooldown_after_event"
    assert kinds["inconvenient_time"] == "quiet_hours"
    assert kinds["medium_opt_out"] == kinds["cease_communication"] == "opt_out"
    caps = {r.rule_id: r.params.cap for r in rules.rules if r.kind == "windowed_cap"}
    assert caps == {"regf_7in7": 7, "policy_vulnerable_3in7": 3, "state_ma_2in7": 2}
    assert all(r.citation for r in rules.rules)
    assert load_rules(DEFAULT_RULES) == rules


def test_a_custom_rule_in_a_custom_file_works_without_code(fresh_db, tmp_path):
    path = tmp_path / "acme.toml"
    path.write_text(SMS_RULE, encoding="utf-8")
    rules = load_rules(path)
    one_account(fresh_db)
    for i, day in enumerate([5, 6, 7, 8], start=1):
        fresh_db.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome)"
                         " values (?, 'A', ?, 'sms', 'outbound', 'sent')", [f"s{i}", utc(2026, 1, day, 17)])
    # Calls are not SMS: they do not count toward this rule.
    fresh_db.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome)"
                     " values ('c1', 'A', ?, 'call', 'outbound', 'no_answer')", [utc(2026, 1, 6, 18)])
    found = find_breaches(fresh_db, rules)
    assert list(zip(found["contact_id"], found["rule_id"])) == [("s4", "acme_sms_3in7")]
    assert json.loads(found.loc[0, "evidence"]) == {"contacts": ["s1", "s2", "s3", "s4"]}
    assert found.loc[0, "explanation"].startswith("Counted sms number 4 in the 7 local days")


def test_rules_of_two_counting_definitions_in_one_audit_find_what_each_finds_alone(fresh_db, tmp_path):
    # The rule queries run as one statement, each with its parameters renamed and the counted
    # contacts of its own counting definition: SMS for the custom rule, calls for the default ones.
    path = tmp_path / "both.toml"
    path.write_text(DEFAULT_RULES.read_text(encoding="utf-8") + "[[rule]]" + SMS_RULE.split("[[rule]]", 1)[1],
                    encoding="utf-8")
    both = load_rules(path)
    (tmp_path / "sms.toml").write_text(SMS_RULE, encoding="utf-8")
    assert set(both.ids) == set(load_rules().ids) | {"acme_sms_3in7"}
    one_account(fresh_db)
    for i, day in enumerate([5, 5, 6, 6, 7, 8, 8, 9, 9], start=1):  # 9 calls and 9 SMS over 5 days
        for channel, outcome in (("call", "voicemail"), ("sms", "sent")):
            fresh_db.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome)"
                             " values (?, 'A', ?, ?, 'outbound', ?)",
                             [f"{channel}{i}", utc(2026, 1, day, 14 + i), channel, outcome])
    found = find_breaches(fresh_db, both)
    alone = pd.concat([find_breaches(fresh_db, load_rules()), find_breaches(fresh_db, load_rules(tmp_path / "sms.toml"))])
    alone = alone.sort_values(["ts", "contact_id", "rule_id"], ignore_index=True)
    assert found.equals(alone)
    assert set(found["rule_id"]) >= {"regf_7in7", "acme_sms_3in7"}
    sms = found[found["rule_id"] == "acme_sms_3in7"]
    assert list(sms["contact_id"]) == ["sms4", "sms5", "sms6", "sms7", "sms8", "sms9"]
    assert json.loads(sms.iloc[0]["evidence"]) == {"contacts": ["sms1", "sms2", "sms3", "sms4"]}


def test_a_what_if_copy_changes_the_cap_and_the_hash(fresh_db):
    rules = load_rules()
    stricter = rules.with_rule("regf_7in7", cap=2)
    assert stricter.rule("regf_7in7").params.cap == 2 and rules.rule("regf_7in7").params.cap == 7
    assert stricter.sha256 != rules.sha256
    same = dataclasses.replace(rules, rules=tuple(rules.rules))
    assert same.sha256 == rules.sha256 and hash(same) == hash(rules)  # hashable: the dashboard caches on it
    one_account(fresh_db)
    for i, day in enumerate([5, 6, 7], start=1):
        fresh_db.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome)"
                         " values (?, 'A', ?, 'call', 'outbound', 'voicemail')", [f"c{i}", utc(2026, 1, day, 17)])
    assert find_breaches(fresh_db, rules.only("regf_7in7")).empty
    assert list(find_breaches(fresh_db, stricter.only("regf_7in7"))["contact_id"]) == ["c3"]
    wider = rules.with_rule("regf_post_conversation", window_days=10)
    assert wider.rule("regf_post_conversation").params.window_days == 10


def test_only_and_with_rule_reject_an_unknown_rule_id():
    rules = load_rules()
    with pytest.raises(KeyError):
        rules.with_rule("no_such_rule", cap=1)
    with pytest.raises(KeyError):
        rules.only("no_such_rule")


@pytest.mark.parametrize("body,message", [
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "weekly_cap"\n', "unknown kind 'weekly_cap'"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "windowed_cap"\nchannels = ["call"]\nwindow_days = 7\n', "missing parameter 'cap'"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "windowed_cap"\nchannels = ["call"]\nwindow_days = 7\ncap = "seven"\n', "cap must be a whole number"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "windowed_cap"\nchannels = ["fax"]\nwindow_days = 7\ncap = 1\n', "unknown value 'fax'"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "windowed_cap"\nchannels = ["call"]\nwindow_day = 7\ncap = 1\n', "unknown parameter 'window_day'"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "quiet_hours"\nchannels = ["sms"]\nstart = "8am"\nend = "21:00:00"\n', "HH:MM:SS"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "opt_out"\nscope = "some"\n', "scope must be one of channel, all"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "windowed_cap"\nchannels = ["call"]\nwindow_days = 7\ncap = 1\naccounts = { colour = "red" }\n', "unknown key 'colour'"),
    ('name = "x"\n[[rule]]\nid = "a"\nkind = "opt_out"\nscope = "all"\n[[rule]]\nid = "a"\nkind = "opt_out"\nscope = "all"\n', "used twice"),
    ('name = "x"\n', "no rules"),
    ('[[rule]]\nid = "a"\nkind = "opt_out"\nscope = "all"\n', "name"),
    ('name = "x"\n[[rule\n', "not valid TOML"),
])
def test_a_malformed_rules_file_names_the_file_and_the_problem(tmp_path, body, message):
    path = tmp_path / "rules.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_rules(path)
    text = str(err.value)
    assert str(path) in text and message in text and "\n" not in text


def test_a_missing_rules_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_rules(tmp_path / "nope.toml")


def test_refresh_stores_the_breaches_and_the_rule_set(tmp_path):
    path = tmp_path / "db.duckdb"
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    create_schema(con)
    one_account(con)
    con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome)"
                " values ('late', 'A', ?, 'call', 'outbound', 'no_answer')", [utc(2026, 1, 6, 3)])  # 22:00 EST
    assert refresh(con) == 1
    assert refresh(con) == 1  # a rerun replaces, it does not append
    cols = [r[0] for r in con.execute("select column_name from information_schema.columns"
                                      " where table_name = 'breaches' order by ordinal_position").fetchall()]
    assert cols == COLUMNS
    assert con.execute("select contact_id, rule_id from breaches").fetchall() == [("late", "inconvenient_time")]
    rules = load_rules()
    assert get_meta(con, "rule_set") == rules.label and rules.short_hash in rules.label
    assert con.execute("select count(*) from breach_rules").fetchall() == [(7,)]
    custom = rules.only("medium_opt_out")
    assert refresh(con, custom) == 0
    assert con.execute("select count(*) from breaches").fetchall() == [(0,)]
    assert get_meta(con, "rule_set") == custom.label != rules.label
    con.close()
    # The dashboard and the what-if run on a read-only connection: nothing is written there.
    ro = duckdb.connect(str(path), read_only=True)
    assert list(find_breaches(ro)["contact_id"]) == ["late"]
    ro.close()


CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("Timestamp", "now"), ("Timestamp", "today"), ("pd", "Timestamp")}
SQL_CLOCK = re.compile(r"\b(current_timestamp|current_date|now\s*\(|today\s*\(|get_current_timestamp)", re.I)


def _clock_reads(path: Path) -> list[str]:
    """Calls such as datetime.now() in the code (not in strings or comments)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (owner_name, node.func.attr) == ("pd", "Timestamp"):  # pd.Timestamp("now")
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Constant) and str(first.value).lower() in ("now", "today")):
                    continue
            if (owner_name, node.func.attr) in CLOCK_CALLS:
                found.append(f"{path.name}:{node.lineno}: {owner_name}.{node.func.attr}()")
    return found


def test_compliance_code_never_reads_the_wall_clock():
    # Rules take time as an argument; a breach must not depend on when the audit runs.
    py = sorted((ROOT / "analysis" / "compliance").glob("*.py"))
    sql = sorted((ROOT / "queries").glob("rule_*.sql"))
    offenders = [hit for path in py for hit in _clock_reads(path)]
    for path in sql:
        code = "\n".join(line.split("--")[0] for line in path.read_text(encoding="utf-8").splitlines())
        offenders += [f"{path.name}: {m.group(0)}" for m in SQL_CLOCK.finditer(code)]
    assert py and sql and offenders == []


def test_the_clock_check_itself_catches_a_clock_read(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from datetime import datetime\nx = 'datetime.now() in a string is fine'\ny = datetime.now()\n"
                   "z = pd.Timestamp('2026-01-01')\nw = pd.Timestamp('now')\n")
    assert _clock_reads(bad) == ["bad.py:3: datetime.now()", "bad.py:5: pd.Timestamp()"]


def test_every_rule_query_opens_with_its_grain_and_parameters():
    paths = sorted((ROOT / "queries").glob("rule_*.sql")) + [ROOT / "queries" / f"{stem}.sql" for stem in ("breach_contacts", "breach_counted")]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        header = lines[:next(i for i, line in enumerate(lines) if not line.startswith("--"))]
        assert header, path.name
        assert any("Grain:" in line for line in header) and any("Parameters:" in line for line in header), path.name
        assert "select * from final" in text, path.name


def test_breach_contacts_enums_are_the_contracts_channels_and_directions():
    # breach_contacts stores channel and direction as ENUMs of the contract's closed lists; a list
    # that fell behind analysis/schema.py would turn a valid channel into null (and drop its breaches).
    from analysis.schema import CHANNELS, DIRECTIONS

    text = (ROOT / "queries" / "breach_contacts.sql").read_text(encoding="utf-8")
    enums = {m.group(1): tuple(re.findall(r"'([^']*)'", m.group(2)))
             for m in re.finditer(r"try_cast\((\w+) as enum\(([^)]*)\)\)", text)}
    assert enums == {"channel": CHANNELS, "direction": DIRECTIONS}


@pytest.mark.parametrize("setting", [True, False])
def test_find_breaches_leaves_the_global_insertion_order_setting_alone(setting):
    # preserve_insertion_order is global to the DuckDB instance: the dashboard's other sessions share it
    con = duckdb.connect()
    create_schema(con)
    con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone) "
                "values ('A1', 'P1', date '2026-01-01', 100, 'America/New_York')")
    con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) "
                "values ('c1', 'A1', timestamptz '2026-03-02 03:00:00+00', 'call', 'outbound', 'no_answer')")
    con.execute(f"set preserve_insertion_order = {str(setting).lower()}")
    found = find_breaches(con)
    assert list(found["rule_id"]) == ["inconvenient_time"]  # 22:00 local
    assert con.execute("select current_setting('preserve_insertion_order')").fetchall() == [(setting,)]
