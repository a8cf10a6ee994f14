"""Sentiment models behind one interface, chosen by configuration (`config/sentiment.toml`) or name.

Every model has `model_id` (names the model *and its version*, so cached scores of another version
are never reused), `score(texts) -> (scores, labels)` with scores in -1..1 and labels in LABELS, and
`explain(text) -> [(part, weight), ...]` (the parts of the text that carried the score, weight
signed: words; for a text the transformer reads in sentence windows, longer than its max_length
tokens, the windows' texts, each a substring of the text). Empty or blank texts score 0, neutral,
without reaching the model.

Nothing is loaded at import time: `load_model` imports vaderSentiment or torch only when asked.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from analysis.errors import UserError

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIG = ROOT / "config" / "sentiment.toml"
LABELS = ("negative", "neutral", "positive")
MODELS = ("vader", "transformer")
DEFAULT_MODEL = "transformer"  # the pipeline's model when config/sentiment.toml names none (issue 23)


def read_config(path: str | Path | None = None) -> dict:
    """The sentiment configuration (model choice, head path, batching); defaults when the file is absent."""
    path = Path(path) if path else CONFIG
    if not path.exists():
        if path == CONFIG:
            return {}
        raise UserError(f"sentiment config {path} not found: give an existing .toml file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"sentiment config {path} is not valid TOML ({str(exc).splitlines()[0]}): fix the file") from None


def load_model(name: str | None = None, config: dict | None = None):
    """A model by name (`vader` or `transformer`); without a name, the pipeline's configured one."""
    config = read_config() if config is None else config
    name = name or config.get("pipeline", {}).get("model", DEFAULT_MODEL)
    if name == "vader":
        from analysis.sentiment.vader import VaderModel

        return VaderModel()
    if name == "transformer":
        from analysis.sentiment.transformer import load_transformer

        return load_transformer(config.get("transformer", {}))
    raise UserError(f"unknown sentiment model {name!r}: use one of {', '.join(MODELS)}")


def is_blank(text) -> bool:
    return text is None or text != text or not str(text).strip()
