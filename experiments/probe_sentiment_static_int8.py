"""Probe (not a product path): onnxruntime static int8 of the fine-tuned MiniLM graph.

    .venv/bin/python experiments/probe_sentiment_static_int8.py [N_CALIBRATION=512] [SPEC=all] [METHOD=MinMax]

Builds the fp32 graph as the product does, runs symbolic shape inference, and writes quantized
graphs calibrated on training texts outside the validation split into $SENTEXP (default
experiments/out, ignored by git). experiments/README.md records what it found.
"""
import sys, time, os, numpy as np
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(os.environ.get("SENTEXP", ROOT / "experiments" / "out"))
WORK.mkdir(parents=True, exist_ok=True)
from analysis.sentiment import labelled, read_config
from analysis.sentiment.transformer import HeadModel, softmax
import onnx, onnxruntime as ort
from onnxruntime.quantization import quantize_static, QuantType, QuantFormat, CalibrationDataReader, CalibrationMethod

cfg = read_config()["transformer"]
head = ROOT / "models" / "sentiment_minilm_lora.npz"
cache = WORK / "cache"
m = HeadModel(head, 64, 32, 2, False, "onnx", cache)
fp32 = m.encoder.cache
print("fp32 graph", fp32, flush=True)

texts, y, gold, has_neutral = labelled.training_set()
val = labelled.validation_split(len(y))
train_idx = np.flatnonzero(~val)
rng = np.random.default_rng(7)
calib = [texts[i] for i in rng.choice(train_idx, int(sys.argv[1]) if len(sys.argv) > 1 else 512, replace=False)]

class Reader(CalibrationDataReader):
    def __init__(self):
        self.batches = []
        m.encoder.batcher.run(calib, lambda enc: (self.batches.append({k: enc[k] for k in m.encoder.inputs}), np.zeros((len(enc["input_ids"]), 1)))[1])
        self.it = iter(self.batches)
    def get_next(self):
        return next(self.it, None)

variants = {}
def make(name, **kw):
    name = f"{name}_{METHOD}_{len(calib)}"
    kw["calibrate_method"] = getattr(CalibrationMethod, METHOD)
    out = WORK / f"{name}.onnx"
    if not out.exists():
        t0 = time.time()
        quantize_static(str(fp32), str(out), Reader(), per_channel=True, weight_type=QuantType.QInt8,
                        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, **kw.pop("extra", {})}, **kw)
        print(f"built {name} in {time.time()-t0:.0f}s", flush=True)
    variants[name] = out

from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
inferred = WORK / "fp32_inferred.onnx"
if not inferred.exists():
    onnx.save(SymbolicShapeInference.infer_shapes(onnx.load(str(fp32)), auto_merge=True), str(inferred))
fp32 = inferred
g = onnx.load(str(fp32))
from collections import Counter
print(Counter(n.op_type for n in g.graph.node))
ffn_out = [n.name for n in g.graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]
spec = sys.argv[2] if len(sys.argv) > 2 else "all"
METHOD = sys.argv[3] if len(sys.argv) > 3 else "MinMax"
if spec in ("all", "qdq"):
    make("qdq_mm", quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul"])
if spec in ("all", "qdq_keep"):
    make("qdq_mm_keepffn", quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul"], nodes_to_exclude=ffn_out)
if spec in ("all", "qop"):
    make("qop_mm_att", quant_format=QuantFormat.QOperator, activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul", "Attention"])
if spec in ("all", "qop_keep"):
    make("qop_mm_att_keepffn", quant_format=QuantFormat.QOperator, activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=ffn_out)
