"""VADER (vaderSentiment): lexicon and rules, fast, with per-word explanations.

Labels use VADER's own thresholds: compound >= 0.05 positive, <= -0.05 negative, else neutral
(Hutto & Gilbert 2014; the vaderSentiment README).
"""
from __future__ import annotations

from importlib.metadata import version

import numpy as np

from analysis.sentiment import is_blank

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


def label_of(score: float) -> str:
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


class VaderModel:
    name = "vader"

    def __init__(self):
        from vaderSentiment import vaderSentiment as vs

        self._vs = vs
        self._analyzer = vs.SentimentIntensityAnalyzer()
        self.model_id = f"vader-{version('vaderSentiment')}"

    def score_one(self, text) -> float:
        if is_blank(text):
            return 0.0
        return float(self._analyzer.polarity_scores(str(text))["compound"])

    def score(self, texts) -> tuple[np.ndarray, list[str]]:
        scores = np.fromiter((self.score_one(t) for t in texts), dtype=float)
        return scores, [label_of(s) for s in scores]

    def explain(self, text) -> list[tuple[str, float]]:
        """The tokens that carried the score, each with its valence after VADER's rules.

        Replays `polarity_scores` token by token (boosters, negation, "but", caps) so the weights
        are the ones VADER summed, not raw lexicon values; tokens with no valence are left out.
        """
        if is_blank(text):
            return []
        a, vs = self._analyzer, self._vs
        plain = ""
        prev_space = True
        for ch in str(text):  # emojis become their descriptions, as polarity_scores does
            if ch in a.emojis:
                plain += ("" if prev_space else " ") + a.emojis[ch]
                prev_space = False
            else:
                plain += ch
                prev_space = ch == " "
        sentitext = vs.SentiText(plain.strip())
        words = sentitext.words_and_emoticons
        sentiments: list[float] = []
        for i, item in enumerate(words):
            if item.lower() in vs.BOOSTER_DICT or (
                i < len(words) - 1 and item.lower() == "kind" and words[i + 1].lower() == "of"
            ):
                sentiments.append(0)
                continue
            sentiments = a.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = a._but_check(words, sentiments)
        return [(w, round(float(s), 3)) for w, s in zip(words, sentiments) if s]
