"""Conversation sentiment stored in DuckDB: every turn and survey comment scored, then rolled up.

Pipeline step `conversations` (`refresh`): scores the texts that have no cached score for the
configured model (cache keyed by md5 of the text and the model id, which carries the version), then
rebuilds from the cache:

- `turn_sentiment(conversation_id, turn, speaker, model_id, score, label)`
- `conversation_sentiment` (one row per conversation: customer/agent mean, first/last third,
  trajectory, label) — see queries/conversation_sentiment_rollup.sql
- `comment_sentiment(response_id, score, label, model_id)` for survey comments
- `qa_results`, `qa_hits`, `vulnerability_flags`, `qa_rules` (analysis.qa)

Re-running over more data scores only the new texts; `refresh` returns how many it scored.
"""
from __future__ import annotations

import sys

from analysis import qa
from analysis.db import create_table, query_rows, rows, set_meta
from analysis.schema import derived_ddl
from analysis.sentiment import load_model
from analysis.sentiment.vader import NEGATIVE_AT, POSITIVE_AT

CHUNK = 20_000

CACHE_DDL = derived_ddl("sentiment_cache")


def score_new_texts(con, model, progress: bool = False) -> int:
    """Score and cache every turn/comment text the model has not scored yet; returns how many."""
    import pandas as pd

    con.execute(CACHE_DDL)
    todo = query_rows(con, "conversation_texts_unscored", {"model_id": model.model_id})
    for i in range(0, len(todo), CHUNK):
        part = todo[i:i + CHUNK]
        scores, labels = model.score([t for _, t in part])
        frame = pd.DataFrame({"text_hash": [h for h, _ in part], "model_id": model.model_id,
                              "score": scores, "label": labels})
        cur = con.cursor()
        try:
            cur.register("_scored", frame)
            cur.execute("insert or replace into sentiment_cache select text_hash, model_id, score, label from _scored")
            cur.unregister("_scored")
        finally:
            cur.close()
        if progress:
            print(f"    scored {min(i + CHUNK, len(todo)):,}/{len(todo):,} texts with {model.model_id}", file=sys.stderr)
    return len(todo)


def refresh(con, model=None, rules_path=None, progress: bool = False) -> dict:
    """Score new texts, rebuild the sentiment tables and the QA tables. `model`: a name, a model, or None (configured)."""
    if model is None or isinstance(model, str):
        model = load_model(model)
    scored = score_new_texts(con, model, progress=progress)
    params = {"model_id": model.model_id}
    create_table(con, "turn_sentiment", "conversation_turn_scores", params)
    create_table(con, "comment_sentiment", "conversation_comment_scores", params)
    create_table(con, "conversation_sentiment", "conversation_sentiment_rollup",
               {"negative_at": NEGATIVE_AT, "positive_at": POSITIVE_AT})
    set_meta(con, "sentiment_model", model.model_id)
    stats = {"texts_scored": scored, "model_id": model.model_id}
    stats.update(qa.refresh(con, rules_path))
    stats["conversations"] = rows(con, "select count(*) from conversation_sentiment")[0][0]
    return stats
