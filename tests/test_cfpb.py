"""`import-cfpb` on two vintages of the CFPB export and on malformed files; the benchmark queries
on the shipped public sample."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest

from analysis import cfpb
from analysis.db import ROOT
from analysis.errors import UserError

# 2012-2016 style: `Company response`, MM/DD/YYYY dates, no narrative column.
OLD_STYLE = """Date received,Product,Sub-product,Issue,Sub-issue,State,ZIP code,Submitted via,Date sent to company,Company response,Timely response?,Consumer disputed?,Complaint ID
03/05/2014,Debt collection,Credit card,Communication tactics,Frequent or repeated calls,ma ,021XX,Web,03/07/2014,Closed with explanation,Yes,No,744112
12/31/2015,Debt collection,Medical,Cont'd attempts collect debt not owed,Debt is not mine,TX,750XX,Phone,01/04/2016,Closed with non-monetary relief,No,Yes,1723049
"""

# 2020s style: `Company response to consumer`, ISO dates, a narrative with a comma, quotes and a line break.
NEW_STYLE = """Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,Company public response,Company,State,ZIP code,Tags,Consumer consent provided?,Submitted via,Date sent to company,Company response to consumer,Timely response?,Consumer disputed?,Complaint ID
2023-07-14,Debt collection,I do not know,Attempts to collect debt not owed,Debt is not yours,"They call me, every day.
I said ""stop"".",,ACME,FL,335XX,,Consent provided,Web,2023-07-14,Closed with explanation,Yes,N/A,7301234
2023-08-01,Debt collection,Medical debt,Written notification about debt,Didn't receive enough information to verify debt,,,ACME,,,,,Web,2023-08-03,In progress,Yes,N/A,7401234
"""


def write(tmp_path, name, text) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def fetch(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


COLS = ("complaint_id, strftime(received_at, '%Y-%m-%d %H:%M:%S'), source, category, issue, sub_issue, "
        "company_response, timely_response, state, sent_to_company_date, description, account_id, resolved_at is null")


def test_old_style_export_imports_with_us_dates_and_company_response(tmp_path):
    db = tmp_path / "x.duckdb"
    res = cli("import-cfpb", str(write(tmp_path, "old.csv", OLD_STYLE)), "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert "2 read, 2 loaded" in res.stdout
    assert fetch(db, f"select {COLS} from complaints order by complaint_id") == [
        ("cfpb-1723049", "2015-12-31 12:00:00", "cfpb", "Cont'd attempts collect debt not owed",
         "Cont'd attempts collect debt not owed", "Debt is not mine", "Closed with non-monetary relief", False, "TX",
         date(2016, 1, 4), None, None, True),
        ("cfpb-744112", "2014-03-05 12:00:00", "cfpb", "Communication tactics", "Communication tactics",
         "Frequent or repeated calls", "Closed with explanation", True, "MA", date(2014, 3, 7), None, None, True),
    ]


def test_new_style_export_keeps_the_narrative_exactly_and_reads_iso_dates(tmp_path):
    db = tmp_path / "x.duckdb"
    res = cli("import-cfpb", str(write(tmp_path, "new.csv", NEW_STYLE)), "--db", str(db))
    assert res.returncode == 0, res.stderr
    rows = fetch(db, f"select {COLS} from complaints order by complaint_id")
    assert rows[0] == ("cfpb-7301234", "2023-07-14 12:00:00", "cfpb", "Attempts to collect debt not owed",
                       "Attempts to collect debt not owed", "Debt is not yours", "Closed with explanation", True, "FL",
                       date(2023, 7, 14), 'They call me, every day.\nI said "stop".', None, True)
    assert rows[1][0] == "cfpb-7401234" and rows[1][8] is None and rows[1][10] is None


def test_yyyy_m_d_dates_of_the_shipped_sample_are_read(tmp_path):
    assert cfpb.parse_date("2019/9/4") == datetime(2019, 9, 4)
    assert cfpb.parse_date("9/4/2019") == datetime(2019, 9, 4)
    assert cfpb.parse_date("2019-09-04") == datetime(2019, 9, 4)
    assert cfpb.parse_date("04.09.2019") is None


def test_importing_twice_changes_nothing_but_the_log(tmp_path):
    db = tmp_path / "x.duckdb"
    f = write(tmp_path, "new.csv", NEW_STYLE)
    assert cli("import-cfpb", str(f), "--db", str(db)).returncode == 0
    first = fetch(db, f"select {COLS} from complaints order by 1")
    assert cli("import-cfpb", str(f), "--db", str(db)).returncode == 0
    assert fetch(db, f"select {COLS} from complaints order by 1") == first
    assert fetch(db, "select import_id, source, table_name, rows_read, rows_loaded, rows_quarantined from import_log order by 1") == [
        (1, "cfpb", "complaints", 2, 2, 0), (2, "cfpb", "complaints", 2, 2, 0)]


def test_data_as_of_moves_forward_only(tmp_path):
    db = tmp_path / "x.duckdb"
    assert cli("import-cfpb", str(write(tmp_path, "new.csv", NEW_STYLE)), "--db", str(db)).returncode == 0
    assert fetch(db, "select value from meta where key = 'data_as_of'") == [("2023-08-01T12:00:00Z",)]
    # an older export does not set the freshness back
    assert cli("import-cfpb", str(write(tmp_path, "old.csv", OLD_STYLE)), "--db", str(db)).returncode == 0
    assert fetch(db, "select value from meta where key = 'data_as_of'") == [("2023-08-01T12:00:00Z",)]


def test_a_file_without_the_required_columns_fails_with_one_line_exit_2_and_the_db_unchanged(tmp_path):
    db = tmp_path / "x.duckdb"
    assert cli("import-cfpb", str(write(tmp_path, "new.csv", NEW_STYLE)), "--db", str(db)).returncode == 0
    before = fetch(db, f"select {COLS} from complaints order by 1"), fetch(db, "select count(*) from import_log")
    bad = write(tmp_path, "bad.csv", "Date received,Product,Issue,Complaint ID\n2023-07-14,Debt collection,x,1\n")
    res = cli("import-cfpb", str(bad), "--db", str(db))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "'Company response to consumer' / 'Company response'" in res.stderr and "'Timely response?'" in res.stderr
    assert (fetch(db, f"select {COLS} from complaints order by 1"), fetch(db, "select count(*) from import_log")) == before


def test_a_malformed_file_does_not_create_the_database(tmp_path):
    db = tmp_path / "never.duckdb"
    res = cli("import-cfpb", str(write(tmp_path, "bad.csv", "just some text\n")), "--db", str(db))
    assert res.returncode == 2 and "missing column" in res.stderr
    assert not db.exists()
    res = cli("import-cfpb", str(tmp_path / "missing.csv"), "--db", str(db))
    assert res.returncode == 2 and "not found" in res.stderr and not db.exists()


def test_rows_without_id_or_date_and_repeated_ids_are_quarantined_and_the_rest_load(tmp_path):
    text = NEW_STYLE + ("2023-09-01,Debt collection,x,Communication tactics,y,,,ACME,FL,,,,Web,2023-09-01,Closed,Yes,N/A,\n"
                        "soon,Debt collection,x,Communication tactics,y,,,ACME,FL,,,,Web,2023-09-01,Closed,Yes,N/A,99\n"
                        "2023-09-02,Debt collection,x,Communication tactics,y,,,ACME,FL,,,,Web,2023-09-02,Closed,Yes,N/A,7301234\n")
    db = tmp_path / "x.duckdb"
    res = cli("import-cfpb", str(write(tmp_path, "q.csv", text)), "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert "5 read, 2 loaded" in res.stdout and "3 quarantined" in res.stdout
    reasons = [r[0] for r in fetch(db, "select reason from quarantine order by line")]
    assert reasons[0] == "missing Complaint ID"
    assert reasons[1].startswith("unreadable Date received 'soon'")
    assert reasons[2].startswith("Complaint ID 7301234 repeated")
    assert fetch(db, "select rows_read, rows_loaded + rows_quarantined from import_log") == [(5, 5)]


def test_snake_case_api_headers_are_accepted():
    cols = cfpb.map_columns(["date_received", "issue", "sub_issue", "company_response", "timely", "complaint_id",
                             "complaint_what_happened", "state"])
    assert cols["narrative"] == "complaint_what_happened" and cols["company_response"] == "company_response"
    with pytest.raises(UserError, match="missing column"):
        cfpb.map_columns(["issue"])


def test_the_whole_shipped_sample_imports(tmp_path):
    db = tmp_path / "x.duckdb"
    res = cli("import-cfpb", str(cfpb.SAMPLE), "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert fetch(db, "select count(*), count(description), count(distinct complaint_id) from complaints where source = 'cfpb'") == [
        (1231, 289, 1231)]


def test_benchmark_mix_and_timeliness_on_the_shipped_sample_match_an_independent_count():
    con = duckdb.connect()
    mix = cfpb.benchmark_issue_mix(con)
    assert mix["complaints"].sum() == 1231
    # numbers stated in the sample's provenance (data/README of the shared data)
    assert dict(zip(mix["issue"], mix["complaints"]))["Communication tactics"] == 121
    assert mix["share_pct"].sum() == pytest.approx(100.0)
    t = cfpb.benchmark_timeliness(con)
    import csv
    with open(cfpb.SAMPLE, newline="", encoding="utf-8") as fh:
        recs = list(csv.DictReader(fh))
    assert t["complaints"] == len(recs) == 1231
    assert t["timely"].value == pytest.approx(100 * sum(r["Timely response?"] == "Yes" for r in recs) / len(recs))
    disputed = [r for r in recs if r["Consumer disputed?"] in ("Yes", "No")]
    assert t["disputed"].n == len(disputed)
    # the field stops in April 2017
    assert str(t["last_dispute_received"])[:7] == "2017-04"


def test_the_readme_import_cfpb_command_runs_as_written(tmp_path):
    # Docs are tested: run the README's command, only pointing --db at a scratch file.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Customer experience and complaints", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if "-m analysis import-cfpb" in line]
    assert len(lines) == 1
    args = lines[0].split()
    assert args[:4] == [".venv/bin/python", "-m", "analysis", "import-cfpb"]
    args[args.index("--db") + 1] = str(tmp_path / "readme.duckdb")
    res = cli(*args[3:])
    assert res.returncode == 0, res.stderr
    assert "1231 read, 1231 loaded" in res.stdout
