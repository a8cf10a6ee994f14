"""What is in a database: freshness, filter choices, table counts, import history, quarantine.

Every function takes an open connection (the dashboard's is read-only) and runs one query file.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from analysis.db import get_meta, query_df, query_rows
from analysis.schema import CHANNELS, TABLES

SYSTEM_TABLES = ("quarantine", "import_log", "meta")
NO_DATA_DATE = date(2020, 1, 1)  # the date filter's span when there are no contacts at all


def data_as_of(con) -> str | None:
    """The newest event timestamp in the data (UTC, ISO 8601), as recorded at build or import time."""
    return get_meta(con, "data_as_of")


def is_demo(con) -> bool:
    """Whether this database is the synthetic demo (built by `demo`, nothing imported into it since)."""
    return get_meta(con, "source") == "demo"


def filter_options(con) -> dict:
    """Distinct values for the shared sidebar filters, and the date range the data spans."""
    choices = query_rows(con, "filter_choices")
    first, last = query_rows(con, "contact_date_span")[0]
    return {
        "portfolios": [v for f, v in choices if f == "portfolio"],
        "teams": [v for f, v in choices if f == "team"],
        "strategies": [v for f, v in choices if f == "strategy"],
        "channels": list(CHANNELS),
        "min_date": first or NO_DATA_DATE,
        "max_date": last or first or NO_DATA_DATE,
    }


def table_counts(con) -> pd.DataFrame:
    """Rows per contract table and in the quarantine: columns table_name, row_count."""
    return query_df(con, "table_row_counts")


def derived_tables(con) -> pd.DataFrame:
    """Tables the pipeline derived (breaches, sentiment, ...) with DuckDB's row estimate."""
    return query_df(con, "derived_tables", {"known": [*TABLES, *SYSTEM_TABLES]})


def import_history(con) -> pd.DataFrame:
    """One row per imported file, newest import first."""
    return query_df(con, "import_history")


def quarantine_reasons(con) -> pd.DataFrame:
    """Quarantined rows counted by import, table and reason."""
    return query_df(con, "quarantine_reasons")


def quarantine(con, limit: int = 1000) -> pd.DataFrame:
    """The newest `limit` quarantined rows with file, line, reason and raw text."""
    return query_df(con, "quarantine_rows", {"limit": int(limit)})
