"""Probe (not a product path): the encoder's fp32 and int8 graphs batched by 32 on one two-threaded
onnxruntime session, one text at a time on it, and one text at a time on two single-threaded
sessions side by side (what `quantize = true` runs), on 2,000 held-out sentences. Prints texts/s
and the largest embedding difference between the ways (int8 batched differs: its activation range
is the batch's).

    .venv/bin/python experiments/probe_sentiment_int8_alone.py

The graphs are built (on first use) under $SENTEXP/cache (default experiments/out/cache, ignored by
git), not in the product's cache. Findings: experiments/README.md.
"""
import sys, time, os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(os.environ.get("SENTEXP", ROOT / "experiments" / "out"))
WORK.mkdir(parents=True, exist_ok=True)
import numpy as np, onnxruntime as ort
from analysis.sentiment import labelled, load_model, read_config
from analysis.sentiment.onnx_backend import fast_tokenizer
from analysis.sentiment.encoder import encoder_path
cfg = read_config()
files = {q: str(load_model("transformer", {**cfg, "transformer": {**cfg["transformer"], "quantize": q == "int8",
                                                                   "onnx_cache": str(WORK / "cache")}}).encoder.cache)
         for q in ("fp32", "int8")}  # the cached graphs (built on first use)
texts = [t for s in labelled.HELD_OUT for t, _ in labelled.load(s)][:2000]
enc = fast_tokenizer(encoder_path(), 64)

def sess(f, threads):
    o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL; o.log_severity_level = 3
    return ort.InferenceSession(f, o, providers=["CPUExecutionProvider"])

def run1(s, e):
    h = s.run(None, e)[0]
    m = e["attention_mask"][:, :, None].astype(np.float32)
    p = (h * m).sum(1) / m.sum(1)
    return p / np.linalg.norm(p, axis=1, keepdims=True)

def batched(s, ts, bs=32):
    order = np.argsort([len(t) for t in ts], kind="stable"); out = np.empty((len(ts), 384), np.float32)
    for i in range(0, len(ts), bs):
        idx = order[i:i+bs]; out[idx] = run1(s, enc([ts[j] for j in idx]))
    return out

def single(s, ts):
    return np.vstack([run1(s, enc([t])) for t in ts])

def two(ss, ts):
    half = [ts[0::2], ts[1::2]]
    with ThreadPoolExecutor(2) as ex:
        a, b = ex.map(lambda k: single(ss[k], half[k]), [0, 1])
    out = np.empty((len(ts), 384), np.float32); out[0::2] = a; out[1::2] = b; return out

def t(label, fn):
    fn(texts[:64]) ; t0 = time.perf_counter(); r = fn(texts); w = time.perf_counter() - t0
    print(f"{label}: {len(texts)/w:.0f} texts/s (load {os.getloadavg()[0]:.1f})", flush=True); return r

for q in ("fp32", "int8"):
    s2 = sess(files[q], 2); s1 = [sess(files[q], 1), sess(files[q], 1)]
    rb = t(f"{q} batch32 2thr", lambda ts: batched(s2, ts))
    r1 = t(f"{q} batch1 2thr", lambda ts: single(s2, ts))
    r2 = t(f"{q} batch1 two 1-thread sessions", lambda ts: two(s1, ts))
    print(f"  {q}: max |batch1 2thr - two sessions| {np.abs(r1-r2).max():.2e}; batch32 vs batch1 {np.abs(rb-r1).max():.2e}")
