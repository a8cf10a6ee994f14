"""`python -m analysis sentiment`: add sentiment_score (-1..1) and sentiment_label to every row of a CSV.

Streams the file in chunks (any size), keeps every column and row as read (all values as text),
writes UTF-8 to a temporary file beside --out and renames it into place, so a failure never leaves
a half-written output. Encodings: UTF-8 (with or without BOM) and UTF-16 with BOM; a file that is
not valid UTF-8 is read as latin-1 with a warning (or as --encoding says). Empty texts score 0,
neutral.

`--model` is vader, transformer or the path of a trained model (`resolve_model`). `--engine spark`
scores on Apache Spark (`analysis.spark.sentiment`: CSV or Parquet in, the same CSV bytes or a
Parquet folder out); the default engine (`duckdb`, named as in the audit and the scorecard) is this
file's own streaming path on one machine.
"""
from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

from analysis.errors import UserError
from analysis.sentiment import MODELS
from analysis.sentiment.csvinput import check_column, input_encoding, read_header



def add_arguments(parser) -> None:
    parser.add_argument("--in", dest="inp", required=True, metavar="PATH",
                        help="input CSV with a header row (--engine spark: also a Parquet file or folder, any URI the cluster reads)")
    parser.add_argument("--text-column", required=True, metavar="COL", help="the column holding the text to score")
    parser.add_argument("--model", default=None, metavar="vader|transformer|PATH",
                        help="transformer, vader (fast), or the path of a trained model; "
                             "default: config/sentiment.toml's [pipeline] model (transformer) "
                             "(a weights .npz file like models/sentiment_minilm_lora.npz, or a transformers model folder)")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="output CSV (written whole or not at all); with --engine spark also a .parquet folder")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="duckdb (default): score on this machine; spark: on Apache Spark (pip install -r requirements-spark.txt)")
    parser.add_argument("--partitions", type=int, default=None,
                        help="--engine spark: partitions to score in (default: the cluster's default parallelism)")
    parser.add_argument("--encoding", default=None, help="input encoding; default: detect UTF-8/UTF-16 BOM, else UTF-8, else latin-1 with a warning")
    parser.add_argument("--chunk-rows", type=int, default=20_000, help="rows per chunk (memory use)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def resolve_model(choice: str | None) -> tuple[str, dict]:
    """(model name, configuration) for --model: vader, transformer (config/sentiment.toml's
    [transformer] settings), the path of a trained model (its weights .npz file, or a transformers
    model folder), which replaces the configured weights, or None: the pipeline's configured model.
    A one-line UserError when it is none of them."""
    from analysis.sentiment import DEFAULT_MODEL, read_config

    config = read_config()
    if choice is None:
        choice = str(config.get("pipeline", {}).get("model", DEFAULT_MODEL))
    if choice in MODELS:
        return choice, config
    path = Path(choice).expanduser()
    if not path.exists():
        if os.sep in choice or "/" in choice or path.suffix:
            raise UserError(f"trained sentiment model {choice} not found: give the path of an existing model, or use --model vader or transformer")
        raise UserError(f"unknown sentiment model {choice!r}: use one of {', '.join(MODELS)}, or the path of a trained model")
    transformer = {k: v for k, v in config.get("transformer", {}).items() if k not in ("head", "model_dir")}
    transformer["model_dir" if path.is_dir() else "head"] = str(path.resolve())
    return "transformer", {**config, "transformer": transformer}


def run(args) -> int:
    name, config = resolve_model(args.model)  # an unknown model or a missing path: one line, before any work
    if args.engine == "spark":
        from analysis.spark import sentiment as spark_sentiment

        return spark_sentiment.run(args, name, config)
    if args.partitions is not None:
        raise UserError("--partitions is for --engine spark")
    import pandas as pd
    from tqdm import tqdm

    from analysis.sentiment import load_model

    src, out = Path(args.inp), Path(args.out)
    if not src.is_file():
        raise UserError(f"input file {src} not found: give an existing CSV with --in")
    if not out.parent.exists():
        raise UserError(f"output folder {out.parent} does not exist: create it or choose another --out")
    if args.chunk_rows < 1:
        raise UserError("--chunk-rows must be at least 1")
    encoding, lines, fallback = input_encoding(src, args.encoding)
    if fallback:
        print(f"warning: {src} is not valid UTF-8; read it as latin-1 (pass --encoding to choose another)", file=sys.stderr)

    def chunks():
        try:
            return pd.read_csv(src, dtype=str, keep_default_na=False, encoding=encoding, chunksize=args.chunk_rows)
        except pd.errors.EmptyDataError:
            raise UserError(f"{src} is empty: it needs a header row naming the columns") from None
        except UnicodeError as exc:
            raise UserError(f"cannot read {src} as {encoding} ({exc.reason}): pass the right --encoding") from None

    header = read_header(src, encoding)
    check_column(header, args.text_column, src)
    model = load_model(name, config)  # before the progress bar: loading the transformer takes seconds
    reader = chunks()
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    rows_done = 0
    bar = tqdm(total=max(lines - 1, 0) or None, unit="rows", file=sys.stderr, disable=args.quiet, desc=f"sentiment ({name})")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as sink:
            first = True
            while True:
                try:
                    chunk = next(reader)
                except StopIteration:
                    break
                except pd.errors.ParserError as exc:
                    raise UserError(f"{src} is not a well-formed CSV ({str(exc).splitlines()[0]}): fix the file") from None
                except UnicodeError as exc:
                    raise UserError(f"cannot read {src} as {encoding} ({exc.reason}): pass the right --encoding") from None
                scores, labels = model.score(chunk[args.text_column].tolist())
                chunk["sentiment_score"] = [f"{s:.4f}" for s in scores]
                chunk["sentiment_label"] = labels
                chunk.to_csv(sink, index=False, header=first, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
                first = False
                rows_done += len(chunk)
                bar.update(len(chunk))
            if first:  # header only: still write the header with the two new columns
                header.assign(sentiment_score=[], sentiment_label=[]).to_csv(sink, index=False)
        os.replace(tmp, out)
    finally:
        bar.close()
        if tmp.exists():
            tmp.unlink()
    print(f"scored {rows_done:,} rows with {model.model_id} -> {out}", file=sys.stderr)
    return 0
