"""What the dashboard's Contact plan page shows, computed here so the page only renders.

- `model_card(con)`: the latest stored propensity model's id, as-of date, out-of-time evaluation and
  the date its stored scores are for (plain values, cacheable), or None when no model is stored. Read
  from the tables, without unpickling the model (which imports scikit-learn: seconds, cold).
- `default_date(con, scores_as_of)`: the plan date the page opens on.
- `stored_view(con, day, model_id, filters, queues, n, limit)`: the page's default view (the scored date,
  ranked by expected collection) by queries over the plan stored with the scores (table contact_plan)
  and the stored scores: the headline and the first `limit` rows of the selection; the plan itself
  never leaves the database, so a filter costs one query at any size of book.
  `stored_dialer_rows` makes the dialer's file from it (on click).
- `plan_for(con, day, ranking, model_id)`: another date or ranking, planned now (make_plan: seconds),
  with the expected collection of every open account at that date, cacheable; `frame_view` gives the
  same figures as `stored_view` on it (`select`, `headline`), `dialer_rows` its dialer file.
- `table`: the list as shown (contact window in local time and UTC).

The random baseline: contacting N accounts drawn at random from the open accounts of the selection
is expected to collect N x their mean expected collection (propensity x balance); the plan's figure
is the sum over its first N accounts. Both use the same model, so the comparison says what ranking
adds, not whether the model is right (its evaluation, out of time, says that).
"""
from __future__ import annotations

import json
from datetime import date

import pandas as pd

from analysis import propensity
from analysis.compliance.rules import RuleSet
from analysis.db import get_meta, query_df, query_rows, table_exists
from analysis.filters import Filters
from analysis.plan.build import PLAN_RULES_META, make_plan
from analysis.plan.build import RANKINGS as RANKING_KEYS
from analysis.plan.cli import csv_frame

RANKINGS = dict(zip(RANKING_KEYS, ("Expected collection", "Propensity to pay", "Balance")))
DEFAULT_RANKING = "expected"
DEFAULT_N = 500  # accounts the plan is measured on, until the user says otherwise
QUEUES = ("dialer", "specialist")
NO_MODEL = propensity.NO_MODEL


def model_card(con) -> dict | None:
    """{model_id, as_of, evaluation, scores_as_of} of the latest stored model, or None when there is none."""
    if not table_exists(con, "propensity_models"):
        return None
    found = query_rows(con, "plan_model_card")
    if not found:
        return None
    model_id, as_of, evaluation, scores_as_of = found[0]
    return {"model_id": model_id, "as_of": as_of, "evaluation": json.loads(evaluation), "scores_as_of": scores_as_of}


def calibration_frame(card: dict) -> pd.DataFrame:
    """The calibration table: one row per bin, mean predicted probability against the observed rate."""
    cols = ["bin", "n", "mean_predicted", "observed_rate"]
    return pd.DataFrame(card["evaluation"].get("calibration") or [], columns=cols)[cols]


def default_date(con, scores_as_of: date | None) -> date:
    """The date the latest model's stored scores are for (`scores_as_of` of its card: what `propensity
    score` and the pipeline write, the day after the data's last event), else that day itself."""
    return scores_as_of or propensity.data_end(con)


def scores_for(con, day: date, model_id: str) -> pd.DataFrame:
    """`account_id, propensity, balance, expected_collection` of every open account at `day` by the
    model `model_id`: the stored scores when that model scored that date, else scored now."""
    stored = query_df(con, "plan_stored_scores", {"model_id": model_id, "as_of": day})
    if len(stored):
        return stored
    return propensity.score(con, day, propensity.load_model(con, model_id))


ALL_ROWS = 2**62  # no row limit


def _stored_params(day: date, model_id: str, filters: Filters, queues: tuple[str, ...]) -> dict:
    return {**filters.params(), "as_of": day, "model_id": model_id, "queues": list(queues)}


def _utc(plan: pd.DataFrame) -> pd.DataFrame:
    for col in ("contact_from", "contact_until", "cooldown_ends"):
        plan[col] = plan[col].dt.tz_convert("UTC")
    return plan


def stored_rows(con, day: date, model_id: str, filters: Filters = Filters(), queues: tuple[str, ...] = (),
                limit: int = ALL_ROWS) -> pd.DataFrame:
    """The first `limit` rows of the plan stored with the scoring run for `day` by `model_id` (ranked by
    expected collection), in the sidebar's account and channel filters and `queues`: make_plan's columns."""
    return _utc(query_df(con, "plan_stored_rows", {**_stored_params(day, model_id, filters, queues), "row_limit": limit}))


def has_stored_plan(con, day: date, model_id: str, rules: RuleSet) -> bool:
    """Whether the plan for `day` by `model_id` under `rules` is stored (table contact_plan, written with
    the scores): a plan stored under another rule set (config/rules.toml edited since) is not used."""
    return (table_exists(con, "contact_plan") and get_meta(con, PLAN_RULES_META) == rules.sha256
            and len(stored_rows(con, day, model_id, limit=1)) > 0)


def stored_plan(con, day: date, model_id: str) -> pd.DataFrame | None:
    """The whole stored plan for `day` by `model_id`, or None when it is not stored."""
    plan = stored_rows(con, day, model_id) if table_exists(con, "contact_plan") else None
    return None if plan is None or plan.empty else plan


def plan_filters(filters: Filters) -> Filters:
    """The sidebar filters a plan reads: portfolio, team, strategy and channel (its date range does not
    apply: the plan is for one date), so that a change of dates is not a new question."""
    return Filters(portfolios=filters.portfolios, teams=filters.teams, channels=filters.channels,
                   strategies=filters.strategies)


def _headline(accounts_offered, dialer, specialist, top_n, plan_expected, offered_accounts, open_accounts,
              open_expected_sum) -> dict:
    return {
        "accounts_offered": int(accounts_offered), "dialer": int(dialer), "specialist": int(specialist),
        "open_accounts": int(open_accounts), "no_headroom": int(open_accounts - offered_accounts), "top_n": int(top_n),
        "plan_expected": float(plan_expected),
        "random_expected": top_n * float(open_expected_sum) / open_accounts if open_accounts else None,
    }


def stored_view(con, day: date, model_id: str, filters: Filters, queues: tuple[str, ...], n: int, limit: int) -> dict:
    """What the page shows of the stored plan, by queries (the plan itself never leaves the database):
    {"head": the headline (as `headline`), "rows": the selection's first `limit` rows, "selected_rows",
    "dialer_rows": the selection's row counts}."""
    params = _stored_params(day, model_id, filters, queues)
    found = query_df(con, "plan_stored_headline", {**params, "n": int(n)}).iloc[0]
    head = _headline(found["accounts_offered"], found["dialer_accounts"], found["specialist_accounts"], found["top_n"],
                     found["plan_expected"], found["offered_accounts"], found["open_accounts"],
                     found["open_expected_sum"] if pd.notna(found["open_expected_sum"]) else 0.0)
    return {"head": head, "rows": stored_rows(con, day, model_id, filters, queues, limit),
            "selected_rows": int(found["selected_rows"]), "dialer_rows": int(found["dialer_rows"])}


def stored_dialer_rows(con, day: date, model_id: str, filters: Filters, queues: tuple[str, ...]) -> pd.DataFrame:
    """The dialer's file from the stored plan (see `dialer_rows`)."""
    if queues and "dialer" not in queues:
        return dialer_rows(stored_rows(con, day, model_id, filters, queues, 0))
    return dialer_rows(stored_rows(con, day, model_id, filters, ("dialer",)))


def plan_for(con, day: date, ranking: str, model_id: str, rules: RuleSet | None = None) -> dict:
    """{"plan": the plan for `day` ranked by `ranking`, planned now (make_plan), "accounts": every open
    account at `day` with its expected collection and its portfolio, team and strategy}: the views the
    stored plan is not (another date or ranking)."""
    scores = scores_for(con, day, model_id)
    plan = make_plan(con, day, scores, rules=rules, ranking=ranking)
    accounts = query_df(con, "plan_baseline_accounts", frames={"scores": scores})
    return {"plan": plan, "accounts": accounts}


def frame_view(plan: pd.DataFrame, accounts: pd.DataFrame, filters: Filters, queues: tuple[str, ...], n: int,
               limit: int) -> dict:
    """As `stored_view`, on a plan made now (a frame)."""
    chosen = select(plan, filters, queues)
    return {"head": headline(plan, accounts, filters, queues, n), "rows": chosen.head(limit),
            "selected_rows": len(chosen), "dialer_rows": int((chosen["queue"] == "dialer").sum())}


def _chosen(frame: pd.DataFrame, pairs) -> pd.Series:
    keep = pd.Series(True, index=frame.index)
    for column, chosen in pairs:
        if chosen:
            keep &= frame[column].isin(chosen)
    return keep


def _account_filters(filters: Filters) -> list[tuple[str, tuple]]:
    return [("portfolio", filters.portfolios), ("team", filters.teams), ("strategy", filters.strategies)]


def select(plan: pd.DataFrame, filters: Filters, queues: tuple[str, ...] = ()) -> pd.DataFrame:
    """The plan's rows in the sidebar's portfolio, team, strategy and channel choices and the queues
    chosen (empty = all). The sidebar's date range does not apply: the plan is for one date."""
    return plan[_chosen(plan, [*_account_filters(filters), ("channel", filters.channels), ("queue", queues)])]


def headline(plan: pd.DataFrame, accounts: pd.DataFrame, filters: Filters, queues: tuple[str, ...], n: int) -> dict:
    """The page's headline figures for the selection (see the module's doc for the random baseline).

    accounts_offered: accounts with at least one row in the selection; dialer/specialist: of those,
    accounts in each queue; no_headroom: open accounts of the sidebar's account filters offered on no
    channel at all; top_n: N, at most the accounts offered; plan_expected: the expected collection of
    the selection's first top_n accounts (by account_rank); random_expected: top_n x the mean
    expected collection of the open accounts of the account filters (None when there are none)."""
    in_accounts = plan[_chosen(plan, _account_filters(filters))]
    chosen = select(plan, filters, queues)
    first = chosen.sort_values("account_rank", kind="stable").drop_duplicates("account_id")
    pool = accounts[_chosen(accounts, _account_filters(filters))]
    top_n = min(int(n), len(first))
    return _headline(len(first), chosen.loc[chosen["queue"] == "dialer", "account_id"].nunique(),
                     chosen.loc[chosen["queue"] == "specialist", "account_id"].nunique(), top_n,
                     first["expected_collection"].head(top_n).sum(), in_accounts["account_id"].nunique(), len(pool),
                     pool["expected_collection"].sum())


def _clock(ts: pd.Series, tz: str) -> pd.Series:
    return ts.dt.tz_convert(tz).dt.strftime("%H:%M")


def windows(plan: pd.DataFrame) -> pd.DataFrame:
    """`window_local` ("08:00–21:00 CST", the account's zone) and `window_utc` ("14:00–03:00 UTC +1d"
    when it ends on the next UTC day) of each row's [contact_from, contact_until)."""
    start, end = plan["contact_from"], plan["contact_until"]
    local = pd.Series("", index=plan.index, dtype=object)
    for tz, idx in plan.groupby("timezone", dropna=True).groups.items():
        zone_start = start.loc[idx].dt.tz_convert(tz)
        local.loc[idx] = (zone_start.dt.strftime("%H:%M") + "–" + _clock(end.loc[idx], tz) + " "
                          + zone_start.dt.strftime("%Z")).to_numpy()
    next_day = end.dt.tz_convert("UTC").dt.date > start.dt.tz_convert("UTC").dt.date
    utc = _clock(start, "UTC") + "–" + _clock(end, "UTC") + " UTC" + next_day.map({True: " +1d", False: ""})
    return pd.DataFrame({"window_local": local.where(start.notna(), ""), "window_utc": utc.where(start.notna(), "")},
                        index=plan.index)


TABLE_COLUMNS = ["rank", "account_id", "channel", "queue", "propensity", "balance", "expected_collection",
                 "window_local", "window_utc", "best_local_hour", "calls_left", "cooldown_ends", "reasons",
                 "team", "strategy"]


def table(plan: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """The list as the page shows it (the first `limit` rows): TABLE_COLUMNS, windows as text."""
    head = plan if limit is None else plan.head(limit)
    shown = pd.concat([head, windows(head)], axis=1)
    return shown[TABLE_COLUMNS].reset_index(drop=True)


def dialer_rows(plan: pd.DataFrame) -> pd.DataFrame:
    """The dialer's file: the selection's dialer-queue rows, written as `python -m analysis plan
    --queue dialer` writes them (instants as ISO 8601 UTC with `Z`)."""
    return csv_frame(plan[plan["queue"] == "dialer"]).reset_index(drop=True)
