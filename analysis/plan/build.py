"""The contact plan for a date (issue 24): open accounts ranked by what contacting them is expected
to collect, each with the channels it may be contacted on that day and when.

`make_plan(con, day, scores)` joins four parts, each computed on its own and all as of the plan's date:
the propensity to pay of every open account (`analysis.propensity.score`, given by the caller: the
propensity package stores a plan with every scoring run, so this module does not call back into it), the
contact headroom of each account and channel under every active rule (`analysis.plan.headroom`), the best hour and
channel to reach it (`analysis.plan.reach`), and the reasons to route it to a specialist instead of
the dialer (`queries/plan_specialist.sql`). The ranking and the rows are one query
(`queries/plan_rows.sql`). A channel without headroom is never a row.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from analysis.compliance.rules import RuleSet, load_rules
from analysis.db import bind, install_layer, query_df, sql_text
from analysis.errors import UserError
from analysis.plan import PLAN_CHANNELS
from analysis.plan.headroom import headroom_table
from analysis.plan.reach import reach

if TYPE_CHECKING:
    import pandas as pd

RANKINGS = ("expected", "propensity", "balance")
# SPEC section 4's columns first (binding), then what a reviewer or a dialer needs beside them.
SPEC_COLUMNS = ["rank", "account_id", "channel", "propensity", "contact_from", "contact_until", "best_local_hour"]


def make_plan(con, day: date, scores: pd.DataFrame, rules: RuleSet | None = None, ranking: str = "expected",
              channels: tuple[str, ...] = PLAN_CHANNELS) -> pd.DataFrame:
    """The plan for local date `day`: one row per (open account, channel with headroom), ranked
    (columns: queries/plan_rows.sql). `scores`: the propensity scores of the open accounts as of `day`
    (`analysis.propensity.score`, or the stored ones). Works on a read-only connection."""
    cur = con.cursor()
    try:
        sql, params = _prepare(con, cur, day, scores, rules, ranking, channels)
        out = cur.execute(sql, params).df()
    finally:
        cur.close()
    for col in ("contact_from", "contact_until", "cooldown_ends"):
        out[col] = out[col].dt.tz_convert("UTC")
    return out


def _prepare(con, cur, day: date, scores: pd.DataFrame, rules: RuleSet | None, ranking: str,
             channels: tuple[str, ...]) -> tuple[str, dict]:
    """Make on `cur` (a cursor of `con`) what queries/plan_rows.sql reads (the headroom's temp table;
    the scores, reach and specialists as registered frames); return that query and its parameters."""
    if ranking not in RANKINGS:
        raise UserError(f"unknown ranking {ranking!r}: use one of {', '.join(RANKINGS)}")
    rules = load_rules() if rules is None else rules
    frames = {
        "plan_scores": scores[["account_id", "propensity", "balance", "expected_collection"]],
        "plan_reach": reach(con, day, channels),
        "plan_specialists": query_df(con, "plan_specialist", {"date": day}),
    }
    headroom_table(cur, day, rules, channels)  # plan_room, read by plan_rows on this cursor
    for name, frame in frames.items():
        cur.register(name, frame)
    sql = sql_text("plan_rows")
    install_layer(cur, sql)
    return sql, bind(sql, {"ranking": ranking, "channels": list(channels)})


# meta key: the hash of the rule set the stored plan was made with (the page plans anew when it differs)
PLAN_RULES_META = "contact_plan_rule_set_sha256"


def store_plan(con, day: date, model_id: str, scores: pd.DataFrame, rules: RuleSet | None = None) -> int:
    """Replace the table `contact_plan` with the plan for `day` from these scores (ranked by expected
    collection, under `rules`, default the configured ones), on a writable connection: the page reads it.
    Returns its rows. The plan goes from the query into the table inside DuckDB, in the query's order
    (by rank; readers order it again): at 1M accounts (2.8M rows) the result made into a frame first did
    not fit the demo build's memory limit (3 GB), nor did a second sort by rank around the query."""
    from analysis.db import set_meta
    from analysis.schema import derived_ddl

    rules = load_rules() if rules is None else rules
    cur = con.cursor()
    try:
        sql, params = _prepare(con, cur, day, scores, rules, "expected", PLAN_CHANNELS)
        cur.execute(derived_ddl("contact_plan"))  # a database made before the table was declared
        cur.execute("begin transaction")  # the old plan stays if the new one fails (out of memory, say)
        try:
            cur.execute("delete from contact_plan")
            cur.execute("insert into contact_plan by name select *, $plan_as_of as as_of, $plan_model_id as model_id "
                        "from (" + sql + ")", {**params, "plan_as_of": day, "plan_model_id": model_id})
            planned = cur.execute("select count(*) from contact_plan").fetchall()[0][0]
            cur.execute("commit")
        except BaseException:
            cur.execute("rollback")
            raise
    finally:
        cur.close()
    set_meta(con, PLAN_RULES_META, rules.sha256)
    return planned


def refresh(con) -> int | None:
    """The pipeline step "plan" (after "propensity"): store the plan for the stored scores' date, from
    them (`store_plan`). Nothing when no scores are stored (no model). Returns the plan's rows."""
    from analysis.db import query_rows

    found = query_rows(con, "plan_scored_run")
    if not found:
        return None
    model_id, day = found[0]
    return store_plan(con, day, model_id, query_df(con, "plan_stored_scores", {"model_id": model_id, "as_of": day}))
