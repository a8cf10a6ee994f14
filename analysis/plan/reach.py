"""The best local hour and channel to reach each open account (issue 24).

For every open account at `as_of` and every plan channel, how likely an outbound contact reaches the
consumer (`reach_rate`, the channel comparison) and the local hours ranked by that likelihood (`hours`,
best first; `best_local_hour` the first). Each figure is the account's own history shrunk toward its
segment's (portfolio x state) and the segment's toward the firm's, so that an account with a handful of
calls is not ranked on noise and an account with none gets its segment's figures. The definitions
(what "reached" means on each channel, the look-back, the priors) are in queries/plan_reach.sql and
DECISIONS.md, "Best hour and channel (issue 24)".
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pandas as pd

from analysis.db import bind, cursor, sql_text
from analysis.errors import UserError

LOOKBACK_DAYS = 180  # contacts older than this say little about today's habits, and cost time at 50M rows
RESPONSE_HOURS = 72  # a message counts as reaching the consumer when they answer or pay within this
# Local hours a contact may be planned in: 08:00-21:00 (12 CFR 1006.6(b)(1)), so the last start is 20:xx.
PLAN_HOURS = tuple(range(8, 21))
# Bounds of the prior's weight in pseudo-attempts (its estimate comes from the data, see plan_reach.sql):
# at least 2, so that one lucky call does not make an hour; at most 500, i.e. "accounts do not differ".
K_MIN, K_MAX = 2.0, 500.0
COLUMNS = ["account_id", "channel", "reach_rate", "best_local_hour", "hours"]


def reach(con, as_of: date, channels: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per (open account at `as_of`, channel of `channels`, default analysis.plan.PLAN_CHANNELS):
    `account_id, channel, reach_rate (0..1; null when the firm has no attempt on the channel),
    best_local_hour (int, the account's zone), hours (PLAN_HOURS best first: an Arrow list column, each
    value a list of ints)`, from contacts and payments with timestamps before `as_of` 00:00 UTC.
    Works on a read-only connection."""
    if isinstance(as_of, datetime) or not isinstance(as_of, date):
        raise UserError(f"reach: as_of must be a date (YYYY-MM-DD), not {as_of!r}")
    if channels is None:
        from analysis import plan  # here, not at the top: the package imports this module

        channels = plan.PLAN_CHANNELS
    until = datetime.combine(as_of, time(0), tzinfo=timezone.utc)  # known at as_of: before its 00:00 UTC
    params = {
        "as_of": as_of, "until": until, "since": until - timedelta(days=LOOKBACK_DAYS),
        "sent_before": until - timedelta(hours=RESPONSE_HOURS), "response_hours": RESPONSE_HOURS,
        "channels": list(channels), "hours": list(PLAN_HOURS), "k_min": K_MIN, "k_max": K_MAX,
    }
    sql = sql_text("plan_reach")
    cur = cursor(con, sql)
    try:
        # Through Arrow, `hours` an Arrow list column (each value a list of ints): ~1.5 s per million rows,
        # against ~3 s for query_df's numpy arrays made into lists, which DuckDB also scans 5x slower
        # when the plan registers the frame.
        table = cur.sql(sql, params=bind(sql, params)).to_arrow_table()
    finally:
        cur.close()
    import pyarrow as pa  # pandas' Arrow dtypes need it; imported where used, like the query's frame

    df = table.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_list(t) else None)
    df["reach_rate"] = df["reach_rate"].astype("float64")
    df["best_local_hour"] = df["best_local_hour"].astype("int64")
    return df[COLUMNS].reset_index(drop=True)
