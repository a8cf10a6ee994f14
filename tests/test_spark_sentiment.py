"""`python -m analysis sentiment --engine spark` (issue 22) against the local path, on local-mode Spark.

The same input scored both ways gives the same output file, byte for byte (vader and the default
transformer, onnxruntime int8, which scores each text alone); Arrow batches are made small so that
the texts reach the model in other groups than the local path's chunks. Parquet in and out, row
order across part files, the model loaded once per Python worker, and the one-line refusals."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
LONG = ("I have been contacted by this collector about a debt that is not mine. They call me at work several "
        "times a week, even after I asked them in writing to stop, and they threatened to tell my employer. "
        "I sent proof that the account was paid in full two years ago but they keep reporting it to the "
        "credit bureaus. This has been extremely stressful for my family and I want it removed now. ") * 3


def varied_texts() -> list[str]:
    base = [
        "Thank you, that was really helpful!",
        "This is the worst company ever.",
        "",
        "   ",
        "ok",
        "I will call back on Monday",
        'She said "no problem, happy to help", and she was right',
        "line one is fine\nline two is awful, truly awful",
        "Très bien, merci — café was lovely 😀",
        "服务很好，谢谢",
        "NOT happy. at ALL!!!",
        "Payment plan agreed; 3 x £40, starting 1/5",
        LONG,
        LONG[:400],
        "a,b,c,\"d\"",
        "I'm not sure... maybe?",
        "\tleading tab and trailing spaces   ",
        "Great!!! :) but the fees are ridiculous",
        "The agent was GREAT, but the letter was HORRIBLE",
    ]
    return [t if i < len(base) else f"{base[i % len(base)]} #{i}" for i, t in enumerate(base * 3)]


def write_varied_csv(path: Path) -> None:
    texts = varied_texts()
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "comment", "note, with comma", "id"])  # the local reader names the second id "id.1"
        for i, t in enumerate(texts):
            w.writerow([f"r{i:03d}", t, "" if i % 5 == 0 else f'n"{i}"', i])


def run(*args) -> int:
    return main(["sentiment", *map(str, args), "--quiet"])


@pytest.fixture
def small_batches(spark):
    """Arrow batches of 7 rows: the model sees other groups of texts than the local path's chunk."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "7")
    yield
    spark.conf.set(key, before)


@pytest.mark.parametrize("model, on_spark", [
    ("vader", "vader"),
    ("transformer", "transformer"),
    # a trained model's path (here the shipped weights, which `transformer` loads by configuration)
    ("transformer", ROOT / "models" / "sentiment_minilm_lora.npz"),
])
def test_csv_scored_on_spark_is_byte_for_byte_the_local_output(spark, small_batches, tmp_path, model, on_spark):
    src = tmp_path / "in.csv"
    write_varied_csv(src)
    local, remote = tmp_path / "local.csv", tmp_path / "spark.csv"
    assert run("--in", src, "--text-column", "comment", "--model", model, "--out", local) == 0
    assert run("--engine", "spark", "--in", src, "--text-column", "comment", "--model", on_spark, "--out", remote,
               "--partitions", "3", "--chunk-rows", "10") == 0
    assert remote.read_bytes() == local.read_bytes()
    got = pd.read_csv(remote, dtype=str, keep_default_na=False)
    assert list(got.columns) == ["id", "comment", "note, with comma", "id.1", "sentiment_score", "sentiment_label"]
    assert got["comment"].tolist() == varied_texts()  # every row, in input order, texts intact
    assert set(got["sentiment_label"]) == {"negative", "neutral", "positive"}
    assert (got.loc[got["comment"].str.strip() == "", "sentiment_score"] == "0.0000").all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_parquet_parts_in_parquet_and_csv_out(spark, tmp_path):
    texts = varied_texts()
    folder = tmp_path / "in.parquet"
    folder.mkdir()
    # three part files of different sizes (Spark plans the biggest first): rows still come back
    # in file order, then row order within each file
    cuts = [0, 5, 40, len(texts)]
    for k in range(3):
        part = texts[cuts[k]:cuts[k + 1]]
        table = pa.table({"row": pa.array(range(cuts[k], cuts[k + 1]), pa.int64()),
                          "text": pa.array([None if t == "" else t for t in part], pa.string())})
        pq.write_table(table, folder / f"part-{k}.parquet")
    out = tmp_path / "out.parquet"
    assert run("--engine", "spark", "--in", folder, "--text-column", "text", "--model", "vader", "--out", out) == 0
    assert out.is_dir() and list(out.glob("*.parquet"))
    back = pd.read_parquet(out).sort_values("row").reset_index(drop=True)
    assert list(back.columns) == ["row", "text", "sentiment_score", "sentiment_label"]
    assert str(back["row"].dtype) == "int64" and back["row"].tolist() == list(range(len(texts)))
    from analysis.sentiment import load_model

    scores, labels = load_model("vader").score(texts)
    assert back["sentiment_score"].tolist() == [float(s) for s in scores]  # the same doubles, unrounded
    assert back["sentiment_label"].tolist() == labels

    # Parquet in, CSV out: the local path's bytes for the same rows as a CSV
    as_csv = tmp_path / "same.csv"
    pd.DataFrame({"row": [str(i) for i in range(len(texts))], "text": texts}).to_csv(as_csv, index=False)
    local, remote = tmp_path / "local.csv", tmp_path / "spark.csv"
    assert run("--in", as_csv, "--text-column", "text", "--out", local) == 0
    assert run("--engine", "spark", "--in", folder, "--text-column", "text", "--out", remote) == 0
    assert remote.read_bytes() == local.read_bytes()

    # CSV in, Parquet out: every value text, as the local path reads it
    src = tmp_path / "in.csv"
    write_varied_csv(src)
    out2 = tmp_path / "from_csv.parquet"
    assert run("--engine", "spark", "--in", src, "--text-column", "comment", "--out", out2) == 0
    from_csv = pd.read_parquet(out2)
    assert list(from_csv.columns) == ["id", "comment", "note, with comma", "id.1", "sentiment_score", "sentiment_label"]
    assert sorted(from_csv["id"]) == [f"r{i:03d}" for i in range(len(texts))]


def test_the_model_is_loaded_once_per_python_worker_not_per_batch(spark, small_batches):
    from analysis.spark import sentiment as spark_sentiment

    config = {"transformer": {}}

    def probe(batches):
        pid = os.getpid()
        for pdf in batches:
            model = spark_sentiment.worker_model("vader", config)
            yield pd.DataFrame({"pid": [pid] * len(pdf), "model": [id(model)] * len(pdf),
                                "cached": [len(spark_sentiment._MODELS)] * len(pdf)})

    df = spark.range(0, 200, numPartitions=4).mapInPandas(probe, "pid long, model long, cached long").toPandas()
    assert len(df) == 200  # 4 partitions x 50 rows in batches of 7: over 28 batches
    per_worker = df.groupby("pid")[["model", "cached"]].nunique()
    # one model object per worker process, and its cache did not grow from batch to batch
    assert (per_worker == 1).all().all() and len(per_worker) <= 4


def test_missing_text_column_in_parquet_is_one_line(spark, tmp_path, capsys):
    folder = tmp_path / "in.parquet"
    folder.mkdir()
    pq.write_table(pa.table({"text": ["fine"]}), folder / "part-0.parquet")
    out = tmp_path / "out.csv"
    assert run("--engine", "spark", "--in", folder, "--text-column", "comment", "--out", out) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "column 'comment' not in" in err[0] and "columns: text" in err[0]
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--text-column", "nope"], "column 'nope' not in"),
    (["--text-column", "text", "--model", "vadr"], "unknown sentiment model 'vadr'"),
    (["--text-column", "text", "--model", "models/no_such_model.npz"], "trained sentiment model models/no_such_model.npz not found"),
])
def test_user_mistakes_are_one_line_before_spark_starts(tmp_path, args, message):
    # a subprocess without a session: each refusal comes before Spark would start (seconds, not tens)
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,hello\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    done = subprocess.run([sys.executable, "-m", "analysis", "sentiment", "--engine", "spark", "--in", str(src),
                           "--out", str(out), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert "Spark" not in done.stderr and "WARN" not in done.stderr  # no JVM was started
    assert list(tmp_path.iterdir()) == [src]
