"""`python -m analysis sentiment` on real CSV files, run as a user would run it."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", "sentiment", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_row_and_column_is_kept_and_scored_with_empty_texts_neutral(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,comment,note\n1,"I love this, thank you, great help",a\n2,,b\n3,"Awful, rude and useless",c\n4,"   ",d\n'
                   '5,"Line one\nline two is fine",e\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run_cli("--in", src, "--text-column", "comment", "--out", out, "--model", "vader")
    assert done.returncode == 0, done.stderr
    got = read(out)
    assert [r["id"] for r in got] == ["1", "2", "3", "4", "5"]
    assert [r["note"] for r in got] == ["a", "b", "c", "d", "e"]
    assert got[4]["comment"] == "Line one\nline two is fine"  # quoted newlines survive
    assert got[0]["sentiment_label"] == "positive" and float(got[0]["sentiment_score"]) > 0.05
    assert got[2]["sentiment_label"] == "negative" and float(got[2]["sentiment_score"]) < -0.05
    for empty in (got[1], got[3]):
        assert (float(empty["sentiment_score"]), empty["sentiment_label"]) == (0.0, "neutral")
    assert all(-1 <= float(r["sentiment_score"]) <= 1 for r in got)


def test_a_utf8_bom_does_not_end_up_in_the_first_column_name(tmp_path):
    src = tmp_path / "bom.csv"
    src.write_bytes("text,id\nTerrible service,1\n".encode("utf-8-sig"))
    out = tmp_path / "out.csv"
    done = run_cli("--in", src, "--text-column", "text", "--out", out)
    assert done.returncode == 0, done.stderr
    assert read(out)[0]["text"] == "Terrible service"


def test_a_latin1_file_is_read_with_a_warning_and_its_accents_kept(tmp_path):
    src = tmp_path / "latin1.csv"
    src.write_bytes("id,text\n1,Très bien, merci\n2,Café was awful\n".encode("latin-1").replace(b"Tr\xe8s bien, merci", b'"Tr\xe8s bien, merci"'))
    out = tmp_path / "out.csv"
    done = run_cli("--in", src, "--text-column", "text", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "not valid UTF-8" in done.stderr and "latin-1" in done.stderr
    got = read(out)
    assert got[0]["text"] == "Très bien, merci" and got[1]["text"] == "Café was awful"
    assert got[1]["sentiment_label"] == "negative"


def test_a_utf16_file_with_a_bom_is_read(tmp_path):
    src = tmp_path / "utf16.csv"
    src.write_bytes("text\nGreat, thanks\n".encode("utf-16"))
    out = tmp_path / "out.csv"
    done = run_cli("--in", src, "--text-column", "text", "--out", out)
    assert done.returncode == 0, done.stderr
    assert read(out)[0]["sentiment_label"] == "positive"


@pytest.mark.parametrize("args, message", [
    (["--text-column", "nope"], "column 'nope' not in"),
    (["--text-column", "text", "--model", "vader", "--encoding", "klingon"], "unknown encoding"),
])
def test_user_mistakes_get_one_line_and_leave_no_output(tmp_path, args, message):
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,hello\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run_cli("--in", src, "--out", out, *args)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip() and "%|" not in line]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_a_missing_input_file_is_a_one_line_error(tmp_path):
    done = run_cli("--in", tmp_path / "missing.csv", "--text-column", "t", "--out", tmp_path / "o.csv")
    assert done.returncode == 2 and "not found" in done.stderr and "Traceback" not in done.stderr


def test_an_empty_file_is_a_one_line_error(tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text("", encoding="utf-8")
    done = run_cli("--in", src, "--text-column", "t", "--out", tmp_path / "o.csv")
    assert done.returncode == 2 and "empty" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_hundred_thousand_rows_stream_through_in_chunks(tmp_path):
    src = tmp_path / "big.csv"
    phrases = ["Thank you, that is really helpful", "This is the worst company ever", "I will call back on Monday", ""]
    with open(src, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "text"])
        for i in range(100_000):
            w.writerow([i, phrases[i % 4]])
    out = tmp_path / "out.csv"
    # small chunks so that the file goes through many of them
    done = run_cli("--in", src, "--text-column", "text", "--out", out, "--chunk-rows", "7000")
    assert done.returncode == 0, done.stderr
    got = read(out)
    assert len(got) == 100_000
    assert [r["row"] for r in got[:3]] == ["0", "1", "2"] and got[-1]["row"] == "99999"
    labels = {phrases[i]: got[i]["sentiment_label"] for i in range(4)}
    assert labels == {phrases[0]: "positive", phrases[1]: "negative", phrases[2]: "neutral", "": "neutral"}
    assert all(got[i]["sentiment_label"] == labels[phrases[i % 4]] for i in range(0, 100_000, 997))
    assert "100,000 rows" in done.stderr


def test_a_header_only_file_gives_a_header_only_output_with_the_new_columns(tmp_path):
    src = tmp_path / "header.csv"
    src.write_text("id,text\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run_cli("--in", src, "--text-column", "text", "--out", out)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").splitlines() == ["id,text,sentiment_score,sentiment_label"]


def test_without_model_the_command_scores_with_the_pipelines_configured_model_the_transformer(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("comment\nThank you, that was really helpful.\nStop calling me, this is harassment.\n", encoding="utf-8")
    done = run_cli("--in", src, "--text-column", "comment", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "with all-MiniLM-L6-v2" in done.stderr  # the transformer's model id, not vader's
    assert [r["sentiment_label"] for r in read(out)] == ["positive", "negative"]
