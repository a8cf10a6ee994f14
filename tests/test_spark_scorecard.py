"""The scorecard on Spark (issue 22) gives the DuckDB scorecard's figures: the same query files,
transpiled with sqlglot (`analysis.spark.sql`), and the same Python after them.

Data: edge cases generated here (events at, just before and just after local midnight of the first
and last day of months with DST changes in several zones, an even number of resolutions, a resolution
of exactly 56 days, the promise window's edges, reversals, accounts placed on a month's last day,
complaints open at month end), imported as a user would (`ingest`) and exported to Parquet; and the
test demo (`demo_db` against `demo_parquet`).

Counts and amounts must be equal exactly. Ratios, scores and medians are compared as floats for
equality too: both engines compute the same integer (or exact decimal) numerators and denominators
and the Python that divides them is shared, and the median's interpolation of two doubles is
exact in both (checked: no tolerance needed). A tolerance would hide a query that counts one row
differently in a large month.
"""
from __future__ import annotations

import csv
import random
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analysis.scorecard import metrics as M

pytest.importorskip("pyspark")
pytest.importorskip("sqlglot")

ROOT = Path(__file__).resolve().parent.parent
ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "Australia/Lord_Howe")
# US DST starts 2026-03-08, ends 2026-11-01; Auckland's and Lord Howe's end 2026-04-05, start
# 2026-09-27 and 2026-10-04: every month below has a change in some zone, or borders one.
MONTHS = ("2026-03", "2026-04", "2026-10", "2026-11")
# Compared on both engines (each zone costs a pass of every query on Spark); the edges of Auckland's
# months are in the data all the same. Kolkata and Lord Howe are half-hour offsets, Lord Howe's DST
# a half-hour change.
COMPARED_ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
US = timedelta(microseconds=1)


def _has_spark_audit() -> bool:
    try:
        from analysis.spark.audit import breach_frame  # noqa: F401
    except ImportError:
        return False
    return True


class WithoutBreaches:
    """A source whose breach metrics are left empty: the other metrics, while the Spark audit is missing."""

    def __init__(self, inner):
        self.inner = inner

    def frame(self, stem, params):
        return self.inner.frame(stem, params)

    def frames(self, stems, params):
        return self.inner.frames(stems, params)

    def breaches_monthly(self, params, breaches):
        return None


def _iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _boundaries() -> list[datetime]:
    """Local midnight of the first and the last day of each month, and of the next month's first day,
    in each zone (as UTC instants), each also 1 microsecond before and after, and an hour after."""
    out = set()
    for zone in ZONES:
        tz = ZoneInfo(zone)
        for month in MONTHS:
            first = date.fromisoformat(month + "-01")
            nxt = M.add_months(first, 1)
            for day in (first, nxt - timedelta(days=1), nxt):
                midnight = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)
                out |= {midnight - US, midnight, midnight + US, midnight + timedelta(hours=1)}
    return sorted(out)


def write_edge_csvs(folder: Path, seed: int = 22) -> None:
    """The edge-case book as contract CSV files."""
    rng = random.Random(seed)
    moments = _boundaries()
    accounts = []
    for i in range(40):
        month = date.fromisoformat(rng.choice(MONTHS) + "-01")
        placed = rng.choice([month, M.add_months(month, 1) - timedelta(days=1), month + timedelta(days=10),
                             date(2025, 12, 31)])
        accounts.append({"account_id": f"A{i:03d}", "consumer_id": f"C{i:03d}", "placed_date": placed.isoformat(),
                         "placed_balance": f"{rng.randint(100, 5000)}.{rng.randint(0, 99):02d}",
                         "timezone": rng.choice(ZONES), "state": rng.choice(["MA", "NY", ""]),
                         "vulnerable": rng.choice(["true", "false"])})
    ids = [a["account_id"] for a in accounts]
    contacts, surveys, complaints, payments, promises = [], [], [], [], []
    for n, ts in enumerate(moments):
        acct = rng.choice(ids)
        for k in range(rng.randint(1, 3)):  # several calls on one account: the 7-in-7 caps break too
            contacts.append({"contact_id": f"K{n}-{k}", "account_id": acct, "ts": _iso(ts + timedelta(minutes=k)),
                             "channel": rng.choice(["call", "call", "call", "sms"]),
                             "direction": rng.choice(["outbound", "outbound", "inbound"]),
                             "outcome": rng.choice(["conversation", "no_answer", "voicemail", "busy"])})
        nps = rng.choice(["", "0", "6", "7", "8", "9", "10"])
        csat = rng.choice(["", "1", "3", "4", "5"]) if nps else rng.choice(["1", "4", "5"])
        surveys.append({"response_id": f"S{n}", "account_id": acct, "responded_at": _iso(ts), "nps": nps, "csat": csat})
        resolution = rng.choice([None, timedelta(days=56), timedelta(days=56) + US, timedelta(days=56) - US,
                                 timedelta(days=rng.randint(0, 90), seconds=rng.randint(0, 86399))])
        complaints.append({"complaint_id": f"Q{n}", "account_id": acct, "received_at": _iso(ts),
                           "resolved_at": _iso(ts + resolution) if resolution is not None else ""})
        # a resolution landing exactly on this boundary (open at the month end it meets: resolved_at >= end)
        complaints.append({"complaint_id": f"R{n}", "account_id": acct,
                           "received_at": _iso(ts - timedelta(days=rng.choice([3, 56]))), "resolved_at": _iso(ts)})
        amount = rng.choice([25, 50, 100, 250]) * rng.choice([1, 1, 1, -1])
        payments.append({"payment_id": f"P{n}", "account_id": acct, "paid_at": _iso(ts), "amount": f"{amount}.00"})
        local = ts.astimezone(ZoneInfo(rng.choice(ZONES))).date()
        promises.append({"promise_id": f"PR{n}", "account_id": acct, "created_at": _iso(ts),
                         "due_date": (local + timedelta(days=rng.choice([0, 1, 5, 20]))).isoformat(),
                         "amount": f"{rng.choice([25, 50, 100, 150])}.00"})
        # a promise whose window ends (due_date + 3, local) on this boundary's day or the day before
        promises.append({"promise_id": f"PW{n}", "account_id": acct, "created_at": _iso(ts - timedelta(days=10)),
                         "due_date": (local - timedelta(days=rng.choice([3, 4]))).isoformat(),
                         "amount": f"{rng.choice([25, 50])}.00"})
    for name, rows_ in (("accounts", accounts), ("contacts", contacts), ("surveys", surveys),
                        ("complaints", complaints), ("payments", payments), ("promises", promises)):
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows_[0]))
            writer.writeheader()
            writer.writerows(rows_)


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> tuple[Path, Path]:
    """(database, Parquet folder) of the edge-case book, imported as a user would."""
    from analysis.export import export_tables
    from analysis.ingest.load import import_directory

    base = tmp_path_factory.mktemp("spark_edge")
    (base / "csv").mkdir()
    write_edge_csvs(base / "csv")
    db = base / "edge.duckdb"
    result = import_directory(base / "csv", db, refresh=False)
    assert result.quarantined == 0
    export_tables(db, base / "parquet")
    return db, base / "parquet"


def _spark_source(spark, folder):
    from analysis.spark.scorecard import SparkSource
    from analysis.spark.tables import read_tables

    read_tables(spark, str(folder))
    return SparkSource(spark)


def _compare(duck: pd.DataFrame, sparked: pd.DataFrame, label: str) -> None:
    assert list(duck.columns) == list(sparked.columns)
    assert duck["month_start"].tolist() == sparked["month_start"].tolist(), label
    for name in M.METRIC_NAMES:
        a = [M._clean(v) for v in duck[name]]
        b = [M._clean(v) for v in sparked[name]]
        assert a == b, f"{label}: {name} differs\nduckdb {a}\nspark  {b}"


def _both(con, source, zone: str, breaches: bool):
    months = M.require_month(con, M.data_months(con, zone)[-1], zone)
    assert M.require_month(source, months[-1], zone) == months
    if not breaches:
        con, source = WithoutBreaches(M.DuckDBSource(con)), WithoutBreaches(source)
    return (M.monthly_metrics(con, months[0], months[-1], zone),
            M.monthly_metrics(source, months[0], months[-1], zone), months)


def test_every_month_of_the_edge_cases_has_the_same_metrics_on_both_engines(spark, edge):
    from analysis.db import connect

    db, folder = edge
    source = _spark_source(spark, folder)  # one source: the Spark audit runs once for every zone
    con = connect(db, read_only=True)
    try:
        for zone in COMPARED_ZONES:
            duck, sparked, months = _both(con, source, zone, breaches=_has_spark_audit())
            assert len(months) >= 9
            _compare(duck, sparked, zone)
            # the edge cases are there in the months of DST changes: resolutions (an even count in
            # some), complaints open at month end, promises due, calls, survey answers, breaches
            edge_months = duck[duck["month_start"].isin([date.fromisoformat(m + "-01") for m in MONTHS])]
            assert len(edge_months) == len(MONTHS)
            assert (edge_months["complaints_resolved"] % 2 == 0).any() and (duck["complaints_resolved"] % 2 == 1).any()
            for name in ("complaints_resolved", "complaints_open_end_of_month", "promises_due", "calls_placed",
                         "nps_responses") + (("contact_breaches",) if _has_spark_audit() else ()):
                assert edge_months[name].gt(0).all(), (zone, name)
    finally:
        con.close()


def test_the_edge_cases_hold_what_the_comparison_needs(edge):
    import duckdb

    db, _ = edge
    con = duckdb.connect(str(db), read_only=True)
    try:
        eight_weeks = con.execute("select count(*) from complaints where resolved_at - received_at = interval 56 day").fetchall()
        reversals = con.execute("select count(*) from payments where amount < 0").fetchall()
        last_day = con.execute("select count(*) from accounts where placed_date = last_day(placed_date)").fetchall()
    finally:
        con.close()
    assert eight_weeks[0][0] > 0 and reversals[0][0] > 0 and last_day[0][0] > 0


def test_the_demo_has_the_same_metrics_on_both_engines(spark, demo_db, demo_parquet):
    from analysis.db import connect

    source = _spark_source(spark, demo_parquet)
    con = connect(demo_db, read_only=True)
    try:
        # every month of the demo in UTC, through the assembly the CSV and the PDF share
        duck, sparked, months = _both(con, source, "UTC", breaches=_has_spark_audit())
        _compare(duck, sparked, "demo UTC")
        assert len(months) >= 12 and duck["calls_placed"].gt(0).sum() >= 12
        # and one month's scorecard table, what the PDF is drawn from (13 months, trend, targets),
        # in another zone (the CSV's values: the command's test below)
        month = M.month_label(M.data_months(con, "America/Chicago")[-3])
        if _has_spark_audit():
            expected, got = M.scorecard(con, month, "America/Chicago"), M.scorecard(source, month, "America/Chicago")
        else:
            expected = M.scorecard(WithoutBreaches(M.DuckDBSource(con)), month, "America/Chicago")
            got = M.scorecard(WithoutBreaches(source), month, "America/Chicago")
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert expected.set_index("metric").loc["calls_placed", "value"] > 0
    finally:
        con.close()


def test_a_month_outside_the_data_is_the_same_one_line_error_on_spark(spark, demo_db, demo_parquet):
    from analysis.db import connect
    from analysis.errors import UserError

    source = _spark_source(spark, demo_parquet)
    con = connect(demo_db, read_only=True)
    try:
        with pytest.raises(UserError) as duck:
            M.month_values(con, "1999-01", "UTC")
    finally:
        con.close()
    with pytest.raises(UserError) as sparked:
        M.month_values(source, "1999-01", "UTC")
    assert str(sparked.value) == str(duck.value)
    assert "has no data: the data spans" in str(sparked.value) and "\n" not in str(sparked.value)


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", "scorecard", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(not _has_spark_audit(), reason="analysis.spark.audit.breach_frame is not there yet")
def test_the_command_writes_the_same_csv_on_both_engines(demo_db, demo_parquet, tmp_path):
    from analysis.db import connect

    con = connect(demo_db, read_only=True)
    try:
        month = M.month_label(M.data_months(con, "America/New_York")[-2])
    finally:
        con.close()
    duck, sparked, fromdb = tmp_path / "duck.csv", tmp_path / "spark.csv", tmp_path / "db.csv"
    args = ["--month", month, "--timezone", "America/New_York"]
    done = cli("--engine", "duckdb", "--input", str(demo_parquet), "--out", str(duck), *args)
    assert done.returncode == 0, done.stderr
    done = cli("--engine", "spark", "--input", str(demo_parquet), "--out", str(sparked), *args)
    assert done.returncode == 0, done.stderr
    assert cli("--db", str(demo_db), "--out", str(fromdb), *args).returncode == 0
    assert sparked.read_bytes() == duck.read_bytes() == fromdb.read_bytes()


def test_the_command_on_spark_refuses_a_month_outside_the_data_in_one_line(spark, demo_parquet, tmp_path, capsys):
    # in process, on the test session's Spark (the command joins the active session): a new JVM costs
    # 20-30 s, and the start-up lines it prints are the JVM's, not the command's
    from analysis.__main__ import main

    out = tmp_path / "x.csv"
    assert main(["scorecard", "--engine", "spark", "--input", str(demo_parquet), "--month", "1999-01",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["error: month 1999-01 has no data: the data spans 2025-04..2026-11"] \
        or (len(err.strip().splitlines()) == 1 and "error: month 1999-01 has no data: the data spans" in err), err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark", "--db", "x.duckdb"], "--engine spark reads Parquet: give --input DIR"),
    (["--engine", "spark", "--input", "/no/such/folder"], "--input /no/such/folder is not a directory"),
    (["--engine", "duckdb", "--input", "/no/such/folder"], "--input /no/such/folder is not a directory"),
    (["--engine", "spark", "--input", str(ROOT / "config")], "has no accounts.parquet"),
])
def test_a_mistake_in_the_source_is_one_line_before_spark_starts(args, message, tmp_path):
    done = cli(*args, "--month", "2026-01", "--out", str(tmp_path / "x.csv"))
    assert done.returncode != 0 and message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "x.csv").exists()


SCORECARD_STEMS = ("scorecard_data_months", "scorecard_breaches", *(f"scorecard_{s}" for s in M.FRAME_STEMS))


@pytest.mark.parametrize("stem", SCORECARD_STEMS)
def test_every_scorecard_query_is_transpiled_from_its_duckdb_file_with_bound_parameters(stem):
    from analysis.spark.sql import source_text, spark_args, spark_sql

    text, variant = source_text(stem)
    assert not variant  # no Spark variant is needed: one source of truth
    sql = spark_sql(stem).lower()
    code = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    for duckdb_only in ("timezone(", "time_bucket(", "date_bin(", "epoch_us(", "generate_series(", "$tz",
                        "dayofweek(", "length(", "quantile_cont(", "percentile_cont("):
        assert duckdb_only not in code, (stem, duckdb_only)
    # the semantic layer is inlined: no macro of it is left to call
    from analysis.spark.sql import _scalar_macros, _table_macros

    for name in (*_scalar_macros(), *_table_macros()):
        assert not re.search(rf"\b{name}\s*\(", code), (stem, name)
    # values are Spark named parameters, bound by spark.sql(args=...), never pasted
    assert ":tz" in code
    hostile = "UTC') union select 1 --"
    args = spark_args(stem, {"tz": hostile, "first_month": date(2026, 1, 1), "last_month": date(2026, 2, 1)})
    assert args["tz"] == hostile and hostile.lower() not in code


def test_timezone_is_read_by_its_argument_as_duckdb_reads_it():
    import sqlglot

    from analysis.spark.sql import rewrite

    def spark(sql):
        return rewrite(sqlglot.parse_one(sql, read="duckdb")).sql("spark").lower()

    assert "from_utc_timestamp(p.paid_at, :tz)" in spark("select timezone($tz, p.paid_at) from payments as p")
    naive = spark("select timezone($tz, g.m + interval 1 month) from generate_series("
                  "cast($a as timestamp), cast($b as timestamp), interval 1 month) as g (m)")
    assert "to_utc_timestamp(g.m + interval '1' month, :tz)" in naive and "explode(sequence(" in naive
    assert "to_utc_timestamp(cast(d as timestamp_ntz), 'utc')" in spark("select timezone('UTC', cast(d as timestamp)) from t")
    assert "(weekday(d) + 1)" in spark("select isodow(d) from t")


def test_a_spark_variant_beside_a_query_is_read_instead_with_its_parameters_bound(spark, tmp_path, monkeypatch):
    # No scorecard query needs one today; a query that cannot be made portable keeps its Spark SQL in
    # queries/spark/<stem>.sql, with the same `$name` parameters, and runs as written.
    from analysis.spark import sql as S

    (tmp_path / "local_wall_clock.sql").write_text(
        "-- A Spark variant.\n-- Grain: one row.\n"
        "select cast(from_utc_timestamp(timestamp '2026-03-08 07:00:00', $tz) as string) as local_ts, "
        "'$not_a_parameter' as text_kept\n", encoding="utf-8")
    monkeypatch.setattr(S, "SPARK_QUERIES", tmp_path)
    S._compiled.cache_clear()
    try:
        assert S.source_text("local_wall_clock")[1]
        assert ":tz" in S.spark_sql("local_wall_clock") and "$tz" not in S.spark_sql("local_wall_clock")
        got = S.run(spark, "local_wall_clock", {"tz": "America/New_York", "unused": 1})
        assert got.to_dict("records") == [{"local_ts": "2026-03-08 03:00:00", "text_kept": "$not_a_parameter"}]
    finally:
        S._compiled.cache_clear()
