"""Long texts in sentence windows (issue 23): the transformer with windows on against the same
model reading only the first max_length tokens (windows off), in the same run.

    .venv/bin/python benchmarks/bench_sentiment_long.py [--rounds 3] [--no-controls]

Prints, with `uptime`'s load:
  - the shipped CFPB narratives (data/cfpb/debt_collection_complaints_2015_2020.csv, every row
    whose "Consumer complaint narrative" is not blank: 289 debt-collection complaints, median
    137 words): % labelled negative, of all and of the longest third (by words), off vs on;
  - controls built from the held-out VADER Amazon snippets (seeded): long texts of 6-12 snippets of
    one gold class (positive, negative, neutral), and one polar snippet buried among 6-10 neutral
    ones after the fourth: % given the gold label, off vs on (a rule that made every long text
    negative would fail the positive and neutral ones);
  - throughput on short texts (UCI Amazon's 1,000 held-out sentences, all within max_length) and on
    the long narratives, off vs on: best of `--rounds` interleaved rounds, and the ratio.
Asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.sentiment import labelled, read_config  # noqa: E402
from analysis.sentiment.transformer import load_transformer  # noqa: E402

CFPB = ROOT / "data" / "cfpb" / "debt_collection_complaints_2015_2020.csv"


def load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def narratives() -> list[str]:
    import pandas as pd

    col = pd.read_csv(CFPB, dtype=str)["Consumer complaint narrative"]
    return [t for t in col.dropna().tolist() if t.strip()]


def controls(seed: int = 7) -> tuple[list[str], list[str]]:
    rows = labelled.load("vader_amazon")
    rng = random.Random(seed)
    by = {g: [t for t, x in rows if x == g and len(t) < 200] for g in ("positive", "negative", "neutral")}
    texts, kinds = [], []
    for g in ("positive", "negative", "neutral"):
        for _ in range(150):
            texts.append(" ".join(rng.sample(by[g], rng.randint(6, 12))))
            kinds.append(g)
    for g in ("positive", "negative"):
        for _ in range(150):
            part = rng.sample(by["neutral"], rng.randint(6, 10))
            part.insert(rng.randint(4, len(part)), rng.choice(by[g]))
            texts.append(" ".join(part))
            kinds.append(f"{g} buried")
    return texts, kinds


def rate(model, texts: list[str]) -> float:
    t0 = time.perf_counter()
    model.score(texts)
    return len(texts) / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-controls", action="store_true")
    args = parser.parse_args()
    cfg = dict(read_config().get("transformer", {}))
    models = {"off": load_transformer({**cfg, "windows": False}), "on": load_transformer(cfg)}
    for k, m in models.items():
        print(f"windows {k}: {m.model_id}")

    texts = narratives()
    words = np.array([len(t.split()) for t in texts])
    longest = np.argsort(-words, kind="stable")[: len(texts) // 3]
    n_long = sum(p is not None for p in models["on"]._plan(texts))
    print(f"\nCFPB narratives: {len(texts)} (median {np.median(words):.0f} words; {n_long} over max_length "
          f"{models['on'].max_length} tokens); longest third: {len(longest)} (>= {words[longest].min()} words)  [{load()}]")
    for k, m in models.items():
        neg = np.array([lab == "negative" for lab in m.score(texts)[1]])
        print(f"  windows {k}: negative {neg.mean():.1%} of all, {neg[longest].mean():.1%} of the longest third")

    if not args.no_controls:
        ctexts, kinds = controls()
        print(f"\ncontrols from held-out VADER Amazon snippets: % given the gold label  [{load()}]")
        for k, m in models.items():
            labels = m.score(ctexts)[1]
            parts = []
            for kind in dict.fromkeys(kinds):
                idx = [i for i, x in enumerate(kinds) if x == kind]
                gold = kind.split()[0]
                parts.append(f"{kind} {np.mean([labels[i] == gold for i in idx]):.0%}")
            print(f"  windows {k}: " + ", ".join(parts))

    short = [t for t, _ in labelled.load("uci_amazon")]
    assert all(p is None for p in models["on"]._plan(short))  # all within max_length: the same path
    best = {(k, s): 0.0 for k in models for s in ("short", "long")}
    for _ in range(args.rounds):
        for k, m in models.items():
            best[k, "short"] = max(best[k, "short"], rate(m, short))
            best[k, "long"] = max(best[k, "long"], rate(m, texts))
    print(f"\nthroughput, best of {args.rounds} interleaved rounds  [{load()}]")
    for s, label in (("short", f"short texts ({len(short)} held-out UCI Amazon sentences)"), ("long", f"long texts ({len(texts)} CFPB narratives)")):
        off, on = best["off", s], best["on", s]
        print(f"  {label}: off {off:.0f} texts/s, on {on:.0f} texts/s (on/off {on / off:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
