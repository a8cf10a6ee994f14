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

import hashlib
import sys
from pathlib import Path

from analysis import incremental, qa
from analysis.db import bind, create_table, get_meta, install_layer, query_rows, quote_ident, rows, set_meta, sql_text
from analysis.schema import derived_ddl
from analysis.sentiment import load_model
from analysis.sentiment.vader import NEGATIVE_AT, POSITIVE_AT

CHUNK = 20_000

CACHE_DDL = derived_ddl("sentiment_cache")


def score_new_texts(con, model, progress: bool = False) -> int:
    """Score and cache every turn/comment text the model has not scored yet; returns how many."""
    con.execute(CACHE_DDL)
    return _score(con, model, query_rows(con, "conversation_texts_unscored", {"model_id": model.model_id}), progress)


def _score(con, model, todo: list[tuple[str, str]], progress: bool = False) -> int:
    """Score the (text_hash, text) pairs `todo` and add them to the cache; returns how many."""
    import pandas as pd

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


def qa_config_sha256(rules_path=None) -> str | None:
    """sha256 of the QA rule file's bytes (None when it cannot be read: the full rebuild reports that)."""
    try:
        return hashlib.sha256(Path(rules_path or qa.RULES_FILE).read_bytes()).hexdigest()
    except OSError:
        return None


def refresh(con, model=None, rules_path=None, progress: bool = False, changed=None) -> dict:
    """Score new texts, rebuild the sentiment tables and the QA tables. `model`: a name, a model, or None (configured).

    `changed` (analysis.changes.Changes of the import just made): refresh only the conversations
    and survey responses it touched (`_refresh_touched`), when the stored tables are a full rebuild
    of the data before it with the same model and QA rule file (analysis.incremental).
    """
    if model is None or isinstance(model, str):
        model = load_model(model)
    qa_sha = qa_config_sha256(rules_path)
    if (incremental.can_increment(con, "conversations", changed) and get_meta(con, "sentiment_model") == model.model_id
            and qa_sha is not None and get_meta(con, "qa_rules_sha256") == qa_sha):
        conversations = changed.values("conversation_id", "conversations", "turns")
        total = rows(con, "select count(*) from conversations")[0][0]
        if len(conversations) <= incremental.FULL_SHARE * total:
            return _refresh_touched(con, model, rules_path, changed, conversations, progress)
    scored = score_new_texts(con, model, progress=progress)
    params = {"model_id": model.model_id}
    create_table(con, "turn_sentiment", "conversation_turn_scores", params)
    create_table(con, "comment_sentiment", "conversation_comment_scores", params)
    create_table(con, "conversation_sentiment", "conversation_sentiment_rollup",
               {"negative_at": NEGATIVE_AT, "positive_at": POSITIVE_AT})
    set_meta(con, "sentiment_model", model.model_id)
    stats = {"texts_scored": scored, "model_id": model.model_id}
    stats.update(qa.refresh(con, rules_path))
    if qa_sha is not None:
        set_meta(con, "qa_rules_sha256", qa_sha)
    incremental.mark(con, "conversations", "full")
    stats["conversations"] = rows(con, "select count(*) from conversation_sentiment")[0][0]
    return stats


# First-conversation candidates of the accounts of the touched conversations: each account's
# first conversation (by started_at, conversation_id) now, and its first among the conversations
# the import left alone (the one that was first before, if the first changed).
_QA_CONVERSATIONS = """
with ranked as (
    select
        conversation_id,
        row_number() over (partition by account_id order by started_at, conversation_id) as now_rank,
        row_number() over (
            partition by account_id, conversation_id in (select conversation_id from _refresh_conversations)
            order by started_at, conversation_id
        ) as group_rank,
        conversation_id in (select conversation_id from _refresh_conversations) as touched
    from conversations
)
select conversation_id from _refresh_conversations
union
select conversation_id from ranked where now_rank = 1 or (group_rank = 1 and not touched)
"""


def _refresh_touched(con, model, rules_path, changed, conversations, progress: bool) -> dict:
    """The incremental path of `refresh`: delete and recompute the rows of the touched keys.

    - turn_sentiment, conversation_sentiment: per conversation (its turns and its conversations row);
    - comment_sentiment: per survey response;
    - qa_hits, qa_results, vulnerability_flags: per conversation, but a rule may apply to an
      account's first conversation only, so the set is the touched conversations plus, for every
      account that has or had one of them, its first conversation now and the one that was first
      before (the first of its untouched conversations: those are as they were).
    The queries are the full rebuild's, run on a cursor where `turns`, `surveys` and `conversations`
    are temporary tables of the touched rows (analysis.incremental.shadow).
    """
    config = qa.load_rules(rules_path)
    params = {"model_id": model.model_id, "negative_at": NEGATIVE_AT, "positive_at": POSITIVE_AT}
    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")
        incremental.key_table(cur, "_refresh_conversations", "conversation_id", conversations)
        incremental.key_table(cur, "_refresh_responses", "response_id", changed.values("response_id", "surveys"))
        incremental.key_table(cur, "_refresh_qa_accounts", "account_id", changed.values("account_id", "conversations"))
        main = {t: incremental.main_table(cur, t) for t in (
            "conversations", "turn_sentiment", "comment_sentiment", "conversation_sentiment",
            "qa_hits", "qa_results", "vulnerability_flags")}
        cur.execute("insert into _refresh_qa_accounts select account_id from " + main["conversations"]
                    + " where conversation_id in (select conversation_id from _refresh_conversations)")
        # The conversations of the accounts involved, searched for once; the shadows below are subsets.
        incremental.shadow(cur, "conversations", "account_id", "_refresh_qa_accounts", into="_refresh_account_conversations")
        incremental.shadow(cur, "conversations", "account_id", "_refresh_qa_accounts", source="_refresh_account_conversations")
        cur.execute("create temp table _refresh_qa as " + _QA_CONVERSATIONS)  # a superset of _refresh_conversations
        # Every turn this refresh reads, searched for once (the search reads all 45M turns at 1M accounts).
        incremental.shadow(cur, "turns", "conversation_id", "_refresh_qa", into="_refresh_turns")
        incremental.shadow(cur, "turns", "conversation_id", "_refresh_conversations", source="_refresh_turns")
        incremental.shadow(cur, "surveys", "response_id", "_refresh_responses")
        scored = _score(con, model, incremental.run_rows(cur, "conversation_texts_unscored", params), progress)

        incremental.shadow(cur, "turns", "conversation_id", "_refresh_qa", source="_refresh_turns")
        found = []
        for speaker, text_hash, text in incremental.run_rows(cur, "conversation_distinct_texts"):
            found += [(src, name, speaker, text_hash, s, e, m)
                      for src, name, s, e, m in qa.text_matches(config, speaker, text or "")]
        cur.execute("create temp table qa_text_matches (source varchar, name varchar, speaker varchar, text_hash varchar, "
                    "start_char bigint, end_char bigint, matched_text varchar)")
        if found:
            import pandas as pd

            cur.from_df(pd.DataFrame(found)).insert_into("qa_text_matches")

        def replace(table: str, keys: str, column: str, stem: str, keep_as_shadow: bool = False) -> None:
            """Delete `table`'s rows of the keys and insert them from the query `stem` (its rows of the keys).
            With `keep_as_shadow`, the new rows also become `table`'s shadow on this cursor (what
            incremental.shadow would give after the insert, without reading the table again)."""
            where = " where " + column + " in (select " + column + " from " + keys + ")"
            sql = sql_text(stem)
            install_layer(cur, sql)
            cur.execute("create or replace temp table _refresh_new as select * from (\n" + sql + "\n)" + where, bind(sql, params))
            cur.execute("delete from " + main[table] + where)
            cur.execute("insert into " + main[table] + " by name select * from _refresh_new")
            if keep_as_shadow:
                cur.execute("create or replace temp table " + quote_ident(table) + " as select * from _refresh_new")

        cur.execute("begin transaction")
        try:
            incremental.shadow(cur, "turns", "conversation_id", "_refresh_conversations", source="_refresh_turns")
            replace("turn_sentiment", "_refresh_conversations", "conversation_id", "conversation_turn_scores", keep_as_shadow=True)
            replace("comment_sentiment", "_refresh_responses", "response_id", "conversation_comment_scores")
            incremental.shadow(cur, "conversations", "conversation_id", "_refresh_conversations",
                               source="_refresh_account_conversations")
            replace("conversation_sentiment", "_refresh_conversations", "conversation_id", "conversation_sentiment_rollup")
            incremental.shadow(cur, "turns", "conversation_id", "_refresh_qa", source="_refresh_turns")
            incremental.shadow(cur, "conversations", "account_id", "_refresh_qa_accounts", source="_refresh_account_conversations")
            replace("qa_hits", "_refresh_qa", "conversation_id", "conversation_qa_hits_build")
            replace("qa_results", "_refresh_qa", "conversation_id", "conversation_qa_results_build")
            replace("vulnerability_flags", "_refresh_qa", "conversation_id", "conversation_vulnerability_build")
            incremental.mark(cur, "conversations", "incremental")
            cur.execute("commit")
        except BaseException:
            cur.execute("rollback")
            raise
        stats = {"texts_scored": scored, "model_id": model.model_id}
        stats.update({t: rows(cur, "select count(*) from " + main[t])[0][0] for t in ("qa_results", "qa_hits", "vulnerability_flags")})
        stats["conversations"] = rows(cur, "select count(*) from " + main["conversation_sentiment"])[0][0]
        return stats
    finally:
        cur.close()
