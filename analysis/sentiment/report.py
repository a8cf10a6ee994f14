"""What the Conversations page shows, computed from the tables the `conversations` step stores.

Each function takes the (read-only) connection first and plain hashable arguments, so the
dashboard can cache it. Rates are computed here from the queries' counts; a zero denominator
gives None. Personal data (transcript text, matched phrases, account ids) is withheld in
`transcript` for roles not entitled to it, on the server.
"""
from __future__ import annotations

import html
import re

import pandas as pd

from analysis import access
from analysis.db import query_df, ratio
from analysis.pipeline import has_run
from analysis.filters import ALL, Filters

GROUPS = ("team", "agent", "channel", "strategy")
WITHHELD = "[withheld]"


def ready(con) -> bool:
    """Whether the conversations step has run on this database."""
    return has_run(con, "conversations")


def sentiment_cells(con, filters: Filters = ALL, by: str = "team") -> pd.DataFrame:
    """Conversations in the filters (conversations, scored, customer_score_sum) per group x month x label
    (cell 'group') and per label x score bin (cell 'bin'): one query, from which `overview_of`,
    `histogram_of`, `trend_of` and `by_group_of` sum what each part of the page shows (the dashboard
    caches the cells once)."""
    if by not in GROUPS:
        raise ValueError(f"group by one of {GROUPS}")
    return query_df(con, "conversation_sentiment_cells", {"by": by, **filters.params()})


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["negative_pct"] = [ratio(n, d, 100.0) for n, d in zip(out["negative"], out["scored"])]
    out["mean_customer_score"] = [ratio(n, d) for n, d in zip(out["customer_score_sum"], out["scored"])]
    return out.drop(columns=["customer_score_sum"])


def _group_cells(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[cells["cell"] == "group"] if len(cells) else cells


def _counts(cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The group cells summed over `keys`: conversations, scored, negative/neutral/positive, customer_score_sum."""
    cols = ["conversations", "scored", "negative", "neutral", "positive", "customer_score_sum"]
    cells = _group_cells(cells)
    if cells.empty:
        return pd.DataFrame(columns=keys + cols)
    df = cells.assign(**{lab: cells["conversations"].where(cells["label"] == lab, 0) for lab in ("negative", "neutral", "positive")})
    return df.groupby(keys, as_index=False, sort=True)[cols].sum()


def overview_of(cells: pd.DataFrame, flagged_accounts: int) -> dict:
    """Totals: conversations, scored, negative share (%), mean customer score, flagged accounts."""
    cells = _group_cells(cells)
    sums = {k: (cells[k].sum() if len(cells) else 0) for k in ("conversations", "scored", "customer_score_sum")}
    total = {k: int(sums[k]) for k in ("conversations", "scored")}
    for lab in ("negative", "neutral", "positive"):
        total[lab] = int(cells.loc[cells["label"] == lab, "conversations"].sum()) if len(cells) else 0
    total["negative_pct"] = ratio(total["negative"], total["scored"], 100.0)
    total["mean_customer_score"] = ratio(float(sums["customer_score_sum"]), total["scored"])
    total["flagged_accounts"] = int(flagged_accounts)
    return total


def by_group_of(cells: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per group: counts, negative_pct (of scored conversations), mean_customer_score."""
    return _rates(_counts(cells, ["group_value"])).rename(columns={"group_value": by})


def trend_of(cells: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per group x month: as `by_group_of`."""
    return _rates(_counts(cells, ["group_value", "month"])).rename(columns={"group_value": by})


def histogram_of(cells: pd.DataFrame) -> pd.DataFrame:
    """Scored conversations per customer-score bin (width 0.1) and label."""
    scored = cells[(cells["cell"] == "bin") & cells["bin_start"].notna()] if len(cells) else cells
    if scored.empty:
        return pd.DataFrame(columns=["bin_start", "label", "conversations"])
    return scored.groupby(["bin_start", "label"], as_index=False, sort=True)["conversations"].sum()


def overview(con, filters: Filters = ALL) -> dict:
    """Totals in the filters: conversations, scored, negative share (%), mean customer score, flagged accounts."""
    return overview_of(sentiment_cells(con, filters), len(vulnerable_accounts(con, filters)))


def by_group(con, filters: Filters = ALL, by: str = "team") -> pd.DataFrame:
    return by_group_of(sentiment_cells(con, filters, by), by)


def trend(con, filters: Filters = ALL, by: str = "team") -> pd.DataFrame:
    return trend_of(sentiment_cells(con, filters, by), by)


def histogram(con, filters: Filters = ALL) -> pd.DataFrame:
    return histogram_of(sentiment_cells(con, filters))


def lowest(con, filters: Filters = ALL, limit: int = 25) -> pd.DataFrame:
    return query_df(con, "conversation_lowest", {"limit": int(limit), **filters.params()})


def qa_rows(con, filters: Filters = ALL) -> pd.DataFrame:
    """One row per agent x QA rule in the filters (checked, passed, hits): what both QA tables sum."""
    return query_df(con, "conversation_qa_by_agent", filters.params())


def qa_by_agent_of(df: pd.DataFrame) -> pd.DataFrame:
    """One row per agent: conversations checked, passed every rule that applied, and per-rule pass rates (%)."""
    if df.empty:
        return pd.DataFrame(columns=["agent_id", "agent_name", "agent_team"])
    wide = df.pivot_table(index=["agent_id"], columns="rule_id", values=["checked", "passed", "hits"], aggfunc="sum", fill_value=0)
    out = df.groupby("agent_id", as_index=False).agg(agent_name=("agent_name", "first"), agent_team=("agent_team", "first"))
    for rule in sorted(df["rule_id"].unique()):
        checked = wide[("checked", rule)].reindex(out["agent_id"]).to_numpy()
        passed = wide[("passed", rule)].reindex(out["agent_id"]).to_numpy()
        out[f"{rule}_checked"] = checked
        out[f"{rule}_pass_pct"] = [ratio(p, c, 100.0) for p, c in zip(passed, checked)]
    return out


def qa_by_rule_of(df: pd.DataFrame) -> pd.DataFrame:
    """One row per rule: conversations checked, passed, hits, pass_pct."""
    if df.empty:
        return pd.DataFrame(columns=["rule_id", "kind", "checked", "passed", "hits", "pass_pct"])
    out = df.groupby(["rule_id", "kind"], as_index=False)[["checked", "passed", "hits"]].sum()
    out["pass_pct"] = [ratio(p, c, 100.0) for p, c in zip(out["passed"], out["checked"])]
    return out


def qa_by_agent(con, filters: Filters = ALL) -> pd.DataFrame:
    return qa_by_agent_of(qa_rows(con, filters))


def qa_by_rule(con, filters: Filters = ALL) -> pd.DataFrame:
    return qa_by_rule_of(qa_rows(con, filters))


def vulnerable_accounts(con, filters: Filters = ALL) -> pd.DataFrame:
    """Accounts with a vulnerability cue in the filters, the latest flagged first (every row: the download)."""
    return query_df(con, "conversation_vulnerable_accounts", filters.params(limit=None)).drop(columns="flagged_total")


def vulnerable_view(con, filters: Filters, limit: int) -> dict:
    """What the pages show of `vulnerable_accounts`, small whatever the book's size (the dashboard caches
    it): `total` (accounts flagged) and `shown` (the latest flagged `limit`), from one query that returns
    the first `limit` rows with the total. At 1M accounts the list is 168k accounts (17 MB), once kept
    whole in the cache for each filter and sent whole to the browser."""
    found = query_df(con, "conversation_vulnerable_accounts", filters.params(limit=limit))
    total = int(found["flagged_total"].iloc[0]) if len(found) else 0
    return {"total": total, "shown": found.drop(columns="flagged_total")}


def _word_spans(text: str, words: list[tuple[str, float]]) -> list[dict]:
    """Character spans of the explained words, found left to right in the original text."""
    spans, pos = [], 0
    for word, weight in words:
        m = re.compile(re.escape(word), re.IGNORECASE).search(text, pos) or re.compile(re.escape(word), re.IGNORECASE).search(text)
        if m:
            spans.append({"start": m.start(), "end": m.end(), "kind": "word", "label": f"{weight:+.2f}", "weight": weight})
            pos = m.end()
    return spans


_explainers: dict[str, object] = {}  # model id -> the model that explains its scores (or None), per process


def explainer_for(model_id: str):
    """The model that produced `model_id`'s scores, to explain them in the transcript: VADER, or the
    configured transformer when its id is `model_id` (loaded once per process: seconds the first
    time); None when this configuration no longer loads that model (switched or retrained since the
    data was scored), so no highlight ever comes from a model other than the one that scored."""
    if not model_id:
        return None
    if model_id not in _explainers:
        from analysis.errors import UserError
        from analysis.sentiment import load_model

        try:
            model = load_model("vader" if model_id.startswith("vader") else "transformer")
        except UserError:
            model = None
        _explainers[model_id] = model if model is not None and model.model_id == model_id else None
    return _explainers[model_id]


def transcript(con, conversation_id: str, role: str) -> dict | None:
    """One conversation for the viewer, or None when it does not exist.

    Returns {"header": dict, "turns": DataFrame(turn, speaker, text, score, label, influence, spans),
    "qa": DataFrame(rule_id, kind, passed, title, source), "markers": DataFrame}. `influence` of a
    customer turn: the customer's mean minus the mean without that turn (how much it moved the
    conversation's score). `spans`: highlights [{start, end, kind word|qa|cue, label, weight}] —
    the words (or a long text's windows) that carried the turn's score, by the model that scored it
    (`explainer_for`). Text, spans and matched phrases are withheld,
    and the account id pseudonymised, for roles not entitled to personal data.
    """
    head = query_df(con, "conversation_header", {"conversation_id": conversation_id})
    if head.empty:
        return None
    header = head.iloc[0].to_dict()
    turns = query_df(con, "conversation_transcript", {"conversation_id": conversation_id})
    markers = query_df(con, "conversation_markers", {"conversation_id": conversation_id})
    qa = query_df(con, "conversation_qa_results", {"conversation_id": conversation_id})
    customer = turns[(turns["speaker"] == "customer") & turns["score"].notna()]
    n, total = len(customer), float(customer["score"].sum()) if len(customer) else 0.0
    influence = []
    for speaker, score in zip(turns["speaker"], turns["score"]):
        if speaker == "customer" and score == score and score is not None and n > 1:
            influence.append(total / n - (total - score) / (n - 1))
        else:
            influence.append(None)
    turns["influence"] = influence
    # a role that may not read the text gets no word highlights: not computed at all
    explainer = explainer_for(str(header.get("model_id") or "")) if access.can_see_pii(role) else None
    spans_col = []
    for turn, text in zip(turns["turn"], turns["text"]):
        spans = _word_spans(text, explainer.explain(text)) if explainer else []
        for m in markers[markers["turn"] == turn].itertuples():
            spans.append({"start": int(m.start_char), "end": int(m.end_char), "kind": m.marker,
                          "label": m.name if m.marker == "qa" else f"{m.detail}: {m.name}", "weight": None})
        spans_col.append(spans)
    turns["spans"] = spans_col
    if not access.can_see_pii(role):
        turns["text"] = WITHHELD
        turns["spans"] = [[s for s in spans if s["kind"] != "word"] for spans in spans_col]
        turns["spans"] = [[{**s, "start": 0, "end": 0} for s in spans] for spans in turns["spans"]]
        markers = markers.assign(matched_text=WITHHELD)
        header["account_id"] = access.pseudonym(header.get("account_id"))
    return {"header": header, "turns": turns, "qa": qa, "markers": markers}


COLOURS = {"word_pos": "#c8ecc8", "word_neg": "#f8c9c9", "qa": "#ffd37a", "cue": "#c9d8ff"}


def _non_overlapping(spans: list[dict]) -> list[dict]:
    kept, end = [], -1
    for sp in sorted((x for x in spans if x["end"] > x["start"]), key=lambda x: (x["start"], -x["end"])):
        if sp["start"] >= end:
            kept.append(sp)
            end = sp["end"]
    return kept


def _mark(sp: dict, inner: str) -> str:
    if sp["kind"] == "word":
        colour = COLOURS["word_pos"] if (sp["weight"] or 0) > 0 else COLOURS["word_neg"]
    else:
        colour = COLOURS[sp["kind"]]
    return (f'<mark class="hl-{sp["kind"]}" title="{html.escape(str(sp["label"]))}" '
            f'style="background:{colour};padding:0 2px;border-radius:3px">{inner}</mark>')


def _render(text: str, offset: int, spans: list[dict]) -> str:
    out, pos = [], offset
    for sp in spans:
        out.append(html.escape(text[pos - offset:sp["start"] - offset]))
        out.append(_mark(sp, html.escape(text[sp["start"] - offset:sp["end"] - offset])))
        pos = sp["end"]
    out.append(html.escape(text[pos - offset:]))
    return "".join(out)


def highlight_html(text: str, spans: list[dict]) -> str:
    """The turn's text as escaped HTML with <mark> around highlighted spans.

    QA hits and vulnerability cues are the outer marks; the score-carrying words inside them are
    nested marks, so neither hides the other. Words that straddle a marker's edge are left unmarked.
    """
    outer = _non_overlapping([sp for sp in spans if sp["kind"] != "word"])
    words = _non_overlapping([sp for sp in spans if sp["kind"] == "word"])
    out, pos = [], 0
    for sp in outer:
        for w in words:
            if pos <= w["start"] and w["end"] <= sp["start"]:
                out.append(html.escape(text[pos:w["start"]]) + _mark(w, html.escape(text[w["start"]:w["end"]])))
                pos = w["end"]
        out.append(html.escape(text[pos:sp["start"]]))
        inside = [w for w in words if sp["start"] <= w["start"] and w["end"] <= sp["end"]]
        out.append(_mark(sp, _render(text[sp["start"]:sp["end"]], sp["start"], inside)))
        pos = sp["end"]
    for w in words:
        if pos <= w["start"]:
            out.append(html.escape(text[pos:w["start"]]) + _mark(w, html.escape(text[w["start"]:w["end"]])))
            pos = w["end"]
    out.append(html.escape(text[pos:]))
    return "".join(out)
