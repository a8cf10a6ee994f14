"""The transformer's onnxruntime backend against its torch backend, on the same shipped weights."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.errors import UserError
from analysis.sentiment import labelled, load_model, read_config
from test_sentiment_models import NEGATIVE, NEUTRAL, POSITIVE

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = POSITIVE + NEGATIVE + NEUTRAL + [
    "ok",
    "I lost my job last month and I can't pay the full amount, can we set up a smaller plan?",
    "Why do you keep calling me at work?? I told you three times I'd pay on Friday!!!",
]


def transformer(**settings):
    cfg = read_config()
    return load_model("transformer", {**cfg, "transformer": {**cfg.get("transformer", {}), **settings}})


@pytest.fixture(scope="module")
def onnx_fp32():
    return transformer(backend="onnx", quantize=False)


@pytest.fixture(scope="module")
def torch_fp32():
    return transformer(backend="torch", quantize=False)


def test_the_shipped_config_runs_the_encoder_with_onnxruntime():
    cfg = read_config()["transformer"]
    assert cfg["backend"] == "onnx"
    model = load_model("transformer")
    assert type(model.encoder).__name__ == "OnnxEncoder" and "-onnx" in model.model_id


def test_onnx_embeddings_match_torchs_on_fixed_sentences(onnx_fp32, torch_fp32):
    a, b = onnx_fp32.encoder.embed(SENTENCES), torch_fp32.encoder.embed(SENTENCES)
    assert a.shape == b.shape == (len(SENTENCES), 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_onnx_gives_torchs_labels_and_scores_on_fixed_sentences(onnx_fp32, torch_fp32):
    s_onnx, l_onnx = onnx_fp32.score(SENTENCES + ["", None])
    s_torch, l_torch = torch_fp32.score(SENTENCES + ["", None])
    assert l_onnx == l_torch
    assert np.abs(s_onnx - s_torch).max() < 1e-4
    assert l_onnx[:len(POSITIVE + NEGATIVE + NEUTRAL)] == (["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)
                                                           + ["neutral"] * len(NEUTRAL))


def test_onnx_gives_torchs_labels_on_a_thousand_validation_texts(onnx_fp32, torch_fp32):
    texts, y, _, _ = labelled.training_set()
    rows = np.flatnonzero(labelled.validation_split(len(y)))[:1000]
    sample = [texts[i] for i in rows]
    p_onnx, p_torch = onnx_fp32.probabilities(sample), torch_fp32.probabilities(sample)
    assert (p_onnx.argmax(axis=1) == p_torch.argmax(axis=1)).all()
    assert np.abs(p_onnx - p_torch).max() < 1e-4


def test_the_backend_and_int8_are_in_the_model_id_so_cached_scores_are_not_shared(onnx_fp32, torch_fp32):
    ids = {onnx_fp32.model_id, torch_fp32.model_id}
    head = onnx_fp32.model_id.split("+head-")[1]
    assert onnx_fp32.model_id.startswith("all-MiniLM-L6-v2-onnx-len") and not torch_fp32.model_id.startswith("all-MiniLM-L6-v2-onnx")
    assert torch_fp32.model_id.endswith(head) and len(ids) == 2
    # the int8 id follows from the settings alone (no need to build an int8 graph here)
    from analysis.sentiment.encoder import encoder_id

    assert encoder_id("onnx", True, 64) not in ids and encoder_id("onnx", True, 64) != encoder_id("torch", True, 64)


def test_a_second_load_reads_the_cached_graph_and_an_unreadable_one_is_rebuilt(tmp_path):
    model_id = transformer(backend="torch", quantize=False).model_id.replace("-len", "-onnx-len")
    stale = tmp_path / f"{model_id}-00000000.onnx"  # as if from an older export or onnxruntime
    stale.write_bytes(b"old")
    first = transformer(backend="onnx", quantize=False, onnx_cache=str(tmp_path))
    assert first.model_id == model_id
    assert first.encoder.built and first.encoder.built["Attention"] == 6  # fused: the fast path
    cached = list(tmp_path.glob("*.onnx"))
    assert cached == [first.encoder.cache] and first.model_id in cached[0].name
    again = transformer(backend="onnx", quantize=False, onnx_cache=str(tmp_path))
    assert again.encoder.built is None
    cached[0].write_bytes(b"not a graph")
    rebuilt = transformer(backend="onnx", quantize=False, onnx_cache=str(tmp_path))
    assert rebuilt.encoder.built is not None and cached[0].stat().st_size > 10_000_000
    assert rebuilt.score(NEGATIVE)[1] == ["negative"] * len(NEGATIVE)
    assert [p.name for p in tmp_path.iterdir()] == [cached[0].name]  # no temporary file left


@pytest.fixture(scope="module")
def onnx_int8():
    return transformer(backend="onnx", quantize=True)


def test_int8_gives_fp32s_labels_on_fixed_sentences(onnx_fp32, onnx_int8):
    int8 = onnx_int8
    assert "-onnx-int8-" in int8.model_id and int8.model_id != onnx_fp32.model_id
    assert int8.encoder.cache != onnx_fp32.encoder.cache
    fixed = POSITIVE + NEGATIVE + NEUTRAL  # clear cases; a borderline text ("ok") may change label
    assert int8.score(fixed)[1] == onnx_fp32.score(fixed)[1]
    assert np.abs(int8.score(SENTENCES)[0] - onnx_fp32.score(SENTENCES)[0]).max() < 0.1
    cosine = (int8.encoder.embed(SENTENCES) * onnx_fp32.encoder.embed(SENTENCES)).sum(axis=1)
    assert cosine.min() > 0.95


def test_int8_scores_each_text_alone_so_its_neighbours_never_move_it(onnx_int8):
    # dynamic int8 scales a batch's activations with one range: batched, a text's score moved by up
    # to 0.32 with its neighbours (DECISIONS.md); cached scores must depend on the text only
    texts, y, _, _ = labelled.training_set()
    sample = [texts[i] for i in np.flatnonzero(labelled.validation_split(len(y)))[:300]]
    together = onnx_int8.score(sample)[0]
    assert np.abs(onnx_int8.score(sample[::-1])[0][::-1] - together).max() < 1e-6
    alone = np.array([onnx_int8.score([t])[0][0] for t in sample[:80]])
    assert np.abs(alone - together[:80]).max() < 1e-6
    assert len(onnx_int8.encoder.sessions) == read_config()["transformer"]["threads"]


def test_onnx_int8_adds_its_own_thresholds_from_the_weights_file_and_torch_int8_does_not(onnx_fp32, onnx_int8):
    shipped = np.load(ROOT / read_config()["transformer"]["head"])
    assert np.abs(shipped["int8_offsets"]).max() > 0
    assert np.allclose(onnx_int8.intercept, onnx_fp32.intercept + shipped["int8_offsets"])
    assert np.allclose(onnx_fp32.intercept, shipped["intercept"])
    assert np.allclose(transformer(backend="torch", quantize=True).intercept, shipped["intercept"])


def test_an_unwritable_graph_cache_is_a_one_line_user_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(UserError, match="cannot write the onnx graph cache") as exc:
        transformer(backend="onnx", quantize=False, onnx_cache=str(blocker / "cache"))
    assert "\n" not in str(exc.value) and "onnx_cache" in str(exc.value)


def test_an_unknown_backend_is_a_one_line_user_error():
    with pytest.raises(UserError, match="unknown \\[transformer\\].backend 'tensorrt'") as exc:
        transformer(backend="tensorrt")
    assert "\n" not in str(exc.value)


def test_without_onnxruntime_the_cli_says_what_to_do_in_one_line(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id,text\n1,hello\n", encoding="utf-8")
    # the interpreter's own way of making a package unimportable, as if it were not installed
    code = ("import sys; sys.modules['onnxruntime'] = None; from analysis.__main__ import main; "
            f"sys.exit(main(['sentiment', '--in', {str(src)!r}, '--text-column', 'text', '--model', 'transformer', '--out', {str(out)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stderr.splitlines() if line.strip() and "%|" not in line]
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(lines) == 1 and "needs onnxruntime" in lines[0] and "pip install -r requirements.txt" in lines[0]
    assert 'backend = "torch"' in lines[0] and not out.exists()
