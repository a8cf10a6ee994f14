"""The Contact plan page: its figures on inline plans (golden rows), and the page itself through AppTest
for each role (who may open it, who sees real account ids) and without a stored model.

The real browser test is tests/test_browser_contact_plan.py; every page for every role, and the
masking of every table, are also walked by tests/test_app_shell.py and tests/test_masking.py.
"""
from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pandas as pd
import pytest

from analysis import access
from analysis.filters import ALL, Filters
from analysis.compliance.rules import load_rules
from analysis.plan import summary
from tests.test_app_shell import demo_values, leaked

UTC = "UTC"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def plan_frame(rows: list[dict]) -> pd.DataFrame:
    """A plan as make_plan returns it (the columns the page reads), rows in rank order."""
    base = {"channel": "call", "queue": "dialer", "propensity": 0.5, "balance": 100.0, "contact_from": ts("2026-11-01 13:00"),
            "contact_until": ts("2026-11-02 02:00"), "best_local_hour": 10, "local_date": pd.Timestamp("2026-11-01"),
            "timezone": "America/Chicago", "local_window": "08:00:00-20:59:59", "reach_rate": 0.2,
            "calls_left": 3, "caps": "regf_7in7 3", "cooldown_ends": pd.NaT, "reasons": "",
            "team": "North", "portfolio": "Retail", "strategy": "champion", "state": "TX"}
    out = pd.DataFrame([{**base, **r} for r in rows])
    out["expected_collection"] = out["propensity"] * out["balance"]
    out.insert(0, "rank", range(1, len(out) + 1))
    out["contact_from"] = pd.to_datetime(out["contact_from"], utc=True)
    out["contact_until"] = pd.to_datetime(out["contact_until"], utc=True)
    out["cooldown_ends"] = pd.to_datetime(out["cooldown_ends"], utc=True)
    return out


@pytest.fixture
def small_plan() -> tuple[pd.DataFrame, pd.DataFrame]:
    # Three accounts offered (A1 on two channels), A4 open but offered nothing, A5 open in another team.
    plan = plan_frame([
        {"account_rank": 1, "account_id": "A1", "propensity": 0.8, "balance": 1000.0},
        {"account_rank": 1, "account_id": "A1", "channel": "sms", "propensity": 0.8, "balance": 1000.0},
        {"account_rank": 2, "account_id": "A2", "propensity": 0.5, "balance": 400.0, "queue": "specialist",
         "reasons": "open complaint"},
        {"account_rank": 3, "account_id": "A3", "propensity": 0.1, "balance": 100.0, "team": "South"},
    ])
    accounts = pd.DataFrame({
        "account_id": ["A1", "A2", "A3", "A4", "A5"],
        "expected_collection": [800.0, 200.0, 10.0, 90.0, 400.0],
        "portfolio": ["Retail"] * 5, "team": ["North", "North", "South", "North", "South"],
        "strategy": ["champion"] * 5,
    })
    return plan, accounts


def test_the_headline_counts_accounts_once_whatever_their_channels_and_compares_the_first_n_with_random(small_plan):
    plan, accounts = small_plan
    head = summary.headline(plan, accounts, ALL, (), 2)
    assert head == {
        "accounts_offered": 3, "dialer": 2, "specialist": 1, "open_accounts": 5, "no_headroom": 2,
        "top_n": 2, "plan_expected": 800.0 + 200.0,
        "random_expected": 2 * (800 + 200 + 10 + 90 + 400) / 5,
    }


def test_the_headline_follows_the_sidebar_account_filters_and_the_queue(small_plan):
    plan, accounts = small_plan
    north = Filters(teams=("North",))
    head = summary.headline(plan, accounts, north, ("dialer",), 500)
    # N is capped at the accounts offered; the baseline is the open accounts of team North (A1, A2, A4).
    assert head["accounts_offered"] == 1 and head["top_n"] == 1 and head["specialist"] == 0
    assert head["plan_expected"] == 800.0
    assert head["random_expected"] == pytest.approx((800 + 200 + 90) / 3)
    assert head["open_accounts"] == 3 and head["no_headroom"] == 1  # A4: the queue filter does not make A2 "no headroom"


def test_the_channel_filter_keeps_an_account_offered_on_another_channel_out_of_no_headroom(small_plan):
    plan, accounts = small_plan
    head = summary.headline(plan, accounts, Filters(channels=("sms",)), (), 10)
    assert head["accounts_offered"] == 1 and head["no_headroom"] == 2


def test_an_empty_selection_gives_zeros_and_no_random_baseline_when_no_account_is_open(small_plan):
    plan, accounts = small_plan
    head = summary.headline(plan, accounts, Filters(teams=("West",)), (), 10)
    assert head["accounts_offered"] == 0 and head["top_n"] == 0 and head["plan_expected"] == 0.0
    assert head["random_expected"] is None and head["no_headroom"] == 0


def test_the_window_is_shown_in_the_accounts_zone_and_in_utc_with_the_next_utc_day_marked():
    plan = plan_frame([
        # Chicago, summer time: 08:00-21:00 CDT is 13:00-02:00 UTC, ending on the next UTC day.
        {"account_rank": 1, "account_id": "A1", "contact_from": ts("2026-07-01 13:00"), "contact_until": ts("2026-07-02 02:00")},
        # New York after the fall change (EST, UTC-5): 08:00-21:00 is 13:00-02:00 UTC too, but EST.
        {"account_rank": 2, "account_id": "A2", "timezone": "America/New_York",
         "contact_from": ts("2026-11-02 13:00"), "contact_until": ts("2026-11-02 20:30")},
        # A window that a cooldown cut short, the same UTC day.
        {"account_rank": 3, "account_id": "A3", "timezone": "America/Los_Angeles",
         "contact_from": ts("2026-11-02 19:15:30"), "contact_until": ts("2026-11-03 04:59:59")},
    ])
    got = summary.windows(plan)
    assert got["window_local"].tolist() == ["08:00–21:00 CDT", "08:00–15:30 EST", "11:15–20:59 PST"]
    assert got["window_utc"].tolist() == ["13:00–02:00 UTC +1d", "13:00–20:30 UTC", "19:15–04:59 UTC +1d"]


def test_the_table_has_the_pages_columns_in_rank_order_and_at_most_the_limit(small_plan):
    plan, _ = small_plan
    shown = summary.table(plan, limit=3)
    assert list(shown.columns) == summary.TABLE_COLUMNS
    assert shown["rank"].tolist() == [1, 2, 3] and shown["account_id"].tolist() == ["A1", "A1", "A2"]


def test_every_column_the_page_and_the_dialer_file_show_is_declared_or_an_id(small_plan):
    # Managers see these columns (ids as pseudonyms); nothing of the page is withheld from them.
    plan, _ = small_plan
    for frame in (summary.table(plan), summary.dialer_rows(plan)):
        assert [c for c in access.personal_columns(frame.columns) if c != "account_id"] == []
        masked = access.mask_frame(frame, "manager")
        assert masked["account_id"].str.startswith("acct~").all()
        assert (masked.drop(columns="account_id").astype(str) != access.WITHHELD).all().all()


def test_the_dialer_file_has_the_dialer_queue_only_with_instants_in_utc_iso_8601(small_plan):
    plan, _ = small_plan
    plan.loc[0, "cooldown_ends"] = ts("2026-11-01 15:00:01")
    rows = summary.dialer_rows(plan)
    assert rows["account_id"].tolist() == ["A1", "A1", "A3"] and set(rows["queue"]) == {"dialer"}
    assert rows.loc[0, "contact_from"] == "2026-11-01T13:00:00Z" and rows.loc[0, "contact_until"] == "2026-11-02T02:00:00Z"
    assert rows.loc[0, "cooldown_ends"] == "2026-11-01T15:00:01Z" and pd.isna(rows.loc[1, "cooldown_ends"])


def test_select_applies_the_sidebar_channel_and_account_filters_and_the_queue(small_plan):
    plan, _ = small_plan
    assert summary.select(plan, ALL)["account_id"].tolist() == ["A1", "A1", "A2", "A3"]
    assert summary.select(plan, Filters(channels=("call",), teams=("North",)))["account_id"].tolist() == ["A1", "A2"]
    assert summary.select(plan, ALL, ("specialist",))["account_id"].tolist() == ["A2"]


def test_the_plan_stored_with_the_scores_is_the_plan_make_plan_gives_for_that_date(demo_db):
    from analysis.db import connect
    from analysis.plan.build import make_plan

    con = connect(demo_db, read_only=True)
    try:
        card = summary.model_card(con)
        day = summary.default_date(con, card["scores_as_of"])
        stored = summary.stored_plan(con, day, card["model_id"])
        assert stored is not None and len(stored) > 0
        planned = make_plan(con, day, summary.scores_for(con, day, card["model_id"]))
        pd.testing.assert_frame_equal(stored.reset_index(drop=True), planned.reset_index(drop=True))
        # Another model's plan, or another date's, is not stored: the page plans it anew.
        assert summary.stored_plan(con, day, "another-model") is None
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_plan(demo_db):
    """(connection, date, model id, the plan made now, open accounts) of the small demo's scored date."""
    from analysis.db import connect

    con = connect(demo_db, read_only=True)
    card = summary.model_card(con)
    day = summary.default_date(con, card["scores_as_of"])
    got = summary.plan_for(con, day, "expected", card["model_id"])
    yield con, day, card["model_id"], got["plan"], got["accounts"]
    con.close()


def choices(con) -> list[tuple[Filters, tuple[str, ...], int]]:
    from analysis import catalog

    opts = catalog.filter_options(con)
    return [
        (ALL, (), 500), (ALL, (), 7), (ALL, ("specialist",), 3), (ALL, ("dialer",), 100_000),
        (Filters(teams=tuple(opts["teams"][:1])), (), 20),
        (Filters(channels=("sms",), strategies=tuple(opts["strategies"][:1])), ("dialer",), 50),
        (Filters(portfolios=tuple(opts["portfolios"][:1]), channels=("email", "call")), (), 1),
        (Filters(teams=("no such team",)), (), 10),
    ]


def as_text(df: pd.DataFrame) -> str:
    return df.round({c: 9 for c in df.select_dtypes("number").columns}).to_csv(index=False)


def test_the_queries_over_the_stored_plan_give_the_figures_and_rows_of_the_plan_made_now(demo_plan):
    # The default view never loads the stored plan: its queries must agree with the frame path exactly.
    con, day, model_id, plan, accounts = demo_plan
    for filters, queues, n in choices(con):
        stored = summary.stored_view(con, day, model_id, filters, queues, n, 40)
        framed = summary.frame_view(plan, accounts, filters, queues, n, 40)
        where = (filters, queues, n)
        assert stored["head"].keys() == framed["head"].keys(), where
        for key, value in framed["head"].items():
            assert stored["head"][key] == (pytest.approx(value) if isinstance(value, float) else value), (where, key)
        assert (stored["selected_rows"], stored["dialer_rows"]) == (framed["selected_rows"], framed["dialer_rows"]), where
        # Compared as text: a column all null in a selection reads back as None from the table, NaN from the
        # frame; rounded, as the reach rates summed in parallel may differ in their last bit between two runs.
        assert as_text(stored["rows"]) == as_text(framed["rows"]), where
        # The dialer's file, as the CSV it becomes.
        assert as_text(summary.stored_dialer_rows(con, day, model_id, filters, queues)) == \
            as_text(summary.dialer_rows(summary.select(plan, filters, queues))), where
    rules = load_rules()
    assert summary.has_stored_plan(con, day, model_id, rules) and not summary.has_stored_plan(con, day, "another-model", rules)
    # a rules file edited since the plan was stored: the page plans anew under the rules in force
    stricter = rules.with_rule("regf_7in7", cap=1)
    assert not summary.has_stored_plan(con, day, model_id, stricter)
    strict = summary.plan_for(con, day, "expected", model_id, stricter)["plan"]
    calls = strict[strict["channel"] == "call"]
    assert len(calls) < len(plan[plan["channel"] == "call"]) and (calls["calls_left"] == 1).all()


# --- the page --------------------------------------------------------------------------------


def table_of(at) -> pd.DataFrame:
    tables = [t for t in at.dataframe if "window_local" in t.value.columns]
    assert len(tables) == 1, "the page shows one ranked list"
    return tables[0].value


def test_an_executive_is_not_given_the_page(app_test):
    assert "contact_plan" not in access.pages_for("executive")
    at = app_test("executive")
    with pytest.raises(ValueError, match="navigation page"):
        at.switch_page("app_pages/contact_plan.py")


@pytest.fixture(scope="module")
def account_ids(demo_db) -> set[str]:
    return demo_values(demo_db, "select account_id from accounts")


def test_a_manager_sees_the_ranked_list_with_account_ids_as_pseudonyms(app_test, account_ids):
    at = app_test("manager", "contact_plan")
    assert not at.exception, [e.message for e in at.exception]
    listed = table_of(at)
    assert len(listed) > 0 and listed["rank"].tolist() == list(range(1, len(listed) + 1))
    assert listed["account_id"].str.startswith("acct~").all()
    assert not leaked(at, account_ids)
    metrics = {m.label: m.value for m in at.metric}
    assert {"Accounts offered", "Dialer queue", "Specialist queue", "No headroom", "AUC", "Top-decile lift"} <= set(metrics)
    # The small demo's list is shorter than ui.SHOWN_ROWS: the accounts offered are the accounts listed.
    assert len(listed) < 2000 and metrics["Accounts offered"] == f"{listed['account_id'].nunique():,}"


def test_a_compliance_officer_sees_real_account_ids(app_test, account_ids):
    at = app_test("compliance", "contact_plan")
    assert not at.exception, [e.message for e in at.exception]
    listed = table_of(at)
    assert set(listed["account_id"]) <= account_ids and len(listed) > 0


def test_ranking_by_balance_plans_anew_and_lists_the_largest_balances_first(app_test):
    at = app_test("admin", "contact_plan")
    at.selectbox(key="cp_rank").set_value("balance").run()
    assert not at.exception, [e.message for e in at.exception]
    firsts = table_of(at).drop_duplicates("account_id")["balance"].tolist()
    assert firsts == sorted(firsts, reverse=True)
    assert at.query_params["rank"] == ["balance"] or at.query_params["rank"] == "balance"


def test_the_queue_choice_narrows_the_list_to_that_queue(app_test):
    at = app_test("admin", "contact_plan")
    at.segmented_control(key="cp_queue").set_value("specialist").run()
    assert not at.exception
    if at.info:  # no specialist account in this small demo: the page says so
        assert "No account has contact headroom" in at.info[0].value
    else:
        assert set(table_of(at)["queue"]) == {"specialist"}


def test_without_a_stored_model_the_page_names_the_command_that_trains_one(app_test, demo_db, tmp_path, monkeypatch):
    path = tmp_path / "no-model.duckdb"
    shutil.copyfile(demo_db, path)
    con = duckdb.connect(str(path))
    for table in ("propensity_scores", "propensity_models"):
        con.execute(f"drop table if exists {table}")
    con.close()
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    at = app_test("manager", "contact_plan")
    assert not at.exception, [e.message for e in at.exception]
    assert [i.value for i in at.info] == ["No propensity model in this database: train one with "
                                          "`python -m analysis propensity train --db FILE`."]
    assert not at.dataframe
