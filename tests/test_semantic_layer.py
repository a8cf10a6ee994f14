"""The semantic layer (queries/semantic/), the one way to run a query (analysis/db.py) and the derived
tables declared beside the import contract (analysis/schema.py DERIVED)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from analysis import db
from analysis.schema import DERIVED, TABLES, create_schema, derived_ddl

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"


def _git_grep(pattern: str, *paths: str) -> list[str]:
    out = subprocess.run(["git", "grep", "--untracked", "-n", "-E", pattern, "--", *paths], cwd=ROOT,
                         capture_output=True, text=True)
    # code only: comment and docstring lines that quote a definition are documentation
    return [line for line in out.stdout.splitlines()
            if line and not line.split(":", 2)[2].lstrip().startswith(("--", "#", "- ", "`"))]


# --- one definition per concept ----------------------------------------------------------------


@pytest.mark.parametrize("name, pattern", [
    ("NPS bands", r"nps\s*(>=|<=|between)\s*[0-9]"),
    ("CSAT satisfied", r"csat\s*>=\s*[0-9]"),
    ("the shared filter's 'empty means all'", r"len\([[:alnum:]_.$]+(::varchar\[\])?\) = 0 or list_contains"),
    ("the 8-week threshold", r"56\s*\*\s*86400|<=\s*56\b"),
    ("resolution time", r"epoch(_us)?\(\w*\.?resolved_at\)"),
    ("the DISP 1.5 business-day deadline", r"isodow\(.*received"),
    ("a placed call", r"channel = 'call' and \w*\.?direction = 'outbound'"),
    ("a rule's vulnerable-account selector", r"is null or coalesce\(\w*\.?vulnerable, false\)"),
    ("the CFPB export's date formats", r"try_strptime\(\"Date received\", '%m/%d/%Y'\)"),
])
def test_each_business_definition_is_written_once_in_the_semantic_layer(name, pattern):
    # the demo generator simulates behaviour (who answers a survey how); it reports no figure
    found = _git_grep(pattern, "queries", "analysis", ":!analysis/demo")
    outside = [line for line in found if not line.startswith("queries/semantic/")]
    assert outside == [], f"{name} is defined outside queries/semantic/: {outside}"
    assert len(found) == 1, f"{name} should have exactly one home, found {found}"


def test_the_complaint_metrics_of_the_complaints_page_and_the_scorecard_come_from_one_macro():
    for stem in ("complaint_monthly_counts", "scorecard_complaints"):
        text = (QUERIES / f"{stem}.sql").read_text(encoding="utf-8")
        code = re.sub(r"--[^\n]*", "", text)
        assert "complaint_months(" in code, stem
        # neither counts, takes a median or compares resolution times itself: the macro does
        assert not re.search(r"\b(count|median|quantile_cont)\(|resolved_at|received_at", code), stem


def test_no_query_builds_sql_by_regular_expression_or_pastes_onto_a_query_text():
    offenders = _git_grep(r"re\.sub\(.*(\\\$|breach_counted)|sql_text\([^)]*\)\s*\+|\+\s*sql_text\(", "analysis", "dashboard")
    assert offenders == []


def test_every_macro_of_the_layer_installs_on_a_fresh_database(fresh_db):
    db.install_layer(fresh_db)
    macros = {r[0] for r in fresh_db.execute(
        "select function_name from duckdb_functions() where function_type in ('macro', 'table_macro')").fetchall()}
    declared = set(re.findall(r"create or replace temp macro (\w+)", (QUERIES / "semantic" / "macros.sql").read_text()))
    declared |= {p.stem for p in (QUERIES / "semantic").glob("*.sql") if p.stem != "macros"}
    assert declared <= macros, declared - macros
    assert {"chosen", "nps_band", "complaint_facts", "complaint_months", "survey_facts"} <= declared


@pytest.mark.parametrize("nps, band", [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"),
                                       (9, "promoter"), (10, "promoter"), (None, None)])
def test_nps_band_edges(fresh_db, nps, band):
    cur = db.cursor(fresh_db)
    assert cur.execute("select nps_band(?::integer)", [nps]).fetchall() == [(band,)]


@pytest.mark.parametrize("choices, value, chosen", [([], "a", True), ([], None, True), (["a"], "a", True),
                                                    (["a"], "b", False), (["a"], None, None)])
def test_chosen_means_all_when_nothing_is_chosen(fresh_db, choices, value, chosen):
    cur = db.cursor(fresh_db)
    assert cur.execute("select chosen($c::varchar[], $v::varchar)", {"c": choices, "v": value}).fetchall() == [(chosen,)]


@pytest.mark.parametrize("seconds, within", [(56 * 86400 - 1, True), (56 * 86400, True), (56 * 86400 + 1e-6, False)])
def test_eight_weeks_is_at_most_56_days_of_86400_seconds(fresh_db, seconds, within):
    cur = db.cursor(fresh_db)
    assert cur.execute("select within_8_weeks(?::double)", [seconds]).fetchall() == [(within,)]


@pytest.mark.parametrize("ts", ["2026-02-28 23:59:59.999999+00", "2026-03-01 00:00:00+00", "2026-03-01 00:00:00.000001+00",
                                "2026-02-28 20:30:00-05", "2026-03-31 23:59:59.999999+00", "2026-04-01 00:00:00+00",
                                "2026-03-31 19:59:59-04", "2026-03-31 20:00:00-04", "2026-03-31 22:00:00-02", None])
@pytest.mark.parametrize("first, last", [("2026-03-01", "2026-03-31"), ("2026-03-31", "2026-03-31"), ("1900-01-01", "9999-12-31")])
def test_the_utc_day_filter_and_the_utc_wall_clock_agree_with_converting_the_instant(fresh_db, ts, first, last):
    """utc_day_between tests the instant against [first 00:00 UTC, last + 1 day 00:00 UTC): it must agree
    with the UTC calendar date of the instant at every edge, whatever offset the instant was written in."""
    cur = db.cursor(fresh_db)
    got, want = cur.execute("select utc_day_between($t::timestamptz, $a::date, $b::date), "
                            "cast(timezone('UTC', $t::timestamptz) as date) between $a::date and $b::date",
                            {"t": ts, "a": first, "b": last}).fetchall()[0]
    assert got == want
    got, want = cur.execute("select utc_timestamp($t::timestamptz), timezone('UTC', $t::timestamptz)", {"t": ts}).fetchall()[0]
    assert got == want


def test_no_query_converts_every_row_to_a_utc_date_to_filter_it_or_to_find_the_first_or_last():
    assert _git_grep(r"timezone\('UTC', [^)]*\)( as date\)|::date) between \$start", "queries") == []
    # min/max of the instants, converted once: UTC is monotonic (1.8 s -> 0.01 s over 50M contacts)
    assert _git_grep(r"(min|max)\(timezone\('UTC'", "queries", "analysis") == []
    # a column's UTC wall-clock through utc_timestamp (arithmetic), not an ICU conversion per row
    assert _git_grep(r"timezone\('UTC', (cast\()?[a-z_.]+( as timestamptz\))?\)", "queries") == []


def test_the_summary_deadline_is_midnight_after_the_third_business_day_in_the_reporting_zone(fresh_db):
    cur = db.cursor(fresh_db)
    # Friday 2026-03-06 23:30 in Chicago is Saturday 05:30 UTC: business days Mon 9, Tue 10, Wed 11 ->
    # deadline Thursday 2026-03-12 00:00 Chicago (05:00 UTC, CDT from 8 March).
    got = cur.execute("select epoch(summary_deadline(timestamptz '2026-03-07 05:30:00+00', 'America/Chicago'))").fetchall()
    want = duckdb.connect().execute("select epoch(timestamptz '2026-03-12 05:00:00+00')").fetchall()
    assert got == want


# --- one way to run a query ------------------------------------------------------------------------


def test_bind_keeps_the_parameters_a_query_uses_and_ignores_the_rest():
    sql = "select $a, '$not_a_param' -- $nor_this\n, $b"
    assert db.parameters(sql) == {"a", "b"}
    assert db.bind(sql, {"a": 1, "b": 2, "unused": 3}) == {"a": 1, "b": 2}
    with pytest.raises(KeyError, match="b"):
        db.bind(sql, {"a": 1})


def test_query_df_runs_a_query_file_with_extra_parameters(fresh_db):
    # the shared filters carry $channels, which complaint queries do not use: DuckDB alone would refuse it
    from analysis.filters import ALL

    df = db.query_df(fresh_db, "complaint_resolution_days", {**ALL.params(), "tz": "UTC", "extra": 1})
    assert list(df.columns) and df.empty


@pytest.mark.parametrize("num, den, scale, want", [(1, 4, 100.0, 25.0), (1, 0, 1.0, None), (1, None, 1.0, None),
                                                   (1, float("nan"), 1.0, None), (3, 2, 1000.0, 1500.0)])
def test_ratio_is_empty_for_a_missing_or_zero_denominator(num, den, scale, want):
    assert db.ratio(num, den, scale) == want


def test_quote_ident_doubles_quotes():
    assert db.quote_ident('we"ird') == '"we""ird"'


def test_create_table_makes_a_table_from_a_query_file(fresh_db):
    db.create_table(fresh_db, "import history", "import_history")
    assert fresh_db.execute("select count(*) from \"import history\"").fetchall() == [(0,)]


def test_a_macro_query_file_names_its_parameters_in_its_first_line():
    for path in sorted(QUERIES.glob("rule_*.sql")):
        stmt = db.macro_statement(path.stem)
        assert stmt.startswith(f"create or replace temp macro {path.stem}(p_"), path.name
        assert "$" not in re.sub(r"--[^\n]*", "", path.read_text()), f"{path.name} mixes $parameters into a macro"


# --- derived tables ----------------------------------------------------------------------------------


def test_every_derived_table_exists_empty_in_a_fresh_database(fresh_db):
    for name, d in DERIVED.items():
        cols = fresh_db.execute("select column_name, data_type from duckdb_columns() where table_name = ? "
                                "order by column_index", [name]).fetchall()
        assert tuple(cols) == d.columns, name
        assert fresh_db.execute(f"select count(*) from {db.quote_ident(name)}").fetchall() == [(0,)]
    assert not set(DERIVED) & set(TABLES)


def test_the_pipeline_leaves_exactly_the_declared_columns_of_every_derived_table(demo_db):
    from analysis.pipeline import STEPS

    steps = {name for name, _ in STEPS}
    con = db.connect(demo_db, read_only=True)
    try:
        for name, d in DERIVED.items():
            assert d.step in steps, name
            cols = con.execute("select column_name, data_type from duckdb_columns() where table_name = ? "
                               "order by column_index", [name]).fetchall()
            assert tuple(cols) == d.columns, name
    finally:
        con.close()


def test_readers_query_derived_tables_before_any_step_has_run(fresh_db):
    # no stand-in views: the Balance, Repayments and Conversations readers just query the empty tables
    from analysis import balance, repayments
    from analysis.filters import ALL
    from analysis.pipeline import has_run

    assert not has_run(fresh_db, "breaches") and not has_run(fresh_db, "conversations")
    groups = balance.groups(fresh_db, ALL, "team")
    assert list(groups["group_name"]) == ["All"] and groups["accounts"].tolist() == [0]
    assert repayments.broken_promises(fresh_db, ALL).empty


def test_derived_ddl_keeps_the_keys_a_step_upserts_on():
    con = duckdb.connect()
    create_schema(con)
    con.execute("insert into sentiment_cache values ('h', 'm', 0.5, 'positive')")
    con.execute("insert or replace into sentiment_cache values ('h', 'm', -0.5, 'negative')")
    assert con.execute("select score, label from sentiment_cache").fetchall() == [(-0.5, "negative")]
    assert derived_ddl("breaches", replace=True).startswith('create or replace table "breaches"')
