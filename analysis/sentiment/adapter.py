"""Low-rank (LoRA) deltas on all-MiniLM-L6-v2's Linear layers: trained on the shipped labelled data,
merged into the base weights at load time.

For every Linear layer named in TARGETS of every encoder layer, the fine-tuned weight is
W + (alpha / rank) * B @ A, with A (rank x in) and B (out x rank) the trained factors. Training
(`scripts/train_sentiment_finetune.py`) wraps each such layer in `LoRALinear`; inference adds the
product into the layer's weight once (`merge`), so a fine-tuned forward pass costs what the bare
encoder's does. The factors are saved as `lora.<module name>.A` / `.B` arrays in the weights file,
with `lora_alpha` and `lora_rank`.
"""
from __future__ import annotations

import numpy as np

# attention (query, key, value, output) and feed-forward (intermediate, output) of each BertLayer
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value",
           "attention.output.dense", "intermediate.dense", "output.dense")


def target_names(model) -> list[str]:
    """Names (as in model.named_modules()) of the Linear layers that carry a delta."""
    return [name for name, _ in model.named_modules()
            if ".layer." in name and name.split(".layer.", 1)[1].split(".", 1)[-1] in TARGETS]


def _module(model, name: str):
    for part in name.split("."):
        model = getattr(model, part)
    return model


def make_lora_linear(torch):
    """The training wrapper class (built lazily so that importing this module does not import torch)."""

    class LoRALinear(torch.nn.Module):
        def __init__(self, base, rank: int, alpha: float, generator):
            super().__init__()
            self.base, self.scale = base, alpha / rank
            for p in base.parameters():
                p.requires_grad_(False)
            # A small random, B zero: the wrapped layer starts exactly as the base layer
            self.A = torch.nn.Parameter(torch.randn(rank, base.in_features, generator=generator) / base.in_features ** 0.5)
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x):
            return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale

    return LoRALinear


def wrap(model, torch, rank: int, alpha: float, seed: int) -> dict:
    """Replace the target Linear layers by LoRALinear wrappers; returns {name: wrapper}."""
    cls = make_lora_linear(torch)
    generator = torch.Generator().manual_seed(seed)
    wrapped = {}
    for name in target_names(model):
        parent, _, child = name.rpartition(".")
        layer = cls(_module(model, name), rank, alpha, generator)
        setattr(_module(model, parent), child, layer)
        wrapped[name] = layer
    return wrapped


class DeltasDoNotFit(ValueError):
    """The weights file's deltas are for other layers, or of other shapes, than the model's."""


def merge(model, torch, weights) -> int:
    """Add each saved delta (alpha / rank) * B @ A into its Linear layer's weight; returns how many.
    Raises DeltasDoNotFit when a target layer has no delta or a delta of another shape."""
    scale = float(weights["lora_alpha"]) / float(weights["lora_rank"])
    names = target_names(model)
    missing = [n for n in names if f"lora.{n}.A" not in weights or f"lora.{n}.B" not in weights]
    if missing:
        raise DeltasDoNotFit(f"no delta for {missing[0]}")
    with torch.no_grad():
        for name in names:
            a = torch.from_numpy(np.asarray(weights[f"lora.{name}.A"], dtype=np.float32))
            b = torch.from_numpy(np.asarray(weights[f"lora.{name}.B"], dtype=np.float32))
            weight = _module(model, name).weight
            if a.ndim != 2 or b.ndim != 2 or (b.shape[0], a.shape[1]) != tuple(weight.shape) or b.shape[1] != a.shape[0]:
                raise DeltasDoNotFit(f"delta of shape {tuple(b.shape)} x {tuple(a.shape)} for {name} {tuple(weight.shape)}")
            weight += (b @ a) * scale
    return len(names)


def average(parts: list[dict]) -> dict:
    """The mean of several runs' deltas as one set of factors (a "model soup" of runs that differ only
    by seed). The mean of k deltas (alpha / rank) B_i @ A_i is [B_1 .. B_k] / k @ [A_1; ..; A_k] at the
    same alpha / rank: factors of rank k * rank (`combine` with each B divided by k), which `merge`
    adds into the encoder like one run's, so the soup costs nothing more at inference. Returns the
    `lora.*` arrays with `lora_rank` and `lora_alpha`."""
    first = parts[0]
    if any((int(p["lora_rank"]), float(p["lora_alpha"])) != (int(first["lora_rank"]), float(first["lora_alpha"])) for p in parts[1:]):
        raise DeltasDoNotFit("the runs have deltas on other layers, or another rank or alpha")
    return combine(parts, divisor=len(parts))


def combine(parts: list[dict], divisor: int = 1) -> dict:
    """Several sets of deltas applied on top of each other (the shipped model's, then a firm's
    fine-tuning over it: `analysis.sentiment.train`) as one set of factors. The sum of the deltas
    s_i * B_i @ A_i (s_i = alpha_i / rank_i) is s * [s_1/s B_1 .. s_k/s B_k] @ [A_1; ..; A_k], with s the
    first set's scale: factors of rank sum(rank_i) at alpha = s * that rank, which `merge` adds like
    one run's (a B is rescaled only when its scale differs from the first's; equal scales concatenate
    exactly). Every B is divided by `divisor` (`average`: the mean instead of the sum). Returns the
    `lora.*` arrays (float32) with `lora_rank` and `lora_alpha`."""
    scales = [float(p["lora_alpha"]) / float(p["lora_rank"]) for p in parts]
    names = sorted(key for key in parts[0] if key.startswith("lora."))
    if any(sorted(key for key in p if key.startswith("lora.")) != names for p in parts[1:]):
        raise DeltasDoNotFit("the sets of deltas are on other layers")
    out = {}
    for key in names:
        if key.endswith(".A"):
            out[key] = np.concatenate([np.asarray(p[key], dtype=np.float32) for p in parts], axis=0)
        else:
            b = np.concatenate([np.asarray(p[key], dtype=np.float32) * np.float32(s / scales[0])
                                for p, s in zip(parts, scales)], axis=1)
            out[key] = b / np.float32(divisor) if divisor != 1 else b
    rank = sum(int(p["lora_rank"]) for p in parts)
    # alpha = s * rank, written as alpha_1 * (rank / rank_1): exact when the ranks are multiples
    out.update(lora_rank=np.array(rank), lora_alpha=np.array(float(parts[0]["lora_alpha"]) * (rank / int(parts[0]["lora_rank"]))))
    return out
