"""The label log: people's sentiment labels of conversation turns, append-only, outside the analytics DB.

Compliance and admin users label a turn negative, neutral or positive in the Conversations page's
transcript viewer (or confirm the model's label: a row whose `label` equals `model_label`). The
dashboard opens the analytics database read-only, so labels live in a small SQLite file next to it
(`<db>.labels.sqlite`, or the path in the environment variable DASHBOARD_LABELS), built like the review
log (analysis.compliance.reviews): every label is a new row (who, when, the model's label and model id
shown at the time), SQLite triggers abort any UPDATE or DELETE, and each row is chained to the one
before by a hash (analysis.chain), so `verify` and `python -m analysis verify-logs` find a rewrite.

A turn is keyed by (conversation_id, turn); a turn labelled twice counts by its latest label
(`current`). `training_frame` joins those with the turns' text for `sentiment-train --db FILE`;
`agreement` says how far the stored model's labels agree with them. The time of a label is an
argument: this module never reads the clock.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis import access, chain
from analysis.db import connect, get_meta, query_df, quote_ident, ratio, table_exists
from analysis.errors import UserError

ENV = "DASHBOARD_LABELS"
LABELS = ("negative", "neutral", "positive")
# Who may label: the roles that read transcript text (a label of a turn one cannot read is a guess),
# narrowed here rather than in access.PAGE_ROLES, which says who sees a page, not who writes to a log.
LABELLER_ROLES = tuple(r for r in ("compliance", "admin") if access.can_see_pii(r))
COLUMNS = ["label_id", "conversation_id", "turn", "text_md5", "label", "model_label", "model_id", "labeller", "labelled_at"]
FIELDS = COLUMNS[1:]  # what the hash covers: every field but the id (the chain's order gives it)

SCHEMA = """
create table if not exists labels (
    label_id integer primary key autoincrement,
    conversation_id text not null,
    turn integer not null,
    text_md5 text,                      -- MD5 of the turn's text as labelled (UTF-8, hex): a changed text drops the label
    label text not null check (label in ('negative', 'neutral', 'positive')),
    model_label text,                   -- the model's label shown when the person labelled (null: unscored)
    model_id text,                      -- the model that gave it
    labeller text not null,             -- the signed-in user's name
    labelled_at text not null,          -- ISO 8601 instant in UTC, e.g. 2026-12-06T23:40:00+00:00
    prev_hash text,                     -- the chain (analysis.chain): the row before's hash
    hash text                           -- SHA-256 of prev_hash and this row's fields
);
create index if not exists labels_key on labels (conversation_id, turn, label_id);
"""
TRIGGERS = chain.triggers_sql("labels", "the label log is append-only: add a new label instead")


def default_path(db_path: str | Path, environ=None) -> Path:
    """Where the labels of database `db_path` live: $DASHBOARD_LABELS, else `<db>.labels.sqlite`."""
    env = (os.environ if environ is None else environ).get(ENV, "").strip()
    return Path(env) if env else Path(f"{db_path}.labels.sqlite")


def can_label(role: str) -> bool:
    return role in LABELLER_ROLES


def _setup(con: sqlite3.Connection) -> None:
    con.executescript(SCHEMA + TRIGGERS)


def _open(path: Path, create: bool) -> sqlite3.Connection | None:
    return chain.open_log(path, create, _setup, "label log", ENV)


def verify(path: str | Path) -> tuple[int, str, list[str]]:
    """(labels, head hash, problems) of the label log's chain; see analysis.chain.verify."""
    con = _open(Path(path), create=False)
    if con is None:
        return 0, chain.GENESIS, []  # no label yet: nothing to verify
    with closing(con):
        return chain.verify(con, "labels", "label_id", FIELDS)


def record(path: str | Path, conversation_id: str, turn: int, label: str, labeller: str, at: datetime, *,
           role: str, text: str | None = None, model_label: str | None = None, model_id: str | None = None) -> dict:
    """Append one label of turn `turn` of `conversation_id` by `labeller` (signed in with `role`) and return it.

    `text`: the turn's text as the labeller read it; its MD5 is kept, so that if an import later changes
    the turn's text the label is not applied to words nobody labelled. `model_label` / `model_id`: the
    model's label of the turn as the labeller saw it (a confirmation of the model is a label equal to
    it). Roles without the right to label are refused here, whatever the page shows.
    """
    if not can_label(role):
        raise UserError(f"role {role!r} may not label sentiment: labels are given by {' or '.join(LABELLER_ROLES)} users")
    if label not in LABELS:
        raise UserError(f"sentiment label {label!r} is not one of {', '.join(LABELS)}: choose one")
    if model_label is not None and model_label not in LABELS:
        raise UserError(f"the model's label {model_label!r} is not one of {', '.join(LABELS)}: pass the turn's stored label or none")
    if not (labeller or "").strip():
        raise UserError("a label needs the labeller's name: sign in first")
    if not conversation_id or isinstance(turn, bool) or not isinstance(turn, int) or turn < 0:
        raise UserError("a label needs the turn's conversation_id and its turn number: open a transcript first")
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise UserError("the time of a label must be a time-zone-aware datetime: pass e.g. datetime.now(timezone.utc)")
    labelled_at = at.astimezone(timezone.utc).isoformat(timespec="seconds")
    text_md5 = None if text is None else hashlib.md5(str(text).encode("utf-8")).hexdigest()
    values = [str(conversation_id), int(turn), text_md5, label, model_label, model_id, labeller.strip(), labelled_at]
    con = _open(Path(path), create=True)
    with closing(con):
        try:
            con.execute("begin immediate")
            label_id = chain.append(con, "labels", "label_id", FIELDS, values)
            con.execute("commit")
        except sqlite3.Error as exc:
            con.execute("rollback")
            raise UserError(f"could not write to the label log {path} ({exc}): check the file is writable") from None
    return dict(zip(COLUMNS, [label_id, *values]))


def latest_id(path: str | Path) -> int:
    """The newest label's id (0 when none): the log's version, since rows are only ever appended."""
    con = _open(Path(path), create=False)
    if con is None:
        return 0
    with closing(con):
        return int(con.execute("select coalesce(max(label_id), 0) from labels").fetchone()[0])


def history(path: str | Path, conversation_id: str | None = None, upto: int | None = None) -> pd.DataFrame:
    """Every label (of one conversation when given; up to label `upto` when given), oldest first."""
    con = _open(Path(path), create=False)
    if con is None:
        return pd.DataFrame(columns=COLUMNS)
    with closing(con):
        cur = con.execute(
            f"select {', '.join(map(quote_ident, COLUMNS))} from labels"
            " where (? is null or conversation_id = ?) and (? is null or label_id <= ?) order by label_id",
            [conversation_id, conversation_id, upto, upto])
        return pd.DataFrame(cur.fetchall(), columns=COLUMNS)


def current(path: str | Path, conversation_id: str | None = None, upto: int | None = None) -> pd.DataFrame:
    """The latest label of every labelled turn (of one conversation when given), one row per
    (conversation_id, turn), in the order those latest labels were given."""
    return _latest(history(path, conversation_id, upto))


def _latest(every: pd.DataFrame) -> pd.DataFrame:
    """The last row per (conversation_id, turn) of a `history` frame, in the order of those rows."""
    if every.empty:
        return every
    return every.drop_duplicates(["conversation_id", "turn"], keep="last").reset_index(drop=True)


def labelled_turns(con, latest: pd.DataFrame) -> pd.DataFrame:
    """`latest` (current labels) with each turn's speaker and text, whether that text is the one labelled
    (`same_text`: true when the label kept no text hash), and the stored model's label and id (empty
    where the turn is not in this database or not scored), in the labels' order."""
    cols = ["label_id", "conversation_id", "turn", "label", "speaker", "text", "same_text", "stored_label", "stored_model_id"]
    if latest.empty:
        return pd.DataFrame(columns=cols)
    human = pd.DataFrame({"label_id": latest["label_id"].astype("int64"),
                          "conversation_id": latest["conversation_id"].astype(str),
                          "turn": latest["turn"].astype("int64"),
                          "text_md5": latest["text_md5"].astype(object).where(latest["text_md5"].notna(), None),
                          "label": latest["label"].astype(str)})
    return query_df(con, "sentiment_labelled_turns", frames={"human_labels": human})[cols]


def training_frame(db_path: str | Path, labels_path: str | Path | None = None) -> pd.DataFrame:
    """DataFrame[text, label]: the latest label of each labelled turn with the turn's text from the
    database `db_path` (opened read-only), in the order the labels were given. Turns no longer in the
    database, or whose text has changed since it was labelled, are left out. What
    `sentiment-train --db FILE` trains on."""
    labels_path = Path(labels_path) if labels_path else default_path(db_path)
    latest = current(labels_path)
    if latest.empty:
        return pd.DataFrame({"text": pd.Series(dtype=str), "label": pd.Series(dtype=str)})
    con = connect(db_path, read_only=True)
    try:
        if not table_exists(con, "turns"):
            raise UserError(f"database {db_path} has no conversation turns to join the labels with: import conversations or pass the database the labels were given on")
        turns = labelled_turns(con, latest)
    finally:
        con.close()
    found = turns[turns["text"].notna() & turns["same_text"].fillna(False).astype(bool)]
    return pd.DataFrame({"text": found["text"].astype(str).to_numpy(), "label": found["label"].astype(str).to_numpy()})


def agreement(con, labels_path: str | Path, upto: int | None = None) -> dict:
    """What the page's label panel shows, for the labels up to label id `upto` (all when None; the
    dashboard passes `latest_id`, so its cache key changes with every new label):

    labels (rows in the log), labelled_turns, labellers, confirmed (latest labels equal to the model's
    label shown at the time), changed (labelled turns whose text has changed since: not compared),
    compared (labelled turns, text unchanged, with a stored model label), agree (of those,
    stored label == human label), agreement (agree / compared, None when nothing to compare),
    model_id (the model that scored the data: meta 'sentiment_model', else the labelled turns' stored model id)."""
    every = history(labels_path, upto=upto)
    latest = _latest(every)  # the log read once
    turns = labelled_turns(con, latest)
    same = turns["same_text"].fillna(False).astype(bool) & turns["text"].notna()
    scored = turns[same & turns["stored_label"].notna()]
    agree = int((scored["stored_label"] == scored["label"]).sum())
    model_id = get_meta(con, "sentiment_model")
    if not model_id and len(scored):
        model_id = str(scored["stored_model_id"].iloc[-1])
    return {
        "labels": len(every),
        "labelled_turns": len(latest),
        "labellers": int(every["labeller"].nunique()) if len(every) else 0,
        "confirmed": int((latest["label"] == latest["model_label"]).sum()) if len(latest) else 0,
        "changed": int((turns["text"].notna() & ~same).sum()),
        "compared": len(scored),
        "agree": agree,
        "agreement": ratio(agree, len(scored)),
        "model_id": model_id,
    }
