"""`python -m analysis sentiment --engine spark`: the same scores as the local path, on Apache Spark.

Input (`--in`): a CSV file (a name ending in .csv; read by Spark's CSV reader with the options that
match the local reader: header, quoted fields across lines, `""` inside quotes, every value text)
or Parquet (a .parquet file or folder, or any other folder). Any path or URI the cluster reads.

Scoring: `mapInPandas` over Arrow batches; each Python worker process loads the model once (the
module-level `_MODELS`, keyed by the model's name and configuration; Spark reuses its Python
workers across tasks, `spark.python.worker.reuse`), then scores every batch it is given with the
same `model.score` the local path calls. The driver loads the model first as well: that checks the
choice (one line for an unknown model or a missing trained-model path, before any Spark job) and,
for the transformer, builds the onnx graph once into the local cache, which workers on the same
machine then read instead of building it each. The default transformer (onnxruntime int8) scores
each text alone and its head works row by row, so a text's score does not depend on how rows fall
into batches or partitions (nor on the local path's chunks): the output bytes are equal. So do
vader and onnx fp32 (`quantize = false`). With `backend = "torch"` they are not: fp32 differs by up
to ~1e-6 between batchings (400 texts, none at 4 decimals), int8 by up to 0.56 (the config already
says to keep it off); the command warns about the latter.

Known difference in what is read: Spark's CSV parser turns a CRLF inside a quoted value into LF
(univocity normalises line endings within quotes, and Spark has no option to stop it); the local
reader keeps CRLF. The scores are the same (a line break is whitespace to both models), the text
column's bytes are not. Everything else tested reads alike: UTF-8 with or without BOM, UTF-16,
latin-1 (the local encoding rules are applied to a local file), repeated and blank header names
(renamed as the local reader names them), empty and whitespace-only values, quotes and commas.

Order: every row carries its input position, (file, row within the file's read order); for CSV
output, and for CSV input (one file is read by one task; spreading it over the workers needs a
shuffle), rows are range-partitioned and sorted on that key before scoring, so the partitions come
back to the driver in input order. The driver streams them (`toLocalIterator`), checks the order,
and writes one CSV exactly as the local path does (same columns, order and formatting) to a
temporary file beside `--out`, renamed into place at the end. Parquet output (`--out` ending in
.parquet, or an existing folder) is Spark's own writer: a folder of parts with the input's columns
plus sentiment_score (double, unrounded) and sentiment_label, replacing what was there.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from analysis.errors import UserError

SCORE, LABEL = "sentiment_score", "sentiment_label"
FILE_KEY, ROW_KEY = "__sentiment_file", "__sentiment_row"
ROOT = Path(__file__).resolve().parent.parent.parent

_MODELS: dict[str, object] = {}  # per Python worker process: model key -> loaded model


def model_key(name: str, config: dict) -> str:
    return json.dumps([name, config], sort_keys=True, default=str)


def worker_model(name: str, config: dict):
    """The model for (name, config), loaded on this process's first call and kept for its life."""
    key = model_key(name, config)
    model = _MODELS.get(key)
    if model is None:
        from analysis.sentiment import load_model

        model = _MODELS[key] = load_model(name, config)
    return model


def texts_of(values) -> list:
    """A pandas column as the texts `model.score` takes: str, or None for a missing value (NaN, NA)."""
    import pandas as pd

    return [v if isinstance(v, str) else (None if v is None or pd.isna(v) else str(v)) for v in values]


def scorer(text_column: str, score_column: str, label_column: str, name: str, config: dict, columns: list[str]):
    """The function mapInPandas runs: scores each Arrow batch, returns `columns` in order."""

    def score(batches):
        model = worker_model(name, config)
        for pdf in batches:
            scores, labels = model.score(texts_of(pdf[text_column].tolist()))
            pdf = pdf.assign(**{score_column: [float(s) for s in scores], label_column: list(labels)})
            yield pdf[columns]

    return score


def quote(name: str) -> str:
    """A column name as Spark resolves it literally (a dot in a name is not a struct's field)."""
    return "`" + name.replace("`", "``") + "`"


def is_csv(path: str) -> bool:
    return path.rstrip("/").lower().endswith(".csv")


def is_local(path: str) -> bool:
    return "://" not in path and not path.startswith("file:")


def _parallelism(spark) -> int:
    try:
        return max(int(spark.sparkContext.defaultParallelism), 1)
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext
        return max(int(spark.conf.get("spark.sql.shuffle.partitions", "2")), 1)


def _task_cpus(spark) -> int:
    try:
        return max(int(spark.conf.get("spark.task.cpus", "1")), 1)
    except Exception:  # noqa: BLE001
        return 1


def read_input(spark, path: str, encoding: str | None, local_header: list[str] | None):
    """The input as a DataFrame with (FILE_KEY, ROW_KEY) appended: every value text for CSV."""
    from pyspark.sql import functions as F

    try:
        if is_csv(path):
            reader = spark.read.options(header=True, multiLine=True, quote='"', escape='"', inferSchema=False,
                                        mode="PERMISSIVE", encoding=encoding or "UTF-8")
            df = reader.csv(path)
            if local_header is not None and len(local_header) == len(df.columns):
                df = df.toDF(*local_header)  # the local reader's names (blank and repeated names)
        else:
            df = spark.read.parquet(path)
        columns = df.columns
    except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException: path not found, not Parquet, ...
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"cannot read --in {path} with Spark ({first[:300]}): give a CSV file or a Parquet file or folder") from None
    keyed = df.select(*[F.col(quote(c)) for c in columns],
                      F.col("_metadata.file_path").alias(FILE_KEY),
                      F.monotonically_increasing_id().alias(ROW_KEY))
    return keyed, columns


def run(args, name: str, config: dict) -> int:
    """Score `args.inp` on Spark with the model (name, config) the command line resolved."""
    from tqdm import tqdm

    from analysis.sentiment import load_model
    from analysis.sentiment.csvinput import local_csv_header
    from analysis.spark.session import require_spark

    require_spark()
    try:
        import pyarrow  # noqa: F401 - mapInPandas moves Arrow batches
    except ImportError:
        raise UserError("--engine spark scores in Arrow batches and needs pyarrow, which is not installed: "
                        "run `pip install -r requirements-spark.txt`") from None
    src, out = str(args.inp), str(args.out)
    csv_out = is_csv(out) or not (out.rstrip("/").lower().endswith(".parquet") or (is_local(out) and Path(out).is_dir()))
    if csv_out and not is_local(out):
        raise UserError(f"--out {out}: a CSV output is written by the driver to a local file; give a local path, "
                        "or a .parquet name for Spark's own writer")
    if csv_out and not Path(out).parent.exists():
        raise UserError(f"output folder {Path(out).parent} does not exist: create it or choose another --out")
    if is_local(src) and not Path(src).exists():
        raise UserError(f"input {src} not found: give an existing CSV file or Parquet file or folder with --in")
    if args.chunk_rows < 1:
        raise UserError("--chunk-rows must be at least 1")
    encoding, header = args.encoding, None
    if is_csv(src) and is_local(src) and Path(src).is_file():  # the local path's header and encoding rules, for equal output
        encoding, header = local_csv_header(Path(src), args.encoding, args.text_column)
    spark_encoding = {"utf-8-sig": "UTF-8", "latin-1": "ISO-8859-1", "utf-16": "UTF-16"}.get(encoding or "", encoding)

    tcfg = config.get("transformer", {})
    if name == "transformer" and not tcfg.get("model_dir") and tcfg.get("backend") == "torch" and tcfg.get("quantize", True):
        print("warning: the torch int8 encoder scores a text differently by the texts batched with it; "
              "Spark batches rows otherwise than the local path: set backend = \"onnx\" for equal scores", file=sys.stderr)
    model = load_model(name, config)  # checks the choice and builds the onnx graph once, before any Spark job
    # workers on this machine import `analysis` from here (a cluster's executors need it installed)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    from analysis.spark.session import session

    spark = session()
    df, columns = read_input(spark, src, spark_encoding, header)
    if args.text_column not in columns:
        shown = ", ".join(columns[:20])
        raise UserError(f"column {args.text_column!r} not in {src} (columns: {shown}): pass --text-column with one of them")

    from pyspark.sql import types as T

    # internal names _c0, _c1, ... while Spark handles the rows: pyspark's own mapInPandas resolves
    # each column by name, and a dot in a name (`a.1`, the local reader's second `a`) would not resolve
    out_columns = columns + [c for c in (SCORE, LABEL) if c not in columns]
    inner = {c: f"_c{i}" for i, c in enumerate(columns)}
    inner.setdefault(SCORE, "__sentiment_score")
    inner.setdefault(LABEL, "__sentiment_label")
    keys = [FILE_KEY, ROW_KEY]
    df = df.toDF(*[inner[c] for c in columns], *keys)
    fields = {f.name: f for f in df.schema.fields}
    types = {SCORE: T.DoubleType(), LABEL: T.StringType()}
    schema = T.StructType([T.StructField(inner[c], types[c], True) if c in types else fields[inner[c]] for c in out_columns]
                          + [fields[k] for k in keys])
    worker_config = json.loads(json.dumps(config, default=str))
    worker_config.setdefault("transformer", {})["threads"] = _task_cpus(spark)  # one worker per task slot
    if name == "transformer" and not worker_config["transformer"].get("model_dir"):
        from analysis.sentiment.transformer import DEFAULT_HEAD, _resolve

        worker_config["transformer"]["head"] = str(_resolve(worker_config["transformer"].get("head", DEFAULT_HEAD)))
    partitions = args.partitions or _parallelism(spark)
    if csv_out or is_csv(src) or args.partitions:
        df = df.repartitionByRange(partitions, *keys).sortWithinPartitions(*keys)
    scorer_fn = scorer(inner[args.text_column], inner[SCORE], inner[LABEL], name, worker_config,
                       [inner[c] for c in out_columns] + keys)
    scored = df.mapInPandas(scorer_fn, schema).toDF(*out_columns, *keys)

    if not csv_out:
        try:
            scored.drop(*keys).write.mode("overwrite").parquet(out)
        except Exception as exc:  # noqa: BLE001
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UserError(f"Spark could not write {out} ({first[:300]}): check the path and the log above") from None
        print(f"scored {src} with {model.model_id} on Spark -> {out} (Parquet)", file=sys.stderr)
        return 0
    rows = write_csv(scored.toLocalIterator(prefetchPartitions=True), Path(out), out_columns, args.chunk_rows,
                     tqdm(unit="rows", file=sys.stderr, disable=args.quiet, desc=f"sentiment ({name}, spark)"))
    print(f"scored {rows:,} rows with {model.model_id} on Spark -> {out}", file=sys.stderr)
    return 0


def write_csv(rows, out: Path, columns: list[str], chunk_rows: int, bar) -> int:
    """Stream (columns + keys) rows to `out` as the local path writes them; returns the row count."""
    import csv

    import pandas as pd

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    done, last = 0, None
    width = len(columns)

    def flush(buffer, sink, first):
        nonlocal last
        for row in buffer:  # the range partitions arrive in order, each sorted: check it all the same
            key = (row[width], row[width + 1])
            if last is not None and key <= last:
                raise RuntimeError(f"rows came back out of input order at {key} after {last}")
            last = key
        chunk = pd.DataFrame([row[:width] for row in buffer], columns=columns, dtype=object)
        chunk[SCORE] = [f"{s:.4f}" for s in chunk[SCORE]]
        chunk.to_csv(sink, index=False, header=first, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")

    try:
        with open(tmp, "w", encoding="utf-8", newline="") as sink:
            buffer, first = [], True
            for row in rows:
                buffer.append(tuple(row))
                if len(buffer) >= chunk_rows:
                    flush(buffer, sink, first)
                    first, done = False, done + len(buffer)
                    bar.update(len(buffer))
                    buffer = []
            if buffer:
                flush(buffer, sink, first)
                first, done = False, done + len(buffer)
                bar.update(len(buffer))
            if first:  # no rows: the header with the two new columns, as the local path writes it
                pd.DataFrame(columns=columns).to_csv(sink, index=False)
        os.replace(tmp, out)
    finally:
        bar.close()
        if tmp.exists():
            tmp.unlink()
    return done
