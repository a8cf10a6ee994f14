"""Probe (not a product path): validation accuracy, throughput and batch-vs-alone scores of the
graphs `probe_sentiment_static_int8.py` wrote into $SENTEXP (default experiments/out).

    .venv/bin/python experiments/probe_sentiment_static_int8_eval.py fp32 NAME [NAME ...]
"""
import sys, time, os, numpy as np
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(os.environ.get("SENTEXP", ROOT / "experiments" / "out"))
WORK.mkdir(parents=True, exist_ok=True)
from analysis.sentiment import labelled
from analysis.sentiment.transformer import HeadModel, softmax
import onnxruntime as ort
head = ROOT / "models" / "sentiment_minilm_lora.npz"
m = HeadModel(head, 64, 32, 2, False, "onnx", WORK / "cache")
texts, y, gold, hn = labelled.training_set()
val = labelled.validation_split(len(y))
vt = [texts[i] for i in np.flatnonzero(val)]
pool = [t for s in labelled.HELD_OUT for t, _ in labelled.load(s)]
bench = (pool * 2)[:2000]
what = sys.argv[1:]
def sess(path):
    o = ort.SessionOptions(); o.intra_op_num_threads = 2; o.inter_op_num_threads = 1
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL; o.log_severity_level = 3
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])
fp32 = m.encoder.session
ref = None
for name in what:
    m.encoder.session = fp32 if name == "fp32" else sess(str(WORK / f"{name}.onnx"))
    m.score(bench[:64])
    rates = []
    for rep in range(2):
        l0 = os.getloadavg()[0]; t0 = time.perf_counter(); m.score(bench); w = time.perf_counter() - t0
        rates.append(f"{2000/w:.0f} (load {l0:.1f}->{os.getloadavg()[0]:.1f})")
    p = m.probabilities(vt)
    acc, f1 = labelled.validation_metrics(p, gold[val], hn[val])
    z = np.log(np.clip(p, 1e-12, 1))
    dn, dp, acc2, f12 = labelled.pick_offsets(z - m.intercept * 0, gold[val], hn[val])
    if ref is None: ref = p
    changed = int((p.argmax(1) != ref.argmax(1)).sum())
    sub = vt[:400]
    s_b, l_b = m.score(sub)
    alone = [m.score([t]) for t in sub]
    d = np.abs(np.array([a[0][0] for a in alone]) - s_b)
    lab = sum(a[1][0] != l for a, l in zip(alone, l_b))
    print(f"{name}: {' / '.join(rates)} texts/s; val pos-neg {acc:.4f} macroF1 {f1:.4f} (re-picked offsets {dn:+.1f},{dp:+.1f}: {acc2:.4f}/{f12:.4f}); labels vs first {changed}; alone-vs-batch max {d.max():.2e} labels {lab}", flush=True)
