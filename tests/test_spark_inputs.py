"""The Parquet layout that `--input DIR` reads (issue 22): `export` writes it, `analysis.spark.tables` reads
it into Spark typed as the import contract types it, and the one-line refusals of bad input and of a
machine without pyspark or Java."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.errors import UserError
from analysis.export import export_tables
from analysis.schema import TABLES
from analysis.spark.tables import read_tables

ROOT = Path(__file__).resolve().parent.parent


def test_export_writes_every_contract_table_with_its_columns_and_rows(demo_db, demo_parquet):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        for name, table in TABLES.items():
            path = demo_parquet / f"{name}.parquet"
            assert path.is_file(), name
            schema = pq.read_schema(path)
            assert set(schema.names) <= {c.name for c in table.columns}, name
            assert set(table.required_columns) <= set(schema.names), name
            stored = con.cursor().execute(f'select count(*) from "{name}"').fetchall()[0][0]
            assert pq.read_metadata(path).num_rows == stored, name
        # instants survive as instants: the same set of contact timestamps, to the microsecond
        differ = con.cursor().execute(
            "select count(*) from (select contact_id, ts from contacts except "
            "select contact_id, ts from read_parquet($p))", {"p": str(demo_parquet / "contacts.parquet")}).fetchall()[0][0]
        assert differ == 0
    finally:
        con.close()


def test_export_refuses_a_file_as_the_folder(demo_db, tmp_path):
    target = tmp_path / "book"
    target.write_text("x")
    with pytest.raises(UserError, match="is a file"):
        export_tables(demo_db, target)


def test_spark_reads_the_export_with_the_contracts_types_and_rows(spark, demo_db, demo_parquet):
    frames = read_tables(spark, str(demo_parquet))
    assert set(frames) == set(TABLES)
    types = dict(frames["contacts"].dtypes)
    assert types["ts"] == "timestamp" and types["contact_id"] == "string" and types["duration_s"] == "bigint"
    assert dict(frames["payments"].dtypes)["amount"] == "decimal(18,2)"
    assert dict(frames["accounts"].dtypes)["placed_date"] == "date"
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        expected = con.cursor().execute(
            "select count(*), sum(cast(epoch_us(ts) as decimal(38, 0))) from contacts").fetchall()[0]
        paid = con.cursor().execute("select sum(amount) from payments").fetchall()[0][0]
    finally:
        con.close()
    got = spark.sql("select count(*), sum(cast(unix_micros(ts) as decimal(38, 0))) from contacts").collect()[0]
    assert (got[0], got[1]) == expected
    assert spark.sql("select sum(amount) from payments").collect()[0][0] == paid


def _write(folder: Path, name: str, columns: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), folder / f"{name}.parquet")


ACCOUNTS = {"account_id": ["A1", "A2"], "consumer_id": ["C1", "C2"], "placed_date": ["2026-01-05", "2026-02-01"],
            "placed_balance": ["100.50", "20"], "timezone": ["America/Chicago", "UTC"], "state": [" ma ", None],
            "vulnerable": ["Yes", None], "unknown_extra": ["x", "y"]}


def test_text_columns_are_typed_as_the_import_types_them(spark, tmp_path):
    _write(tmp_path, "accounts", ACCOUNTS)
    _write(tmp_path, "contacts", {
        "contact_id": ["K1", "K2"], "account_id": ["A1", "A1"],
        "ts": ["2026-03-08T14:05:00-05:00", "2026-03-08T14:05:00.250Z"],
        "channel": ["call", "sms"], "direction": ["outbound", "inbound"], "outcome": ["conversation", None]})
    frames = read_tables(spark, str(tmp_path))
    accounts = {r["account_id"]: r for r in frames["accounts"].collect()}
    assert "unknown_extra" not in frames["accounts"].columns
    assert accounts["A1"]["state"] == "MA" and accounts["A2"]["state"] is None
    assert accounts["A1"]["vulnerable"] is True and accounts["A2"]["vulnerable"] is False
    assert str(accounts["A1"]["placed_balance"]) == "100.50"
    rows = {r["contact_id"]: r for r in spark.sql(
        "select contact_id, date_format(ts, 'yyyy-MM-dd HH:mm:ss.SSS') as t, outcome from contacts").collect()}
    assert rows["K1"]["t"] == "2026-03-08 19:05:00.000"  # the offset applied: an instant, shown in UTC
    assert rows["K2"]["t"] == "2026-03-08 14:05:00.250"
    assert rows["K2"]["outcome"] == "received"  # a non-call contact without outcome, as the import fills it
    assert frames["payments"].count() == 0 and "paid_at" in frames["payments"].columns  # absent table: empty view


@pytest.mark.parametrize("name, columns, message", [
    ("accounts", {k: v for k, v in ACCOUNTS.items() if k != "timezone"}, "lacks the required column timezone"),
    ("accounts", {**ACCOUNTS, "placed_date": ["2026-01-05", "5 January"]}, "1 rows have no placed_date"),
    ("contacts", {"contact_id": ["K1"], "account_id": ["A1"], "ts": ["2026-03-08T14:05:00Z"], "channel": ["fax"],
                  "direction": ["outbound"]}, "channel outside call, sms"),
])
def test_bad_input_is_refused_in_one_line_naming_table_and_column(spark, tmp_path, name, columns, message):
    if name != "accounts":
        _write(tmp_path, "accounts", ACCOUNTS)
    _write(tmp_path, name, columns)
    with pytest.raises(UserError, match=message) as err:
        read_tables(spark, str(tmp_path))
    assert "\n" not in str(err.value) and f"{name}.parquet" in str(err.value)


def test_a_folder_without_accounts_is_refused(spark, tmp_path):
    _write(tmp_path, "contacts", {"contact_id": ["K1"]})
    with pytest.raises(UserError, match="no accounts.parquet"):
        read_tables(spark, str(tmp_path))
    with pytest.raises(UserError, match="is not a directory"):
        read_tables(spark, str(tmp_path / "missing"))


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_missing_pyspark_or_java_is_one_line_saying_how_to_install(tmp_path):
    hide_pyspark = "import sys; sys.modules['pyspark'] = None\n"
    call = ("from analysis.spark.session import require_spark\nfrom analysis.errors import UserError\n"
            "try:\n    require_spark()\nexcept UserError as e:\n    print(e)\n")
    out = _python(hide_pyspark + call, {**os.environ}).stdout.strip()
    assert out.splitlines() == [out] and "requirements-spark.txt" in out
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_REMOTE")}
    env["PATH"] = str(Path(sys.executable).parent)  # the venv's python, no java
    out = _python(call, env).stdout.strip()
    assert out.splitlines() == [out] and "needs Java 17" in out


def test_a_mistake_found_after_spark_started_is_still_one_line_on_stderr(demo_parquet, tmp_path):
    """The JVM's own start-up lines go to its log file (analysis.spark.session.jvm_log), not the command's stderr."""
    log = tmp_path / "jvm.log"
    done = subprocess.run([sys.executable, "-m", "analysis", "scorecard", "--engine", "spark", "--input", str(demo_parquet),
                           "--month", "1999-01", "--out", str(tmp_path / "s.csv")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "SPARK_LOCAL_LOG": str(log)})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: month 1999-01 has no data"), done.stderr
    assert log.is_file() and not (tmp_path / "s.csv").exists()
