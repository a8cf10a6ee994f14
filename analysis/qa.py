"""QA phrase rules and vulnerability cues over conversation turns, as configuration.

The rules live in `config/qa_rules.yaml` (regular expressions per speaker, position and scope).
`check_conversation` applies them to one conversation's turns (used by tests and the transcript
viewer); `refresh` applies them to every stored conversation and writes `qa_results`, `qa_hits`
and `vulnerability_flags` (called by the pipeline step `conversations`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from analysis.db import quote_ident
from analysis.errors import UserError
from analysis.schema import derived_ddl

ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = ROOT / "config" / "qa_rules.yaml"
KINDS = ("required", "prohibited")
SCOPES = ("all", "first_conversation")
SPEAKERS = ("agent", "customer")
DRIVERS = ("health", "life_events", "resilience", "capability")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    title: str
    source: str
    speaker: str
    first_turns: int | None
    applies_to: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Cue:
    driver: str
    cue: str
    pattern: re.Pattern


@dataclass(frozen=True)
class QaConfig:
    rules: tuple[Rule, ...]
    cues: tuple[Cue, ...]
    cue_speaker: str


def _compile(patterns, where: str, path) -> re.Pattern:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise UserError(f"{path}: {where} needs a non-empty list of patterns")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error as exc:
        raise UserError(f"{path}: {where} has a bad regular expression ({exc}): fix the pattern") from None


def load_rules(path: str | Path | None = None) -> QaConfig:
    """Read and check the rule file; any mistake is a one-line UserError naming the rule."""
    path = Path(path) if path else RULES_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UserError(f"QA rules file {path} not found: restore config/qa_rules.yaml or name an existing file") from None
    except yaml.YAMLError as exc:
        raise UserError(f"QA rules file {path} is not valid YAML ({exc.__class__.__name__}): fix the file") from None
    rules = []
    for i, raw in enumerate(data.get("rules") or []):
        rid = str(raw.get("id") or f"rule #{i + 1}")
        kind, speaker, scope = raw.get("kind"), raw.get("speaker", "agent"), raw.get("applies_to", "all")
        if kind not in KINDS:
            raise UserError(f"{path}: rule {rid} has kind {kind!r}; use one of {', '.join(KINDS)}")
        if speaker not in SPEAKERS:
            raise UserError(f"{path}: rule {rid} has speaker {speaker!r}; use one of {', '.join(SPEAKERS)}")
        if scope not in SCOPES:
            raise UserError(f"{path}: rule {rid} has applies_to {scope!r}; use one of {', '.join(SCOPES)}")
        first = raw.get("first_turns")
        if first is not None and (not isinstance(first, int) or first < 1):
            raise UserError(f"{path}: rule {rid} has first_turns {first!r}; use a whole number >= 1 or leave it out")
        rules.append(Rule(rid, kind, str(raw.get("title", rid)), str(raw.get("source", "")), speaker, first, scope,
                          _compile(raw.get("patterns"), f"rule {rid}", path)))
    vuln = data.get("vulnerability") or {}
    cues = []
    for driver, groups in (vuln.get("drivers") or {}).items():
        if driver not in DRIVERS:
            raise UserError(f"{path}: vulnerability driver {driver!r} is not one of the FCA's four ({', '.join(DRIVERS)})")
        for cue, patterns in (groups or {}).items():
            cues.append(Cue(driver, str(cue), _compile(patterns, f"vulnerability cue {cue}", path)))
    cue_speaker = vuln.get("speaker", "customer")
    if cue_speaker not in SPEAKERS:
        raise UserError(f"{path}: vulnerability speaker {cue_speaker!r}; use one of {', '.join(SPEAKERS)}")
    return QaConfig(tuple(rules), tuple(cues), cue_speaker)


def _matches(pattern: re.Pattern, text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text or "") if m.group(0)]


def rule_in_scope(rule: Rule, speaker: str, speaker_turn: int, first_conversation: bool) -> bool:
    """Whether a turn is one the rule looks at (speaker_turn counts that speaker's turns from 1)."""
    if speaker != rule.speaker:
        return False
    if rule.first_turns is not None and speaker_turn > rule.first_turns:
        return False
    return True


def rule_applies(rule: Rule, first_conversation: bool) -> bool:
    return rule.applies_to == "all" or first_conversation


def check_conversation(turns, config: QaConfig, first_conversation: bool):
    """Apply every rule and cue to one conversation.

    `turns`: iterable of (turn, speaker, text) in any order. Returns (results, hits, cues):
    results {rule_id: passed or None when the rule does not apply}; hits [(rule_id, turn, start,
    end, matched_text)]; cues [(driver, cue, turn, start, end, matched_text)].
    """
    ordered = sorted(turns, key=lambda t: t[0])
    counts: dict[str, int] = {}
    numbered = []
    for turn, speaker, text in ordered:
        counts[speaker] = counts.get(speaker, 0) + 1
        numbered.append((turn, speaker, counts[speaker], text or ""))
    results, hits, cues = {}, [], []
    for rule in config.rules:
        if not rule_applies(rule, first_conversation):
            results[rule.id] = None
            continue
        found = []
        for turn, speaker, nth, text in numbered:
            if rule_in_scope(rule, speaker, nth, first_conversation):
                found += [(rule.id, turn, s, e, m) for s, e, m in _matches(rule.pattern, text)]
        hits += found
        results[rule.id] = bool(found) if rule.kind == "required" else not found
    for turn, speaker, _, text in numbered:
        if speaker == config.cue_speaker:
            for cue in config.cues:
                cues += [(cue.driver, cue.cue, turn, s, e, m) for s, e, m in _matches(cue.pattern, text)]
    return results, hits, cues


# qa_rules is a derived table (analysis.schema.DERIVED); qa_text_matches is the step's scratch table.
DDL = [
    derived_ddl("qa_rules", replace=True),
    """create or replace table qa_text_matches (
        source varchar, name varchar, speaker varchar, text_hash varchar,
        start_char bigint, end_char bigint, matched_text varchar)""",
]


def text_matches(config: QaConfig, speaker: str, text: str) -> list[tuple[str, str, int, int, str]]:
    """Every rule and cue pattern match in one text said by `speaker`: (source rule|cue, name, start, end, matched).

    Position and scope (first turns, first conversation) are applied later, per turn, in SQL; here
    only the speaker decides which patterns look at the text. Cue names are 'driver/cue'.
    """
    out = []
    for rule in config.rules:
        if rule.speaker == speaker:
            out += [("rule", rule.id, s, e, m) for s, e, m in _matches(rule.pattern, text)]
    if speaker == config.cue_speaker:
        for cue in config.cues:
            out += [("cue", f"{cue.driver}/{cue.cue}", s, e, m) for s, e, m in _matches(cue.pattern, text)]
    return out


def refresh(con, path: str | Path | None = None) -> dict:
    """Check every conversation; replace qa_rules, qa_hits, qa_results and vulnerability_flags.

    Transcripts repeat their phrasing, so patterns run once per distinct (speaker, text) in Python;
    DuckDB then applies each match to the turns that carry that text, with the rule's scope.
    """
    from analysis.db import create_table, query_rows, rows

    config = load_rules(path)
    found = []
    for speaker, text_hash, text in query_rows(con, "conversation_distinct_texts"):
        found += [(src, name, speaker, text_hash, s, e, m) for src, name, s, e, m in text_matches(config, speaker, text or "")]
    for ddl in DDL:
        con.execute(ddl)
    _insert(con, "qa_rules", [(r.id, r.kind, r.title, r.source, r.speaker, r.first_turns, r.applies_to) for r in config.rules])
    _insert(con, "qa_text_matches", found)
    for table, stem in (("qa_hits", "conversation_qa_hits_build"), ("qa_results", "conversation_qa_results_build"),
                        ("vulnerability_flags", "conversation_vulnerability_build")):
        create_table(con, table, stem)
    con.execute("drop table qa_text_matches")
    counts = {t: rows(con, f"select count(*) from {quote_ident(t)}")[0][0] for t in ("qa_results", "qa_hits", "vulnerability_flags")}
    return counts


def _insert(con, table: str, data: list[tuple]) -> None:
    """Append rows (tuples in the table's column order) to `table`."""
    if not data:
        return
    import pandas as pd

    cur = con.cursor()
    try:
        cur.from_df(pd.DataFrame(data)).insert_into(table)
    finally:
        cur.close()
