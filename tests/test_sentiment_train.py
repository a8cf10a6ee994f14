"""`python -m analysis sentiment-train` run as a user runs it: learning a firm's own language, the
written model scoring through `sentiment --model PATH`, the refusals, and reproducibility.

The labelled file is a firm's call-outcome notes whose sentiment is carried by the firm's own
disposition codes (opaque to any general model: "RTP-2", "PIF-7", "CB-3"), in the same neutral
sentences for every class. The shipped model cannot tell them apart; only a model that learned from
the labels can, so the agreement test fails if the labels were ignored.
"""
from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CODES = {"negative": ["RTP-2", "HUP-9", "DSP-4"], "neutral": ["CB-3", "LM-5", "NA-1"], "positive": ["PIF-7", "PTP-8", "ARR-6"]}
SENTENCES = [
    "Call note for account {n}: disposition {code}, next review on day {d}.",
    "Outcome {code} recorded by the agent after the {d} o'clock call on account {n}.",
    "Account {n} worked today, result code {code}, file updated.",
    "Agent entered {code} for account {n} following contact attempt {d}.",
    "Disposition {code} on {n}; see the notes from attempt {d}.",
]


def notes(seed: int, per_class: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for label, codes in CODES.items():
        for _ in range(per_class):
            sentence = SENTENCES[rng.integers(len(SENTENCES))]
            rows.append((sentence.format(code=codes[rng.integers(len(codes))], n=int(rng.integers(10000, 99999)),
                                         d=int(rng.integers(1, 12))), label))
    return [rows[i] for i in rng.permutation(len(rows))]


def write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=900)


def train_args(src: Path, out: Path, *extra):
    return ("sentiment-train", "--labels", src, "--text-column", "note", "--label-column", "outcome", "--out", out, *extra)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One training run on 40 labelled notes per class plus a few unusable rows."""
    tmp = tmp_path_factory.mktemp("train")
    rows = notes(seed=1, per_class=40)
    # unusable rows, at known spreadsheet lines (header = line 1, rows[0] = line 2)
    bad = {5: ("Agent entered CB-3 for account 1.", "meh"), 9: ("Outcome PIF-7 recorded.", ""), 14: ("   ", "positive")}
    for line in sorted(bad):
        rows.insert(line - 2, bad[line])
    rows.append(("Disposition PTP-8 on 4.", " Positive "))  # trimmed and any case: usable
    src = write_csv(tmp / "labels.csv", ["note", "outcome"], rows)
    out = tmp / "firm.npz"
    done = run(*train_args(src, out, "--max-epochs", "6"))
    return {"src": src, "out": out, "done": done, "tmp": tmp}


def test_training_learns_the_firms_codes_that_the_shipped_model_cannot_read(trained):
    done = trained["done"]
    assert done.returncode == 0, done.stderr[-2000:]
    held_out = notes(seed=2, per_class=20)  # other sentences, never trained on
    src = write_csv(trained["tmp"] / "held_out.csv", ["note", "truth"], held_out)
    agreement = {}
    for name, model in (("shipped", "transformer"), ("trained", trained["out"])):
        out = trained["tmp"] / f"scored_{name}.csv"
        scored = run("sentiment", "--in", src, "--text-column", "note", "--model", model, "--out", out, "--quiet")
        assert scored.returncode == 0, scored.stderr[-2000:]
        with open(out, encoding="utf-8", newline="") as f:
            got = list(csv.DictReader(f))
        assert len(got) == len(held_out)
        agreement[name] = np.mean([r["sentiment_label"] == r["truth"] for r in got])
        if name == "trained":  # the id the training printed is the one the scores carry
            printed = re.search(r"model id (\S+)\)", done.stdout).group(1)
            assert f"scored {len(held_out)} rows with {printed} " in scored.stderr
    print(f"held-out agreement: {agreement}")
    assert agreement["shipped"] < 0.6, agreement  # the codes mean nothing to a general model
    # 0.88 here (2026-12-07); a model that ignored the labels stays at the shipped model's ~1/3
    assert agreement["trained"] >= 0.75 and agreement["trained"] >= agreement["shipped"] + 0.35, agreement


def test_validation_figures_of_both_models_are_printed_and_stored(trained):
    done = trained["done"]
    assert done.returncode == 0, done.stderr[-2000:]
    shipped = re.search(r"shipped model\s+([\d.]+)\s+([\d.]+)", done.stdout)
    mine = re.search(r"trained model\s+([\d.]+)\s+([\d.]+)", done.stdout)
    assert shipped and mine, done.stdout
    assert float(mine.group(2)) > float(shipped.group(2))
    import json

    with np.load(trained["out"], allow_pickle=False) as w:
        meta = json.loads(str(w["meta"]))
        assert w["lora_rank"] == 24 + 8 and w["coef"].shape == (3, 388)
    assert meta["label_counts"] == {"negative": 40, "neutral": 40, "positive": 41}
    assert meta["validation"]["trained"]["macro_f1"] == pytest.approx(float(mine.group(2)), abs=1e-3)
    assert meta["seed"] == 20261206 and meta["base_model"].startswith("models/sentiment_minilm_lora.npz")


def test_bad_labels_and_empty_texts_are_reported_by_line_and_skipped(trained):
    err = trained["done"].stderr
    assert re.search(r"line 5: label 'meh' is not negative, neutral or positive; skipped", err), err[-2000:]
    assert re.search(r"line 9: label '' is not", err)
    assert "line 14: empty text; skipped" in err
    assert "line 2:" not in err and "line 3:" not in err


def test_same_labels_and_seed_give_the_same_file(trained, tmp_path):
    again = tmp_path / "again.npz"
    done = run(*train_args(trained["src"], again, "--max-epochs", "6", "--quiet"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert again.read_bytes() == trained["out"].read_bytes()
    assert "sentiment-train" not in done.stderr  # --quiet: no progress bar


def refused(*args) -> str:
    done = run(*args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_too_few_labels_of_a_class_is_refused_with_the_counts(tmp_path):
    rows = [r for r in notes(seed=3, per_class=12) if r[1] != "neutral"] + [("Account 1 worked, code CB-3.", "neutral")] * 4
    src = write_csv(tmp_path / "few.csv", ["note", "outcome"], rows)
    out = tmp_path / "m.npz"
    line = refused(*train_args(src, out))
    assert "too few labels" in line and "12 negative, 4 neutral, 12 positive" in line and "at least 10" in line
    assert not out.exists()


def test_missing_file_column_and_bad_out_are_refused_in_one_line(tmp_path):
    src = write_csv(tmp_path / "l.csv", ["note", "outcome"], notes(seed=4, per_class=10))
    out = tmp_path / "m.npz"
    assert "not found" in refused(*train_args(tmp_path / "nope.csv", out))
    assert "'label'" in refused("sentiment-train", "--labels", src, "--text-column", "note", "--label-column", "label", "--out", out)
    assert "'text'" in refused("sentiment-train", "--labels", src, "--text-column", "text", "--label-column", "outcome", "--out", out)
    assert "does not exist" in refused(*train_args(src, tmp_path / "no" / "m.npz"))
    (tmp_path / "dir.npz").mkdir()
    assert "is a folder" in refused(*train_args(src, tmp_path / "dir.npz"))
    assert ".npz" in refused(*train_args(src, tmp_path / "m.csv"))
    assert "shipped model" in refused(*train_args(src, ROOT / "models" / "sentiment_minilm_lora.npz"))
    assert "--text-column" in refused("sentiment-train", "--labels", src, "--out", out)
    broken = tmp_path / "broken.csv"
    broken.write_text('note,outcome\n"unterminated,positive\n', encoding="utf-8")
    assert "error:" in refused(*train_args(broken, out))
    assert not out.exists()


def test_labels_given_in_the_dashboard_train_a_model(demo_db_copy):
    """--db: the latest label of each labelled turn in the dashboard's label log (analysis.sentiment.labels)."""
    from datetime import datetime, timezone

    from analysis.db import connect, rows
    from analysis.sentiment import labels

    con = connect(demo_db_copy, read_only=True)
    try:
        turns = rows(con, "select conversation_id, turn from turns where length(text) > 20 order by conversation_id, turn limit 40")
    finally:
        con.close()
    log = labels.default_path(demo_db_copy)
    at = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
    classes = ["negative", "neutral", "positive"]
    for k, (conversation_id, turn) in enumerate(turns[:36]):
        labels.record(log, conversation_id, turn, classes[k % 3], "amy", at, role="compliance")
    # a turn labelled again counts once, by its latest label: 12 / 11 / 13
    labels.record(log, turns[1][0], turns[1][1], "positive", "bob", at, role="admin")
    out = demo_db_copy.parent / "firm.npz"
    done = run("sentiment-train", "--db", demo_db_copy, "--out", out, "--max-epochs", "1", "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    with np.load(out, allow_pickle=False) as w:
        assert json.loads(str(w["meta"]))["label_counts"] == {"negative": 12, "neutral": 11, "positive": 13}
    assert "model id all-MiniLM-L6-v2" in done.stdout


def test_too_few_dashboard_labels_are_refused_with_what_to_do(tmp_path):
    db = tmp_path / "empty.duckdb"
    import duckdb

    duckdb.connect(str(db)).close()
    line = refused("sentiment-train", "--db", db, "--out", tmp_path / "m.npz")
    assert "0 negative, 0 neutral, 0 positive" in line and "transcript viewer" in line
    assert "not found" in refused("sentiment-train", "--db", tmp_path / "none.duckdb", "--out", tmp_path / "m.npz")
    assert "--label-log" in refused("sentiment-train", "--labels", tmp_path / "x.csv", "--label-log", db, "--out", tmp_path / "m.npz")
