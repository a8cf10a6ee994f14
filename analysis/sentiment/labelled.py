"""The labelled sentences shipped in data/sentiment (see its PROVENANCE.md), as (text, label) lists.

UCI sentences are 0/1 -> negative/positive. VADER gold snippets carry the mean of 20 raters on
-4..+4: |mean| < band -> neutral, else the sign (see DECISIONS.md, "## Sentiment"). The gold labels
that accuracy is measured against always use NEUTRAL_BAND (0.5); the head may be trained with a
narrower band (TRAIN_NEUTRAL_BAND), which changes only what it learns, never the yardstick.
"""
from __future__ import annotations

from pathlib import Path

from analysis.sentiment import ROOT

DATA = ROOT / "data" / "sentiment"
NEUTRAL_BAND = 0.5  # gold labels for evaluation and validation: fixed
TRAIN_NEUTRAL_BAND = 0.5  # training labels of the head (scripts/train_sentiment_head.py)
SOURCES = {
    "uci_amazon": ("uci", "uci_labelled_sentences/amazon_cells_labelled.txt"),
    "uci_imdb": ("uci", "uci_labelled_sentences/imdb_labelled.txt"),
    "uci_yelp": ("uci", "uci_labelled_sentences/yelp_labelled.txt"),
    "vader_amazon": ("vader", "vader_gold/amazonReviewSnippets_GroundTruth.txt"),
    "vader_movies": ("vader", "vader_gold/movieReviewSnippets_GroundTruth.txt"),
    "vader_nyt": ("vader", "vader_gold/nytEditorialSnippets_GroundTruth.txt"),
    "vader_tweets": ("vader", "vader_gold/tweets_GroundTruth.txt"),
}
# Held out of training, used only by benchmarks/eval_sentiment.py: all the Amazon customer
# product reviews (closest of the shipped sets to customer-service text).
HELD_OUT = ("uci_amazon", "vader_amazon")
TRAIN = tuple(s for s in SOURCES if s not in HELD_OUT)


def vader_label(mean: float, band: float = NEUTRAL_BAND) -> str:
    if abs(mean) < band:
        return "neutral"
    return "positive" if mean > 0 else "negative"


def load(source: str, band: float = NEUTRAL_BAND) -> list[tuple[str, str]]:
    kind, rel = SOURCES[source]
    out = []
    for line in (DATA / rel).read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.rstrip("\r").split("\t")
        if kind == "uci" and len(parts) >= 2 and parts[-1].strip() in ("0", "1"):
            text = "\t".join(parts[:-1]).strip()
            out.append((text, "positive" if parts[-1].strip() == "1" else "negative"))
        elif kind == "vader" and len(parts) >= 3:
            try:
                mean = float(parts[1])
            except ValueError:
                continue
            out.append(("\t".join(parts[2:]).strip(), vader_label(mean, band)))
    return [(t, y) for t, y in out if t]
