"""The contact rules as configuration: load and validate a rules file (TOML).

A rule set is a name, a version and a list of rules. Each rule has an id, a *kind* (one of the
four generic kinds of SPEC section 2) and the parameters of that kind. The default file,
`config/rules.toml`, holds the seven rules of the SPEC; a firm adds its own (say, at most 3 SMS in
7 days) by adding a `[[rule]]` table, without touching code.

Everything here is a frozen dataclass of tuples, so a rule set is hashable (the dashboard caches
on it) and easy to copy with a change for a what-if::

    rules = load_rules()
    stricter = rules.with_rule("regf_7in7", cap=5)            # same as dataclasses.replace(...)
    find_breaches(con, stricter)

`RuleSet.sha256` is computed from the parsed content, not the file's bytes, so a modified copy
gets its own hash and the dashboard can say which rule set produced the numbers.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import UserError
from analysis.schema import CALL_OUTCOMES, CHANNELS, DIRECTIONS

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_RULES = ROOT / "config" / "rules.toml"

KINDS = ("windowed_cap", "cooldown_after_event", "quiet_hours", "opt_out")
ZONES = ("timezone", "phone_timezone")
OPT_OUT_SCOPES = ("channel", "all")
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])$")


@dataclass(frozen=True)
class AccountFilter:
    """Which accounts a rule applies to; an empty tuple / None means any.

    `state` is compared trimmed and upper-cased (as the importer stores it), so " ma " is MA.
    """

    vulnerable: bool | None = None
    state: tuple[str, ...] = ()
    portfolio: tuple[str, ...] = ()
    product: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    strategy: tuple[str, ...] = ()

    def params(self) -> dict:
        return {
            "vulnerable": self.vulnerable,
            "states": [s.strip().upper() for s in self.state],
            "portfolios": list(self.portfolio),
            "products": list(self.product),
            "teams": list(self.team),
            "strategies": list(self.strategy),
        }

    def describe(self) -> str:
        parts = []
        if self.vulnerable is not None:
            parts.append("vulnerable" if self.vulnerable else "not vulnerable")
        for name in ("state", "portfolio", "product", "team", "strategy"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name} {'/'.join(values)}")
        return ", ".join(parts) or "all accounts"


@dataclass(frozen=True)
class WindowedCap:
    """At most `cap` counted contacts per account in any `window_days` local days.

    A counted contact: channel in `channels`, direction in `directions`, outcome not in
    `outcomes_excluded` and, when `consent_exclusion`, not in a consent window (ts >= G and
    local date <= d(G) + consent_window_days - 1). Contact c breaches when the counted contacts
    with local date in [d(c) - window_days + 1, d(c)] that come at or before c in contact order
    (ts, contact_id) number more than `cap`.
    """

    channels: tuple[str, ...]
    window_days: int
    cap: int
    directions: tuple[str, ...] = ("outbound",)
    outcomes_excluded: tuple[str, ...] = ()
    consent_exclusion: bool = False
    consent_window_days: int = 7
    accounts: AccountFilter = AccountFilter()


@dataclass(frozen=True)
class EventDef:
    """The event a cooldown follows (default: a telephone conversation, either direction)."""

    channels: tuple[str, ...]
    outcomes: tuple[str, ...]
    directions: tuple[str, ...] = DIRECTIONS


@dataclass(frozen=True)
class CooldownAfterEvent:
    """A counted contact c breaches when an event v of the account has v.ts < c.ts and
    d(c) <= d(v) + window_days - 1 (the event's local date is day 1). Counted as in WindowedCap."""

    event: EventDef
    channels: tuple[str, ...]
    window_days: int
    directions: tuple[str, ...] = ("outbound",)
    outcomes_excluded: tuple[str, ...] = ()
    consent_exclusion: bool = False
    consent_window_days: int = 7
    accounts: AccountFilter = AccountFilter()


@dataclass(frozen=True)
class QuietHours:
    """A contact on `channels` in `directions` breaches when its wall time in any of `zones`
    (the account's `timezone`, and its `phone_timezone` when given) is before `start` or at or
    after `end`. With `reply_exemption_hours` > 0, an outbound contact o on channel X is exempt
    when an inbound contact i on X comes before o in contact order, o.ts - i.ts <= that many
    hours, and no other outbound contact on X comes between them."""

    channels: tuple[str, ...]
    start: str
    end: str
    zones: tuple[str, ...] = ("timezone",)
    directions: tuple[str, ...] = ("outbound",)
    reply_exemption_hours: int = 0
    accounts: AccountFilter = AccountFilter()


@dataclass(frozen=True)
class OptOut:
    """A contact on `channels` in `directions` with ts > opted_out_at of a preferences row of the
    account: scope `channel` uses rows whose channel is the contact's; scope `all` uses the
    `all` rows (written request to cease communication), whatever the contact's channel."""

    scope: str
    channels: tuple[str, ...] = CHANNELS
    directions: tuple[str, ...] = ("outbound",)
    accounts: AccountFilter = AccountFilter()


PARAMS_CLASS = {
    "windowed_cap": WindowedCap,
    "cooldown_after_event": CooldownAfterEvent,
    "quiet_hours": QuietHours,
    "opt_out": OptOut,
}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    kind: str
    params: WindowedCap | CooldownAfterEvent | QuietHours | OptOut
    title: str = ""
    citation: str = ""
    text: str = ""

    def with_params(self, **changes) -> "Rule":
        """A copy with some parameters changed, e.g. `rule.with_params(cap=5, window_days=10)`."""
        return dataclasses.replace(self, params=dataclasses.replace(self.params, **changes))

    def as_dict(self) -> dict:
        return {"rule_id": self.rule_id, "kind": self.kind, "title": self.title,
                "citation": self.citation, "text": self.text, "params": dataclasses.asdict(self.params)}


@dataclass(frozen=True)
class RuleSet:
    name: str
    rules: tuple[Rule, ...]
    version: str = ""
    source: str = ""  # the file it was read from, for messages; not part of the hash

    @property
    def sha256(self) -> str:
        """Hash of the parsed content (name, version, rules), stable across whitespace edits."""
        content = {"name": self.name, "version": self.version, "rules": [r.as_dict() for r in self.rules]}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    @property
    def label(self) -> str:
        """What the dashboard shows: `name version (short hash)`."""
        return f"{self.name}{' ' + self.version if self.version else ''} ({self.short_hash})"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.rules)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    def with_rule(self, rule_id: str, **param_changes) -> "RuleSet":
        """A copy where one rule's parameters are changed (a what-if)."""
        self.rule(rule_id)  # KeyError for an unknown id
        return dataclasses.replace(
            self, rules=tuple(r.with_params(**param_changes) if r.rule_id == rule_id else r for r in self.rules))

    def only(self, *rule_ids: str) -> "RuleSet":
        """A copy with only the named rules (in the file's order)."""
        for rid in rule_ids:
            self.rule(rid)
        return dataclasses.replace(self, rules=tuple(r for r in self.rules if r.rule_id in rule_ids))


# --- loading and validation -------------------------------------------------------------------

class _Invalid(Exception):
    pass


def _str_list(value, where: str, allowed: tuple[str, ...] | None = None, nonempty: bool = True) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{where} must be a list of strings, e.g. [\"call\"]")
    if nonempty and not value:
        raise _Invalid(f"{where} must not be empty")
    if allowed is not None:
        bad = [v for v in value if v not in allowed]
        if bad:
            raise _Invalid(f"{where} has unknown value {bad[0]!r}; allowed: {', '.join(allowed)}")
    return tuple(value)


def _int(value, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{where} must be a whole number, got {value!r}")
    if value < minimum:
        raise _Invalid(f"{where} must be at least {minimum}, got {value}")
    return value


def _bool(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{where} must be true or false, got {value!r}")
    return value


def _time(value, where: str) -> str:
    if not isinstance(value, str) or not _TIME.match(value):
        raise _Invalid(f"{where} must be a time \"HH:MM:SS\" (24-hour), got {value!r}")
    return value


def _account_filter(value, where: str) -> AccountFilter:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} must be a table, e.g. accounts = {{ vulnerable = true }}")
    known = {f.name for f in dataclasses.fields(AccountFilter)}
    kwargs = {}
    for key, v in value.items():
        if key not in known:
            raise _Invalid(f"{where} has unknown key {key!r}; allowed: {', '.join(sorted(known))}")
        if key == "vulnerable":
            kwargs[key] = _bool(v, f"{where}.vulnerable")
        else:
            items = _str_list(v, f"{where}.{key}")
            kwargs[key] = tuple(s.strip().upper() for s in items) if key == "state" else items
    return AccountFilter(**kwargs)


def _outcomes(value, where: str, channels: tuple[str, ...], nonempty: bool) -> tuple[str, ...]:
    # Call outcomes are an enumeration; other channels' outcomes are free text.
    allowed = CALL_OUTCOMES if set(channels) == {"call"} else None
    return _str_list(value, where, allowed, nonempty=nonempty)


def _parse_params(kind: str, raw: dict, where: str):
    cls = PARAMS_CLASS[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in raw if k not in fields]
    if unknown:
        raise _Invalid(f"{where} has unknown parameter {unknown[0]!r} for kind {kind}; allowed: {', '.join(fields)}")
    missing = [name for name, f in fields.items()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and name not in raw]
    if missing:
        raise _Invalid(f"{where} (kind {kind}) is missing parameter {missing[0]!r}")
    out = {}
    for key, v in raw.items():
        at = f"{where}.{key}"
        if key == "accounts":
            out[key] = _account_filter(v, at)
        elif key == "channels":
            out[key] = _str_list(v, at, CHANNELS)
        elif key == "directions":
            out[key] = _str_list(v, at, DIRECTIONS)
        elif key in ("window_days", "consent_window_days"):
            out[key] = _int(v, at, 1)
        elif key == "cap":
            out[key] = _int(v, at, 0)
        elif key == "reply_exemption_hours":
            out[key] = _int(v, at, 0)
        elif key == "consent_exclusion":
            out[key] = _bool(v, at)
        elif key in ("start", "end"):
            out[key] = _time(v, at)
        elif key == "zones":
            out[key] = _str_list(v, at, ZONES)
        elif key == "scope":
            if v not in OPT_OUT_SCOPES:
                raise _Invalid(f"{at} must be one of {', '.join(OPT_OUT_SCOPES)}, got {v!r}")
            out[key] = v
        elif key == "event":
            if not isinstance(v, dict):
                raise _Invalid(f"{at} must be a table, e.g. event = {{ channels = [\"call\"], outcomes = [\"conversation\"] }}")
            ev_fields = {f.name for f in dataclasses.fields(EventDef)}
            bad = [k for k in v if k not in ev_fields]
            if bad:
                raise _Invalid(f"{at} has unknown key {bad[0]!r}; allowed: {', '.join(sorted(ev_fields))}")
            for req in ("channels", "outcomes"):
                if req not in v:
                    raise _Invalid(f"{at} is missing {req!r}")
            ev_channels = _str_list(v["channels"], f"{at}.channels", CHANNELS)
            out[key] = EventDef(
                channels=ev_channels,
                outcomes=_outcomes(v["outcomes"], f"{at}.outcomes", ev_channels, nonempty=True),
                directions=_str_list(v.get("directions", list(DIRECTIONS)), f"{at}.directions", DIRECTIONS),
            )
    if "outcomes_excluded" in raw:
        channels = out.get("channels", ())
        out["outcomes_excluded"] = _outcomes(raw["outcomes_excluded"], f"{where}.outcomes_excluded", channels, nonempty=False)
    params = cls(**out)
    if isinstance(params, QuietHours) and not params.start < params.end:
        raise _Invalid(f"{where}: start {params.start} must be earlier than end {params.end}")
    return params


def parse_rules(data: dict, source: str = "") -> RuleSet:
    """Validate parsed TOML content; raises _Invalid with a message naming the place."""
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise _Invalid("the top-level `name = \"...\"` of the rule set is missing")
    version = data.get("version", "")
    if not isinstance(version, (str, int, float)):
        raise _Invalid("`version` must be a string")
    extra = [k for k in data if k not in ("name", "version", "description", "rule")]
    if extra:
        raise _Invalid(f"unknown top-level key {extra[0]!r}; rules go in [[rule]] tables")
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _Invalid("no rules: add at least one [[rule]] table")
    rules = []
    seen = set()
    for i, raw in enumerate(raw_rules, start=1):
        if not isinstance(raw, dict):
            raise _Invalid(f"rule {i} must be a [[rule]] table")
        raw = dict(raw)
        rule_id = raw.pop("id", None)
        if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
            raise _Invalid(f"rule {i}: `id` must be lowercase letters, digits and _ (e.g. \"sms_3in7\"), got {rule_id!r}")
        where = f"rule {rule_id}"
        if rule_id in seen:
            raise _Invalid(f"{where}: the id is used twice")
        seen.add(rule_id)
        kind = raw.pop("kind", None)
        if kind not in KINDS:
            raise _Invalid(f"{where}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        texts = {}
        for key in ("title", "citation", "text"):
            value = raw.pop(key, "")
            if not isinstance(value, str):
                raise _Invalid(f"{where}.{key} must be a string")
            texts[key] = value.strip()
        rules.append(Rule(rule_id=rule_id, kind=kind, params=_parse_params(kind, raw, where), **texts))
    return RuleSet(name=data["name"].strip(), version=str(version), rules=tuple(rules), source=source)


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rules file (default `config/rules.toml`).

    A missing, unreadable or malformed file is a UserError naming the file and the problem.
    """
    path = Path(path) if path is not None else DEFAULT_RULES
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"rules file {path} does not exist: give the path of a TOML rules file (see config/rules.toml)") from None
    except OSError as exc:
        raise UserError(f"rules file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"rules file {path} is not UTF-8 text: save it as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"rules file {path} is not valid TOML: {exc}") from None
    try:
        return parse_rules(data, source=str(path))
    except _Invalid as exc:
        raise UserError(f"rules file {path}: {exc}") from None
