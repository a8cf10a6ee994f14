"""The SPEC section 1 tables from a Parquet directory, as Spark temporary views typed by the contract.

Layout (`--input DIR`, what `python -m analysis export` writes): `DIR/<table>.parquet`, a file or a
folder of part files, for each table present; `accounts` is required. DIR may be any URI the cluster
can read (`s3a://bucket/book/`, `hdfs:///book`, `abfss://...`); local paths are checked here first.

Each view has the contract's columns (extra columns dropped, missing optional ones null) cast to the
contract's types: str -> string, int -> bigint, amount -> decimal(18,2), date -> date, timestamp ->
timestamp (an instant; text must carry its offset or `Z`), bool -> boolean (`true/false/1/0/yes/no`,
any case; `vulnerable` defaults to false), tz -> string. As the import does, `state` is trimmed and
upper-cased and a non-call contact without an outcome gets `sent` (outbound) or `received` (inbound).

The Spark path does not quarantine: it expects data that already meets the contract (an export of an
imported database, or a firm's own pipeline). It refuses, in one line naming the table and column,
a missing required column and a required value that is missing or not of its type, and rows whose
channel or direction is outside the contract's lists, since those would change the rules' results.
"""
from __future__ import annotations

from pathlib import Path

from analysis.errors import UserError
from analysis.schema import CHANNELS, DIRECTIONS, PREFERENCE_CHANNELS, TABLES

SPARK_TYPES = {
    "str": "string",
    "int": "bigint",
    "amount": "decimal(18,2)",
    "date": "date",
    "timestamp": "timestamp",
    "bool": "boolean",
    "tz": "string",
}
# Closed lists the rules depend on: a value outside them is refused rather than silently unmatched.
ENUMS = {("contacts", "channel"): CHANNELS, ("contacts", "direction"): DIRECTIONS,
         ("preferences", "channel"): PREFERENCE_CHANNELS}


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def table_paths(input_dir: str) -> dict[str, str]:
    """`<table>.parquet` per contract table found under `input_dir` (local paths checked here)."""
    base = str(input_dir).rstrip("/")
    if not _is_local(base):
        return {name: f"{base}/{name}.parquet" for name in TABLES}  # the cluster checks; missing ones are skipped on read
    local = Path(base.removeprefix("file://"))
    if not local.is_dir():
        raise UserError(f"--input {input_dir} is not a directory: give the folder holding accounts.parquet, contacts.parquet, ...")
    found = {name: str(local / f"{name}.parquet") for name in TABLES if (local / f"{name}.parquet").exists()}
    if "accounts" not in found:
        raise UserError(f"--input {input_dir} has no accounts.parquet: accounts are required "
                        f"(`python -m analysis export --db FILE --out DIR` writes this layout)")
    return found


def _bool(column):
    from pyspark.sql import functions as F

    text = F.lower(F.trim(column.cast("string")))
    return F.when(text.isin("true", "1", "yes"), F.lit(True)).when(text.isin("false", "0", "no"), F.lit(False))


def _typed_column(table: str, name: str, kind: str, present: bool):
    """The contract's column `name` of `table` typed as the import types it (DataFrame API: no SQL text)."""
    from pyspark.sql import functions as F

    target = SPARK_TYPES[kind]
    if not present:
        value = F.lit(False) if (table, name) == ("accounts", "vulnerable") else F.lit(None).cast(target)
    elif kind == "bool":
        value = _bool(F.col(name))
        if (table, name) == ("accounts", "vulnerable"):
            value = F.coalesce(value, F.lit(False))
    elif (table, name) == ("accounts", "state"):
        value = F.upper(F.trim(F.col(name).cast("string")))
        value = F.when(value != "", value)
    else:
        value = F.col(name).try_cast(target)
    return value.alias(name)


def read_tables(spark, input_dir: str) -> dict[str, object]:
    """Register every contract table as a temporary view named after it; the DataFrames by name.

    Tables absent from `input_dir` become empty views with the contract's columns."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    paths = table_paths(input_dir)
    frames = {}
    for name, table in TABLES.items():
        df = None
        if name in paths:
            try:
                df = spark.read.parquet(paths[name])
            except Exception as exc:  # AnalysisException: path missing on a cluster URI, or not Parquet
                if not _is_local(paths[name]) and "PATH_NOT_FOUND" in str(exc) and name != "accounts":
                    df = None
                else:
                    raise UserError(f"cannot read {paths[name]}: {str(exc).splitlines()[0]}") from None
        if df is None:
            schema = StructType.fromDDL(", ".join(f"{c.name} {SPARK_TYPES[c.type]}" for c in table.columns))
            typed = spark.createDataFrame([], schema)
        else:
            present = set(df.columns)
            missing = [c.name for c in table.columns if c.required and c.name not in present]
            if missing:
                raise UserError(f"{paths[name]} lacks the required column {missing[0]}: "
                                f"add it (SPEC section 1, `python -m analysis data-dictionary`)")
            typed = df.select(*[_typed_column(name, c.name, c.type, c.name in present) for c in table.columns])
            if name == "contacts":  # a non-call contact without an outcome: sent / received, as the import fills it
                filled = F.when(F.col("channel") != "call", F.when(F.col("direction") == "outbound", F.lit("sent"))
                                .when(F.col("direction") == "inbound", F.lit("received")))
                typed = typed.withColumn("outcome", F.coalesce(F.col("outcome"), filled))
            _check(typed, name, table, df, paths[name])
        typed.createOrReplaceTempView(name)
        frames[name] = typed
    return frames


def _check(typed, name: str, table, raw, path: str) -> None:
    """One pass over the table: required values present and of their type, closed lists respected."""
    from pyspark.sql import functions as F

    checks = {}
    for c in table.columns:
        if c.required and c.name in raw.columns:
            checks[f"missing:{c.name}"] = F.sum(F.when(F.col(c.name).isNull(), 1).otherwise(0))
        enum = ENUMS.get((name, c.name))
        if enum and c.name in raw.columns:
            checks[f"enum:{c.name}"] = F.sum(F.when(F.col(c.name).isNotNull() & ~F.col(c.name).isin(*enum), 1).otherwise(0))
    if not checks:
        return
    counts = typed.agg(*[expr.alias(key) for key, expr in checks.items()]).collect()[0].asDict()
    for key, n in counts.items():
        if n:
            kind, column = key.split(":")
            if kind == "missing":
                raise UserError(f"{path}: {n:,} rows have no {column} or one that is not a {table.column(column).type}: "
                                f"fix them, or import the files with `python -m analysis ingest`, which quarantines such rows")
            raise UserError(f"{path}: {n:,} rows have a {column} outside {', '.join(ENUMS[(name, column)])}: "
                            f"fix them, or import the files with `python -m analysis ingest`, which quarantines such rows")
