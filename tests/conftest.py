"""Shared fixtures. Tests use a real DuckDB; browser tests a real Chromium."""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.schema import create_schema  # noqa: E402


@pytest.fixture
def fresh_db():
    """An in-memory database with every contract table, empty."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    create_schema(con)
    yield con
    con.close()
