"""The shipped labelled sentences as the training scripts read them: labels and raters' means agree."""
from __future__ import annotations

import numpy as np

from analysis.sentiment import LABELS, labelled


def test_ratings_line_up_with_the_training_texts_and_give_their_gold_labels():
    texts, _, gold, has_neutral = labelled.training_set()
    means = labelled.ratings()
    assert len(means) == len(texts)
    assert np.array_equal(np.isnan(means), ~has_neutral)  # UCI's 0/1 sentences have no raters' mean
    rated = np.flatnonzero(has_neutral)
    assert [LABELS.index(labelled.vader_label(float(means[i]))) for i in rated] == gold[rated].tolist()


def test_a_rated_snippet_carries_the_mean_in_its_file():
    texts, *_ = labelled.training_set()
    means = labelled.ratings()
    line = (labelled.DATA / "vader_gold" / "movieReviewSnippets_GroundTruth.txt").read_text(encoding="utf-8").splitlines()[2]
    _, mean, text = line.split("\t", 2)
    i = texts.index(text.strip())
    assert abs(float(means[i]) - float(mean)) < 1e-6


def test_the_held_out_sets_are_not_among_the_training_texts():
    texts, *_ = labelled.training_set()
    held = {t for s in labelled.HELD_OUT for t, _ in labelled.load(s)}
    assert held & set(texts) == {"Very disappointing."}  # the one sentence both a held-out and a training source contain
