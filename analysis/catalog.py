"""What is in a database: freshness, filter choices, table counts, import history, quarantine."""
from __future__ import annotations

from datetime import date

import pandas as pd

from analysis.db import get_meta, rows, table_exists
from analysis.schema import CHANNELS, TABLES


def data_as_of(con) -> str | None:
    """The newest event timestamp in the data (UTC, ISO 8601), as recorded at build or import time."""
    return get_meta(con, "data_as_of")


def filter_options(con) -> dict:
    """Distinct values for the shared sidebar filters, and the date range the data spans."""
    def distinct(col: str) -> list[str]:
        return [r[0] for r in rows(con, f"select distinct {col} from accounts where {col} is not null order by 1")]

    span = rows(con, "select min(ts)::date, max(ts)::date from contacts")[0] if table_exists(con, "contacts") else (None, None)
    return {
        "portfolios": distinct("portfolio"),
        "teams": distinct("team"),
        "strategies": distinct("strategy"),
        "channels": list(CHANNELS),
        "min_date": span[0] or date(2020, 1, 1),
        "max_date": span[1] or date(2020, 1, 1),
    }


def table_counts(con) -> pd.DataFrame:
    out = []
    for name in list(TABLES) + ["quarantine"]:
        n = rows(con, f"select count(*) from {name}")[0][0] if table_exists(con, name) else 0
        out.append({"table": name, "rows": n})
    return pd.DataFrame(out)


def import_history(con) -> pd.DataFrame:
    if not table_exists(con, "import_log"):
        return pd.DataFrame()
    cur = con.cursor()
    try:
        return cur.execute("select * from import_log order by import_id desc, table_name").df()
    finally:
        cur.close()


def quarantine(con, limit: int = 1000) -> pd.DataFrame:
    if not table_exists(con, "quarantine"):
        return pd.DataFrame()
    cur = con.cursor()
    try:
        return cur.execute("select * from quarantine order by import_id desc, table_name, line limit ?", [limit]).df()
    finally:
        cur.close()
