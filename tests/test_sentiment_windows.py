"""Long texts read in sentence windows (issue 23): texts within max_length tokens score exactly as
before, longer ones are split at sentences into windows of at most max_length tokens and combined."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.sentiment import read_config
from analysis.sentiment.transformer import load_transformer, windows

SHORT = ["The agent was patient and explained everything, thank you.", "Too many calls, sometimes three a day.",
         "I paid online.", "ok", "Worst service ever, rude and useless!", "x" * 70]
# a factual opening of more than 64 tokens, then the complaint
OPENING = ("On March 3 I received a letter from the collection agency about an account from 2014. "
           "The letter listed a balance of 1,250 dollars and an address in Ohio. "
           "I called the number on the letter the next Monday and gave my name and the reference number. "
           "The representative read me the account number and the date of the last payment. ")
COMPLAINT = ("They were rude and abusive, they threatened to have me arrested and they keep harassing my family. "
             "This is a disgrace and I am furious and scared.")


@pytest.fixture(scope="module")
def cfg():
    return dict(read_config().get("transformer", {}))


@pytest.fixture(scope="module")
def model(cfg):
    return load_transformer(cfg)


@pytest.fixture(scope="module")
def unwindowed(cfg):
    return load_transformer({**cfg, "windows": False})


def offsets(model, text):
    return model._token_offsets([text])[0]


def test_texts_within_max_length_score_bitwise_as_without_windows(model, unwindowed):
    long = OPENING + COMPLAINT
    assert len(offsets(model, long)) > model.max_length - 2
    p_off = unwindowed.probabilities(SHORT)
    assert np.array_equal(model.probabilities(SHORT), p_off)
    mixed = model.probabilities(SHORT[:3] + [long] + SHORT[3:])  # scored together with a long text's windows
    assert np.array_equal(np.delete(mixed, 3, axis=0), p_off)
    s_on, l_on = model.score(SHORT)
    s_off, l_off = unwindowed.score(SHORT)
    assert np.array_equal(s_on, s_off) and l_on == l_off


def test_a_complaint_beyond_the_first_window_makes_the_text_negative(model, unwindowed):
    text = OPENING + COMPLAINT
    wins = windows(text, offsets(model, text), model.max_length - 2)
    first = text[: offsets(model, text)[wins[0][1] - 1][1]]
    assert len(wins) >= 2 and "rude" not in first
    assert model.score([first])[1] != ["negative"]  # the first window alone is not negative
    assert unwindowed.score([text])[1] != ["negative"]  # nor is the text read by its first 64 tokens
    assert model.score([text])[1] == ["negative"]


def test_a_text_of_exactly_max_length_tokens_is_one_window_and_one_more_token_splits_it(model):
    budget = model.max_length - 2  # [CLS] and [SEP]
    exact = " ".join(["the"] * budget)
    assert len(offsets(model, exact)) == budget
    over = exact + " the"
    assert model._plan([exact]) == [None]
    plan = model._plan([over])[0]
    assert plan is not None and [b - a for a, b, _, _ in plan[1]] == [budget, 1]


def test_sentences_are_grouped_greedily_and_an_over_long_sentence_is_cut_at_word_starts(model):
    sentence = "The collector called again today. "  # a short sentence, ending with a period
    run_on = " ".join(f"word{i}" for i in range(60))  # one sentence of many tokens, no punctuation
    text = sentence * 3 + "Why?\n" + run_on + "! " + sentence
    offs = offsets(model, text)
    wins = windows(text, offs, 12)
    assert all(b - a <= 12 for a, b, _, _ in wins)
    assert [w[0] for w in wins[1:]] == [w[1] for w in wins[:-1]] and wins[0][0] == 0 and wins[-1][1] == len(offs)
    texts = [text[offs[a][0]:offs[b - 1][1]] for a, b, _, _ in wins]
    assert texts[0] == (sentence * 2).strip()  # two whole sentences (6 tokens each) fit 12 tokens, three do not
    assert wins[0][2:] == (1, 2)
    cut = [t for t, (_, _, i, j) in zip(texts, wins) if i == j == 5]  # sentence 5 is the run-on one
    assert len(cut) >= 2 and all(t.startswith("word") for t in cut)  # cut at a word's start, never inside
    assert texts[-1].endswith("called again today.")


def test_explain_names_the_windows_that_carried_a_long_texts_score(model):
    text = OPENING + COMPLAINT
    explained = model.explain(text)
    assert explained and all(part in text for part, _ in explained)
    strongest = min(explained, key=lambda x: x[1])
    assert "rude" in strongest[0] and strongest[1] < 0
    words = dict(model.explain("The agent was rude and useless."))  # a short text: still word by word
    assert "rude" in words or "useless" in words


def test_the_model_id_says_long_texts_are_read_in_windows(model, unwindowed):
    assert "-win" in model.model_id and "-win" not in unwindowed.model_id
    assert model.model_id.replace("-win", "") == unwindowed.model_id
