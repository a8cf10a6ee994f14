"""The SPEC section 3 scorecard on Spark: the same query files, the same Python after them.

`SparkSource` is the Spark half of `analysis.scorecard.metrics` (whose `DuckDBSource` is the DuckDB
half): it runs `queries/scorecard_*.sql` transpiled to Spark SQL (`analysis.spark.sql`) over the views
of `analysis.spark.tables.read_tables`, and returns their frames typed as DuckDB's. The month checks,
ratios, rounding and the scorecard table are `analysis.scorecard.metrics`'s, so the two engines write
the same CSV and PDF.

The breach metrics count the default rules' breaches (SPEC section 3), found on Spark by
`analysis.spark.audit.breach_frame` and counted per month of the reporting zone by
`queries/scorecard_breaches.sql` over them (a temporary view `breaches`).
"""
from __future__ import annotations

from analysis.scorecard.metrics import BREACH_SOURCES
from analysis.spark.sql import run

BREACH_VIEW = "breaches"


class SparkSource:
    engine = "spark"

    def __init__(self, spark):
        self.spark = spark
        self._breaches_ready = False

    def frame(self, stem: str, params: dict):
        return run(self.spark, stem, params)

    def frames(self, stems: tuple[str, ...], params: dict) -> dict:
        """The queries' frames, run side by side: each is a small job, and on a few cores Spark spends
        much of one in planning and scheduling (half the time of running them one after another)."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(stems) or 1) as pool:
            return dict(zip(stems, pool.map(lambda stem: self.frame(stem, params), stems)))

    def breaches_monthly(self, params: dict, breaches: str):
        """Breach counts per month: the default rules' breaches, found on Spark once per source.
        Spark has no stored audit, so `stored` (the pages' choice) counts the default rules' too."""
        if breaches not in BREACH_SOURCES:
            raise ValueError(f"breaches must be one of {BREACH_SOURCES}, not {breaches!r}")
        if not self._breaches_ready:
            self._register_breaches()
        return run(self.spark, "scorecard_breaches", params)

    def _register_breaches(self) -> None:
        from analysis.compliance.rules import load_rules
        from analysis.spark.audit import breach_frame, release

        # checkpointed (kept by the executors, lineage cut): the audit runs once per source, however many
        # months and queries count its breaches (a plain cache() was not matched by the later queries)
        found = breach_frame(self.spark, load_rules())
        counted = found.selectExpr("contact_id", "account_id", "rule_id", "cast(ts as timestamp) as ts").localCheckpoint()
        counted.createOrReplaceTempView(BREACH_VIEW)
        release(self.spark)  # the audit's cached contacts: the checkpoint no longer needs them
        self._breaches_ready = True


def spark_source(input_dir: str, spark=None) -> SparkSource:
    """A source over the SPEC section 1 tables of `input_dir` (Parquet), on `spark` or the usual session."""
    from analysis.spark.session import session
    from analysis.spark.tables import read_tables, table_paths

    table_paths(input_dir)  # a missing folder or accounts.parquet is told in one line before Spark starts
    spark = spark or session()
    read_tables(spark, input_dir)
    return SparkSource(spark)

