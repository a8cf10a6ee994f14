"""Accuracy of both sentiment models on held-out labelled data the head was not trained on.

    .venv/bin/python benchmarks/eval_sentiment.py [--models vader,transformer] [--head FILE.npz] [--fp32] [--no-windows]

Held out (analysis.sentiment.labelled.HELD_OUT): the Amazon customer reviews of both shipped sets,
  - UCI amazon_cells_labelled (1,000 sentences, 0/1): positive-vs-negative accuracy;
  - VADER amazonReviewSnippets (3,708 snippets, mean of 20 raters on -4..+4; |mean| < 0.5 neutral):
    3-class macro-F1, and positive-vs-negative accuracy on its non-neutral snippets.
Positive-vs-negative accuracy: on texts whose gold label is positive or negative, the share whose
score has the gold sign (score > 0 for positive, < 0 for negative; a 0 score counts as wrong).
--no-windows: texts over max_length tokens read by their first max_length tokens, as before issue 23
(47 of the 3,708 VADER snippets are longer; the rest score identically either way).
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.sentiment import LABELS, load_model, read_config  # noqa: E402
from analysis.sentiment import labelled  # noqa: E402


def pos_neg_accuracy(scores, gold) -> tuple[float, int]:
    keep = [i for i, g in enumerate(gold) if g != "neutral"]
    right = sum((scores[i] > 0) if gold[i] == "positive" else (scores[i] < 0) for i in keep)
    return right / len(keep), len(keep)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="vader,transformer")
    parser.add_argument("--head", help="the transformer's weights file, instead of config/sentiment.toml's")
    parser.add_argument("--fp32", action="store_true", help="the transformer without int8 (quantize = false)")
    parser.add_argument("--no-windows", action="store_true", help="the transformer reads only a text's first max_length tokens (windows = false)")
    args = parser.parse_args()
    config = read_config()
    cfg = config.setdefault("transformer", {})
    if args.head:
        cfg["head"] = str(Path(args.head).resolve())
    if args.fp32:
        cfg["quantize"] = False
    if args.no_windows:
        cfg["windows"] = False
    from sklearn.metrics import confusion_matrix, f1_score

    sets = {s: labelled.load(s) for s in labelled.HELD_OUT}
    for name in args.models.split(","):
        t0 = time.perf_counter()
        model = load_model(name, config)
        print(f"== {name} ({model.model_id}), loaded in {time.perf_counter() - t0:.1f}s")
        for source, rows in sets.items():
            texts, gold = [t for t, _ in rows], [g for _, g in rows]
            t0 = time.perf_counter()
            scores, labels = model.score(texts)
            secs = time.perf_counter() - t0
            acc, n = pos_neg_accuracy(scores, gold)
            line = f"  {source}: pos-vs-neg accuracy {acc:.3f} (n={n})"
            if "neutral" in gold:
                f1 = f1_score(gold, labels, labels=list(LABELS), average="macro")
                per = f1_score(gold, labels, labels=list(LABELS), average=None)
                line += f"; 3-class macro-F1 {f1:.3f} (n={len(gold)}; F1 neg/neu/pos {per[0]:.2f}/{per[1]:.2f}/{per[2]:.2f})"
                cm = confusion_matrix(gold, labels, labels=list(LABELS))
                line += "\n    confusion (rows gold neg/neu/pos, cols predicted): " + "; ".join(" ".join(str(v) for v in r) for r in cm)
            line += f"\n    {len(texts) / secs:.0f} texts/s scoring this set"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
