"""The audit on Spark (issue 22): every (contact, rule) breach of a rule set, the same as DuckDB's.

`breach_frame(spark, rules)` reads the temporary views of `analysis.spark.tables.read_tables`
(accounts, contacts, consents, preferences) and returns the breaches as a DataFrame with the columns
of `analysis.compliance.engine.COLUMNS`: contact_id, account_id, rule_id, ts (timestamp, an instant),
local_ts (timestamp_ntz, the account's wall time), evidence (JSON text, byte for byte DuckDB's
to_json), explanation. `write_breaches` writes the audit command's CSV from it, byte for byte the
file `python -m analysis audit --db` writes.

The queries are the Spark SQL variants kept beside the DuckDB ones (queries/spark/<stem>.sql, see
DECISIONS.md "Spark"): `breach_contacts` (every contact with its wall times and the consents that may
cover it, a temporary view made once per audit), one query per rule kind, run once per rule with the
rule's parameters bound (`spark.sql(query, args=...)`, never pasted into the text), and `audit_csv`
(the text of each field). The rule parameters are those the DuckDB engine binds
(`analysis.compliance.engine.rule_params`, `counting_params`), so every kind and parameter a rules
file can hold runs on both engines.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from functools import reduce
from pathlib import Path

from analysis.compliance.engine import COLUMNS, counting_params, rule_params, windowed_cap_params
from analysis.compliance.rules import Rule, RuleSet
from analysis.db import sql_text
from analysis.errors import UserError
from analysis.spark.sql import bind_markers, inline_macros, markers

CONTACTS_VIEW = "breach_contacts"
BREACHES_VIEW = "audit_breaches"
HEADER = ",".join(COLUMNS) + "\n"
QUERY = {
    "windowed_cap": "rule_windowed_cap",
    "cooldown_after_event": "rule_cooldown_after_event",
    "quiet_hours": "rule_quiet_hours",
    "opt_out": "rule_opt_out",
}
SCHEMA = ("contact_id string, account_id string, rule_id string, ts timestamp, local_ts timestamp_ntz, "
          "evidence string, explanation string")



def spark_sql(stem: str) -> str:
    """The Spark SQL of a query kept as a Spark variant (queries/spark/<stem>.sql), with the semantic
    layer's macros it calls (the rules' account selector, `rule_selects`) inlined from their one home."""
    return inline_macros(sql_text(f"spark/{stem}"))


def _micros(hms: str) -> int:
    h, m, s = (int(part) for part in hms.split(":"))
    return ((h * 60 + m) * 60 + s) * 1_000_000


def spark_params(rule: Rule) -> dict:
    """The bound parameters of the Spark query of one rule: the DuckDB engine's, flattened (one rule
    per query, so a windowed cap's rule list becomes the rule's own cap and account filter)."""
    p = rule.params
    if rule.kind == "windowed_cap":
        group = windowed_cap_params([rule])
        member = group["rules"][0]
        params = {"window_days": group["window_days"], "noun": group["noun"], **member, **counting_params(p)}
    else:
        params = rule_params(rule)
        if rule.kind == "cooldown_after_event":
            params.update(counting_params(p))
        elif rule.kind == "quiet_hours":
            params.update(start_us=_micros(p.start), end_us=_micros(p.end))
    return params


def _empty(spark):
    return spark.createDataFrame([], SCHEMA)


def breach_frame(spark, rules: RuleSet):
    """The breaches of `rules` in the views accounts, contacts, consents and preferences (unsorted).

    Makes the temporary view `breach_contacts` (the contacts with their wall times), cached, which the
    frame reads when it runs: keep it until the frame has been used (`release` drops it)."""
    if not rules.rules:
        return _empty(spark)
    # Cached: every rule reads it, and it comes partitioned by account, as every rule query groups.
    prepared = spark.sql(spark_sql("breach_contacts")).persist()
    prepared.createOrReplaceTempView(CONTACTS_VIEW)
    frames = []
    for rule in rules.rules:
        query = spark_sql(QUERY[rule.kind])
        frame = spark.sql(query, args=bind_markers(markers(query), spark_params(rule)))
        frames.append(frame.selectExpr(
            "contact_id", "account_id", "rule_id", "ts", "cast(local_ts as timestamp_ntz) as local_ts",
            "evidence", "explanation"))
    return reduce(lambda a, b: a.unionByName(b), frames)


def release(spark) -> None:
    """Drop the cached view `breach_contacts` that `breach_frame` made (nothing when there is none)."""
    if spark.catalog.tableExists(CONTACTS_VIEW):
        spark.table(CONTACTS_VIEW).unpersist()
        spark.catalog.dropTempView(CONTACTS_VIEW)


def _error_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def write_breaches(spark, rules: RuleSet, out: Path) -> dict[str, int]:
    """Audit `rules` on the session's views and write the breaches to `out` as the DuckDB command
    does (same header, fields, order and `\\n` line ends); the count per rule id.

    The rows come to the driver one partition at a time (toLocalIterator), sorted by Spark, and are
    written to a temporary file beside `out` that is renamed into place: a failed run leaves `out` as
    it was and no temporary file."""
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    counts: dict[str, int] = {}
    written = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(HEADER)
            if rules.rules:
                try:
                    breach_frame(spark, rules).createOrReplaceTempView(BREACHES_VIEW)
                    rows = spark.sql(spark_sql("audit_csv")).toLocalIterator(prefetchPartitions=True)
                    for row in rows:
                        rule_id = row[2]
                        counts[rule_id] = counts.get(rule_id, 0) + 1
                        fh.write(",".join("" if field is None else field for field in row) + "\n")
                except Exception as exc:  # Spark's errors (analysis, execution, Py4J) as one line
                    if isinstance(exc, (UserError, OSError)):
                        raise
                    raise UserError(f"audit on Spark failed: {_error_line(exc)}") from None
        os.replace(tmp, out)
        written = True
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        if not written:
            Path(tmp).unlink(missing_ok=True)
        with contextlib.suppress(Exception):  # cleanup only: never hides the error being raised
            release(spark)
    return counts
