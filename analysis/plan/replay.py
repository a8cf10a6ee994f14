"""Check a plan by replay (issue 24): a plan made for a past date, against what actually happened.

Two questions, on the firm's own history:

- **Did the plan pick payers?** The firm contacted some number N of open accounts on that local date.
  The plan's first N accounts are compared with those N on what they paid in the 30 days from the
  date (share paying, amount collected), and both with the open accounts at large. This shows that
  the ranking finds the accounts that pay; it does not show that contacting them made them pay (the
  model ranks on who pays, contacted or not), which only an experiment (a random holdout) can show.
- **Would following it have been within the rules?** Each planned account's history before the date,
  plus one contact per plan row at its `contact_from` (a counted call for calls), goes through the
  audit (`analysis.compliance.engine`, the same rule set): the planned contacts must breach nothing.
"""
from __future__ import annotations

from datetime import date

from analysis import incremental
from analysis.compliance.engine import breach_statement
from analysis.compliance.rules import RuleSet, load_rules
from analysis.db import create_table, query_df, sql_df, sql_text
from analysis.plan.build import make_plan

REPLAY_TABLES = ("accounts", "consents", "preferences")


def planned_breaches(con, day: date, plan, rules: RuleSet):
    """The breaches (DataFrame, the audit's columns) of the plan's contacts added to its accounts'
    history before `day`. Runs on temporary tables of one cursor: nothing is written."""
    days = query_df(con, "plan_accounts", {"date": day})[["account_id", "day_start"]]
    rows = plan[["rank", "account_id", "channel", "contact_from"]]
    cur = con.cursor()
    try:
        cur.register("plan_replay_days", days[days["account_id"].isin(rows["account_id"])])
        cur.register("plan_replay_rows", rows)
        create_table(cur, "_replay_contacts", "plan_replay_contacts", temp=True)
        cur.execute("create or replace temp table contacts as select * from _replay_contacts")
        incremental.key_table(cur, "_replay_accounts", "account_id", rows["account_id"])
        for table in REPLAY_TABLES:
            incremental.shadow(cur, table, "account_id", "_replay_accounts")
        query, params, _ = breach_statement(cur, rules)
        found = cur.execute(query, params).df()
    finally:
        cur.close()
    return found[found["contact_id"].str.startswith("plan-")]


def replay(con, day: date, rules: RuleSet | None = None, model=None) -> dict:
    """The replay of the plan for past date `day` (see the module's docstring): a dict of figures.
    `model`: the propensity model that ranks; None trains one as of `day`, so that it knows nothing of
    what followed (the stored model, trained on later outcomes, would flatter the replay).
    Works on a read-only connection."""
    from analysis.propensity.model import score, train

    rules = load_rules() if rules is None else rules
    model = train(con, day) if model is None else model
    scores = score(con, day, model)
    plan = make_plan(con, day, scores, rules=rules)
    outcomes = sql_df(con, sql_text("plan_replay_outcomes"), {"date": day},
                      {"plan_replay_accounts": scores[["account_id"]]})
    contacted = outcomes[outcomes["contacted"]]
    n = len(contacted)
    top = plan.drop_duplicates("account_id").nsmallest(n, "account_rank")["account_id"]
    chosen = outcomes[outcomes["account_id"].isin(top)]
    breaches = planned_breaches(con, day, plan, rules)

    def figures(frame) -> dict:
        return {"accounts": len(frame), "paid_share": float(frame["paid"].mean()) if len(frame) else None,
                "collected": float(frame["collected"].sum())}

    return {
        "date": day.isoformat(),
        "model_id": model.model_id,
        "open_accounts": len(outcomes),
        "plan": figures(chosen),
        "actual": figures(contacted),
        "all_open": figures(outcomes),
        "plan_rows": len(plan),
        "planned_contacts_breaching": int(breaches["contact_id"].nunique()),
        "breaches_by_rule": breaches["rule_id"].value_counts().to_dict(),
    }
