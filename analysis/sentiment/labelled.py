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


def _rows(source: str) -> list[tuple[str, object]]:
    """(text, value) of a source's non-empty texts: value "positive"/"negative" for UCI, the raters'
    mean (float) for VADER gold."""
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
            out.append(("\t".join(parts[2:]).strip(), mean))
    return [(t, v) for t, v in out if t]


def _label(value, band: float) -> str:
    """A `_rows` value as a label: UCI's as it is, a raters' mean through the band."""
    return value if isinstance(value, str) else vader_label(value, band)


def load(source: str, band: float = NEUTRAL_BAND) -> list[tuple[str, str]]:
    return [(t, _label(v, band)) for t, v in _rows(source)]


def ratings() -> "np.ndarray":
    """The raters' mean (-4..+4) of each text of training_set(), in its order; NaN for UCI's 0/1
    sentences, which have none."""
    import numpy as np

    return np.array([np.nan if isinstance(v, str) else v for source in TRAIN for _, v in _rows(source)], dtype=np.float32)


def training_set() -> tuple[list[str], "np.ndarray", "np.ndarray", "np.ndarray"]:
    """The training sources as (texts, y, gold, has_neutral): y the class index with the training
    band, gold with the fixed evaluation band (the yardstick), has_neutral whether the text's source
    has a neutral class at all (VADER gold sets do, UCI's 0/1 sentences do not)."""
    import numpy as np

    from analysis.sentiment import LABELS

    texts, y, gold, has_neutral = [], [], [], []
    for source in TRAIN:
        rows = _rows(source)  # each file read once: both bands come from its values
        texts += [t for t, _ in rows]
        y += [LABELS.index(_label(v, TRAIN_NEUTRAL_BAND)) for _, v in rows]
        gold += [LABELS.index(_label(v, NEUTRAL_BAND)) for _, v in rows]
        has_neutral += [source.startswith("vader")] * len(rows)
    return texts, np.array(y), np.array(gold), np.array(has_neutral)


def validation_split(n: int) -> "np.ndarray":
    """The seeded 15% validation split of the training sources (True: validation)."""
    import numpy as np

    return np.random.default_rng(20260523).random(n) < 0.15


def validation_metrics(p, gold, has_neutral) -> tuple[float, float]:
    """pos-vs-neg accuracy (sign of P(pos) - P(neg) on gold-polar texts) and 3-class macro-F1 on the
    texts of sources with a neutral class, both against the gold band, as the eval measures them."""
    import numpy as np
    from sklearn.metrics import f1_score

    polar = gold != 1
    s = p[polar, 2] - p[polar, 0]
    acc = float(np.mean(np.where(gold[polar] == 2, s > 0, s < 0)))
    f1 = f1_score(gold[has_neutral], p[has_neutral].argmax(axis=1), labels=[0, 1, 2], average="macro")
    return acc, float(f1)


def pick_offsets(logits, gold, has_neutral) -> tuple[float, float, float, float]:
    """Decision thresholds: the offsets (neutral, positive) added to those logits that maximise
    validation pos-vs-neg accuracy + macro-F1; returns (neutral, positive, accuracy, macro-F1)."""
    import numpy as np

    from analysis.sentiment.transformer import softmax

    tuned = None
    for dn in np.round(np.arange(-2.0, 2.01, 0.1), 2):
        for dp in np.round(np.arange(-1.0, 1.01, 0.1), 2):
            acc, f1 = validation_metrics(softmax(logits + np.array([0.0, dn, dp])), gold, has_neutral)
            if tuned is None or acc + f1 > tuned[2] + tuned[3] + 1e-9:
                tuned = (float(dn), float(dp), acc, f1)
    return tuned
