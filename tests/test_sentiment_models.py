"""Both sentiment models on fixed sentences of known polarity, behind the one interface."""
from __future__ import annotations

import pytest

from analysis.errors import UserError
from analysis.sentiment import LABELS, load_model

POSITIVE = [
    "Thank you so much, you've been really helpful today.",
    "Great, the payment plan works perfectly for me.",
    "I'm happy we sorted this out, the agent was kind and patient.",
]
NEGATIVE = [
    "This is harassment, stop calling me, you are useless.",
    "The agent was rude and I am furious about these charges.",
    "Terrible service, the worst company I have ever dealt with.",
]
NEUTRAL = [
    "My account number ends in 4471.",
    "I will call you back on Monday.",
    "Please send the statement to my home address.",
    "The payment is due on the first of the month.",
]


@pytest.fixture(scope="module")
def vader():
    return load_model("vader")


@pytest.fixture(scope="module")
def transformer():
    # loaded once for the module: a model load takes seconds
    return load_model("transformer")


@pytest.mark.parametrize("text", POSITIVE)
def test_vader_scores_positive_sentences_positive(vader, text):
    scores, labels = vader.score([text])
    assert labels == ["positive"] and scores[0] >= 0.05


@pytest.mark.parametrize("text", NEGATIVE)
def test_vader_scores_negative_sentences_negative(vader, text):
    scores, labels = vader.score([text])
    assert labels == ["negative"] and scores[0] <= -0.05


def test_vader_labels_follow_its_own_thresholds(vader):
    scores, labels = vader.score(POSITIVE + NEGATIVE + NEUTRAL)
    for s, lab in zip(scores, labels):
        assert lab == ("positive" if s >= 0.05 else "negative" if s <= -0.05 else "neutral")


@pytest.mark.parametrize("name", ["vader", "transformer"])
def test_blank_texts_score_zero_neutral_without_the_model(name, request):
    model = request.getfixturevalue(name)
    scores, labels = model.score(["", "   ", None, "Great, thanks!"])
    assert list(scores[:3]) == [0.0, 0.0, 0.0] and labels[:3] == ["neutral"] * 3
    assert labels[3] == "positive"


def test_the_transformer_finds_positive_and_negative_sentences(transformer):
    scores, labels = transformer.score(POSITIVE + NEGATIVE)
    assert labels == ["positive"] * 3 + ["negative"] * 3
    assert all(s > 0 for s in scores[:3]) and all(s < 0 for s in scores[3:])
    assert all(-1 <= s <= 1 for s in scores)


def test_the_transformers_three_class_head_finds_neutral_text(transformer):
    _, labels = transformer.score(NEUTRAL)
    assert labels == ["neutral"] * len(NEUTRAL)


def test_the_transformer_gives_the_same_label_in_a_batch_as_alone(transformer):
    # batching sorts by length and pads; the result must not depend on the neighbours
    batch_scores, _ = transformer.score(POSITIVE + NEGATIVE + NEUTRAL)
    for text, s in zip(POSITIVE + NEGATIVE + NEUTRAL, batch_scores):
        alone, _ = transformer.score([text])
        assert alone[0] == pytest.approx(s, abs=1e-3)


def test_the_transformer_explains_with_words_that_moved_its_score(transformer):
    words = dict(transformer.explain("The agent was rude and useless."))
    most_negative = min(words, key=words.get)
    assert words[most_negative] < 0 and most_negative.strip(".,").lower() in ("rude", "useless")


def test_labels_are_the_three_named_classes(transformer):
    _, labels = transformer.score(POSITIVE + NEGATIVE + NEUTRAL)
    assert set(labels) <= set(LABELS)


def test_a_missing_head_is_a_one_line_user_error(tmp_path):
    with pytest.raises(UserError, match="not found") as exc:
        load_model("transformer", {"transformer": {"head": str(tmp_path / "nope.npz")}})
    assert "\n" not in str(exc.value) and "train_sentiment_head" in str(exc.value)


def test_a_missing_fine_tuned_model_directory_is_a_one_line_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_model("transformer", {"transformer": {"model_dir": str(tmp_path / "my-model")}})


def test_an_unknown_model_name_is_a_user_error():
    with pytest.raises(UserError, match="unknown sentiment model"):
        load_model("bert-large")


def test_the_model_id_names_the_head_so_a_retrained_head_is_not_served_from_cache(transformer):
    assert "+head-" in transformer.model_id and transformer.model_id != load_model("vader").model_id


def test_the_pipeline_step_scores_conversations_with_the_transformer_when_configured_so(transformer, fresh_db):
    from datetime import datetime, timezone

    from analysis.db import rows
    from analysis.sentiment.conversations import refresh

    fresh_db.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone)
                        values ('A1', 'P1', date '2026-01-01', 100, 'UTC')""")
    fresh_db.execute("insert into conversations values ('C1', 'A1', ?, 'chat', null, null)", [datetime(2026, 2, 1, tzinfo=timezone.utc)])
    for i, (speaker, text) in enumerate([("agent", "Hello."), ("customer", NEGATIVE[0]), ("customer", NEGATIVE[1])], start=1):
        fresh_db.execute("insert into turns values ('C1', ?, ?, ?)", [i, speaker, text])
    stats = refresh(fresh_db, transformer)
    assert stats["texts_scored"] == 3 and stats["model_id"] == transformer.model_id
    assert rows(fresh_db, "select label, model_id from conversation_sentiment") == [("negative", transformer.model_id)]
