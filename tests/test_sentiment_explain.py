"""Explanations: the words VADER summed, and how highlights are drawn around them and around QA/cue markers."""
from __future__ import annotations

from analysis.sentiment import load_model
from analysis.sentiment.report import highlight_html


def test_vader_explains_with_the_words_that_carried_the_score_and_their_sign():
    words = dict(load_model("vader").explain("The agent was rude and useless, but the plan is great."))
    assert words["rude"] < 0 and words["useless"] < 0 and words["great"] > 0
    assert "agent" not in words and "plan" not in words


def test_vader_explanations_follow_its_negation_rule():
    words = dict(load_model("vader").explain("This is not good."))
    assert words["good"] < 0


def test_an_empty_text_has_no_explanation():
    assert load_model("vader").explain("   ") == []


def test_a_cue_and_the_word_inside_it_are_both_marked_and_the_text_is_escaped():
    text = "My anxiety is <bad>"
    spans = [
        {"start": 3, "end": 10, "kind": "word", "label": "-0.70", "weight": -0.7},
        {"start": 3, "end": 10, "kind": "cue", "label": "health: mental_health", "weight": None},
        {"start": 15, "end": 18, "kind": "word", "label": "-2.50", "weight": -2.5},
    ]
    out = highlight_html(text, spans)
    assert out.count('class="hl-cue"') == 1 and out.count('class="hl-word"') == 2
    assert out.index('hl-cue') < out.index('hl-word')  # the word sits inside the cue's mark
    assert "&lt;" in out and "<bad>" not in out


def test_a_transcript_is_explained_only_by_the_model_that_scored_it():
    from analysis.sentiment import report

    transformer = load_model("transformer")
    assert report.explainer_for(transformer.model_id).model_id == transformer.model_id
    assert report.explainer_for(load_model("vader").model_id).model_id.startswith("vader")
    # scores from a model this configuration no longer loads (retrained, switched): no highlights
    assert report.explainer_for(transformer.model_id.replace("+head-", "+head-0")) is None
    assert report.explainer_for("") is None
