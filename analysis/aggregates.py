"""Pipeline step "aggregates": tables at the grain the dashboard's filters need, so a page reads
thousands of rows where it read millions.

The sidebar filters by UTC date, by the account's portfolio, team and strategy, and by channel.
Each table here keeps those as columns, is ordered by day (DuckDB's zone maps then skip the row
groups outside a date range) and is rebuilt in full from the contract's tables and the derived
`breaches` after every import (analysis/pipeline.py STEPS, after "breaches"):

- `contact_daily`: contacts counted per day x portfolio x team x strategy x channel x direction x
  agent, with the breaches on them (Compliance: placed calls, worst offenders);
- `breach_facts`: each breach with its contact's and account's attributes (Compliance: counts, trend,
  the list), no join with the contacts at read time;
- `payment_facts`: each payment with the channel of the account's last contact before it (Repayments:
  collections by channel of last contact), the as-of join made once;
- `outbound_facts`: each outbound contact with its account's filter attributes, local weekday and
  hour, whether it reached the right party (the as-of join to the replies made once) and whether it
  was breached (Repayments: best time to reach; Balance: contacts and breaches per account).

A reader uses them only when `ready` (this step has run with this definition, meta `aggregates`);
otherwise, on a database built before the step existed or a hand-made one, it runs the query over
the contract's tables, which gives the same rows (tests/test_aggregates.py).

Every figure read from these is the one the query over the contract's tables gives:
benchmarks/compare_figures.py proves it on a database.
"""
from __future__ import annotations

from analysis.db import create_table, get_meta, set_meta

TABLES = {"contact_daily": "contact_daily_build", "breach_facts": "breach_facts_build",
          "payment_facts": "payment_facts_build", "outbound_facts": "outbound_facts_build"}
VERSION = "1"  # bumped when a table's definition changes (meta aggregates)


def ready(con) -> bool:
    """True when this step has built the tables, with this definition, in this database."""
    return get_meta(con, "aggregates") == VERSION


def stem(con, name: str) -> str:
    """The query file to run: `name`_agg (reading the aggregate tables) when they are ready, else `name`."""
    return f"{name}_agg" if ready(con) else name


def refresh(con) -> None:
    """Pipeline step: rebuild every aggregate table in full (each a single grouped scan)."""
    for name, stem in TABLES.items():
        create_table(con, name, stem)
    set_meta(con, "aggregates", VERSION)
