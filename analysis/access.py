"""Roles, the pages each may see, and personal-data masking. Decided here, in one place.

The dashboard builds its page list from `pages_for(role)` (st.navigation registers only those pages,
so a page outside the list cannot be run, whatever URL is typed) and masks frames with `mask_frame`
on the server before anything is sent to the browser.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import bcrypt
import yaml

from analysis.errors import UserError

ROLES = ("executive", "manager", "compliance", "admin")

# page key -> roles that see it. The first page a role sees is its landing page.
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "scorecard": ("executive", "manager", "admin"),
    "balance": ("executive", "manager", "admin"),
    "repayments": ("executive", "manager", "admin"),
    "experience": ("executive", "manager", "compliance", "admin"),
    "complaints": ("executive", "manager", "compliance", "admin"),
    "benchmark": ("executive", "manager", "compliance", "admin"),
    "conversations": ("manager", "compliance", "admin"),
    "contact_plan": ("manager", "compliance", "admin"),
    "compliance": ("compliance", "admin"),
    "data": ("admin",),
}

# Roles entitled to personal data: account and consumer ids, phone numbers, transcript text.
PII_ROLES = ("compliance", "admin")
# Id columns, and any column named `*_account_id` / `*_consumer_id` (e.g. `first_account_id`): other
# roles see a keyed pseudonym, so that one account can be followed across pages but not looked up.
PII_ID_COLUMNS = ("account_id", "consumer_id")
# The allow-list: the columns other roles see as they are, because they say nothing about a person.
# Every other column of a masked frame is withheld from them: phone numbers, comments, transcript
# text, quarantined raw rows, and any column added later until it is declared here. To show a new
# column to managers and executives, add its name (exact, as the frame has it) to this set.
NON_PERSONAL_COLUMNS = frozenset({
    # people and places of the firm, not of the consumer
    "agent_id", "team", "strategy", "portfolio", "channel", "survey_channel", "source", "timezone", "phone_timezone",
    # the firm's own records about a contact, conversation, complaint, promise or breach
    "contact_id", "conversation_id", "response_id", "complaint_id", "promise_id", "import_id",
    "ts", "local_time", "local_ts", "started_at", "responded_at", "received_at", "due_date", "last_flagged_at",
    "direction", "outcome", "duration_s", "category", "issue", "sub_issue",
    # scores, counts, amounts and flags
    "customer_mean", "customer_trajectory", "agent_mean", "label", "sentiment_score", "sentiment_label",
    "nps", "csat", "band", "qa_failed", "conversations", "already_vulnerable", "vulnerable", "drivers", "cues",
    "promised_amount", "paid_in_window", "followed_by_complaint", "followed_by_breach",
    "breaches_30d", "breached_contacts_30d", "rules", "rules_breached",
    # rules, signals, reviews and the quarantine's bookkeeping (what the system wrote, not what a person said)
    "rule_id", "signal", "detail", "explanation", "evidence", "state", "review_state",
    "table_name", "file", "line", "reason",
    # the contact plan (analysis.plan): a manager works the list by these; the account stays a pseudonym
    "rank", "account_rank", "queue", "propensity", "balance", "expected_collection", "contact_from", "contact_until",
    "window_local", "window_utc", "local_window", "best_local_hour", "reach_rate", "local_date", "calls_left", "caps",
    "cooldown_ends", "reasons",
})
WITHHELD = "[withheld]"

_PREFIX = {"account_id": "acct~", "consumer_id": "cons~"}
_key: bytes | None = None
_session_key: bytes | None = None
SESSION_SECONDS = 8 * 3600  # a remembered sign-in lasts a working day


def pages_for(role: str) -> list[str]:
    """The page keys `role` may open, in navigation order (the first is the landing page)."""
    return [page for page, roles in PAGE_ROLES.items() if role in roles]


def can_open(role: str, page: str) -> bool:
    return role in PAGE_ROLES.get(page, ())


def can_see_pii(role: str) -> bool:
    return role in PII_ROLES


def _pseudonym_key() -> bytes:
    """The HMAC key for pseudonyms: DASHBOARD_PSEUDONYM_KEY, else random for this process.

    A plain hash of a short id (A000123) is reversed by hashing every candidate id, so the
    pseudonym is keyed. Without a configured key, pseudonyms are stable for the life of the
    server process only (enough to follow one account across pages); set the variable to keep
    them stable across restarts.
    """
    global _key
    if _key is None:
        configured = os.environ.get("DASHBOARD_PSEUDONYM_KEY")
        _key = configured.encode() if configured else secrets.token_bytes(32)
    return _key


def pseudonym(value, column: str = "account_id") -> str:
    """A stable stand-in for an id: the same account reads the same everywhere, but cannot be looked up."""
    if value is None or value != value:
        return ""
    digest = hmac.new(_pseudonym_key(), f"{column}:{value}".encode(), hashlib.sha256).hexdigest()[:10]
    return _PREFIX.get(column, "id~") + digest


def _id_kind(col) -> str | None:
    name = str(col).lower()
    for kind in PII_ID_COLUMNS:
        if name == kind or name.endswith("_" + kind):
            return kind
    return None


def is_shown(col) -> bool:
    """True when roles without personal-data rights see column `col` as it is (declared non-personal)."""
    return col in NON_PERSONAL_COLUMNS and not _id_kind(col)


def personal_columns(columns) -> list[str]:
    """The columns of a frame that `mask_frame` pseudonymises or withholds: all but the declared ones."""
    return [c for c in columns if not is_shown(c)]


def mask_frame(df, role: str):
    """A copy of `df` as `role` may see it: for roles not entitled to personal data, ids become keyed
    pseudonyms, declared non-personal columns (NON_PERSONAL_COLUMNS) stay, and every other column is
    "[withheld]" (an empty cell stays empty)."""
    if can_see_pii(role):
        return df
    out = df.copy()
    for col in out.columns:
        kind = _id_kind(col)
        if kind:
            out[col] = out[col].map(lambda v, k=kind: pseudonym(v, k)).astype(object)
        elif not is_shown(col):
            out[col] = out[col].astype(object).where(out[col].isna(), WITHHELD)
    return out


def mask_value(value, column: str, role: str):
    """One value as `role` may see it (e.g. an account id in a page's heading)."""
    if can_see_pii(role):
        return value
    kind = _id_kind(column)
    if kind:
        return pseudonym(value, kind)
    return value if is_shown(column) else WITHHELD


def mask_text(text: str, role: str) -> str:
    return text if can_see_pii(role) else WITHHELD


# --- credentials --------------------------------------------------------------------------------

# bcrypt of a random password: checked against when the user is unknown, so that a wrong username
# takes as long as a wrong password and usernames cannot be probed by timing.
_DUMMY_HASH = b"$2b$12$nIVR0viX4MT.YaFpp7ZTM.44xhXaccVglAbCeQ/hRl54R/mNXFcw2"


def default_credentials_path() -> Path:
    from analysis.db import ROOT

    return Path(os.environ.get("DASHBOARD_CREDENTIALS") or ROOT / "config" / "credentials.yaml")


def read_credentials_file(path: str | Path) -> dict:
    """The parsed YAML document (`{"users": {...}}`); a missing file is an empty one."""
    path = Path(path)
    if not path.exists():
        return {"users": {}}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserError(f"credentials file {path} is not valid YAML ({exc.__class__.__name__}): fix the file") from None
    except OSError as exc:
        raise UserError(f"credentials file {path} cannot be read ({exc.strerror}): check its permissions") from None
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(data.get("users") or {}, dict):
        raise UserError(f"credentials file {path} must have a top-level `users:` mapping: see config/credentials.yaml")
    data["users"] = data.get("users") or {}
    return data


_loaded: dict[str, tuple[tuple, dict]] = {}


def load_credentials(path: str | Path) -> dict[str, dict]:
    """username -> {name, role, password_hash, email?}, validated. Read again whenever the file
    changes (the dashboard asks on every run, so a removed or demoted user is seen at once)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise UserError(f"credentials file {path} not found: set DASHBOARD_CREDENTIALS or create it with `python -m analysis users add`") from None
    stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    kept = _loaded.get(str(path))
    if kept and kept[0] == stamp:
        return kept[1]
    users = _validated(path, read_credentials_file(path)["users"])
    _loaded[str(path)] = (stamp, users)
    return users


def _validated(path: Path, users: dict) -> dict[str, dict]:
    for name, user in users.items():
        if not isinstance(user, dict):
            raise UserError(f"credentials file {path}: user {name} must be a mapping with role and password_hash")
        if user.get("role") not in ROLES:
            raise UserError(f"credentials file {path}: user {name} has unknown role {user.get('role')!r}; use one of {', '.join(ROLES)}")
        if not str(user.get("password_hash", "")).startswith("$2"):
            raise UserError(f"credentials file {path}: user {name} has no bcrypt password_hash; set one with `python -m analysis users add`")
    return {str(k): v for k, v in users.items()}


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def authenticate(users: dict[str, dict], username: str, password: str) -> dict | None:
    """The user's record when the password matches its bcrypt hash, else None."""
    username = (username or "").strip()
    user = users.get(username)
    if not user or not password:
        bcrypt.checkpw(b"not the password", _DUMMY_HASH)
        return None
    if bcrypt.checkpw(password.encode(), str(user["password_hash"]).encode()):
        return {"username": username, "name": user.get("name") or username, "role": user["role"]}
    return None


# The SPEC's demo users. With the demo password they are refused on any database that is not the demo.
DEMO_USERNAMES = ("executive", "manager", "compliance", "admin")
DEMO_PASSWORD = "demo"
MIN_PASSWORD = 12  # for new users and new passwords (`users add`); the demo's `demo` predates it
_demo_hash: dict[str, bool] = {}


def demo_users(users: dict[str, dict]) -> list[str]:
    """The demo users that still have the demo password (one bcrypt check per hash, remembered)."""
    found = []
    for name in DEMO_USERNAMES:
        stored = str(users.get(name, {}).get("password_hash", ""))
        if stored not in _demo_hash:
            try:
                _demo_hash[stored] = bool(stored) and bcrypt.checkpw(DEMO_PASSWORD.encode(), stored.encode())
            except ValueError:  # not a bcrypt hash
                _demo_hash[stored] = False
        if _demo_hash[stored]:
            found.append(name)
    return found


IDLE_MINUTES = 30


def idle_seconds(environ=None) -> int:
    """How long a signed-in session may sit idle: DASHBOARD_IDLE_MINUTES (default 30) minutes."""
    text = (os.environ if environ is None else environ).get("DASHBOARD_IDLE_MINUTES", "").strip()
    if not text:
        return IDLE_MINUTES * 60
    if not text.isdigit() or int(text) < 1:
        raise UserError(f"DASHBOARD_IDLE_MINUTES={text!r} is not a whole number of minutes of at least 1: set it to e.g. 30, or unset it for the default ({IDLE_MINUTES})")
    return int(text) * 60


def user_for_identity(users: dict[str, dict], claims) -> tuple[dict | None, str]:
    """The user a single-sign-on identity maps to, or None and why: only a verified email maps."""
    email = str(claims.get("email") or "").strip()
    if not email:
        return None, "the identity provider sent no email: ask an administrator to check the single-sign-on setup"
    if claims.get("email_verified") is not True:
        return None, "the identity provider has not verified this email: verify it there, or sign in with a password"
    user = user_for_email(users, email)
    if user is None:
        return None, ("this email has no dashboard role: ask an administrator to add it with "
                      "`python -m analysis users add NAME --role ROLE --email EMAIL`")
    return {**user, "email": email}, ""


def user_for_email(users: dict[str, dict], email: str | None) -> dict | None:
    """The user whose `email` matches (case-insensitive) an identity-provider sign-in, else None."""
    if not email:
        return None
    wanted = email.strip().lower()
    for username, user in users.items():
        if str(user.get("email") or "").strip().lower() == wanted:
            return {"username": username, "name": user.get("name") or username, "role": user["role"]}
    return None


# --- remembered sign-in (a signed token in a browser cookie) -----------------------------------


def _session_secret() -> bytes:
    """DASHBOARD_SESSION_KEY, else random for this process (a restart then asks everyone to sign in)."""
    global _session_key
    if _session_key is None:
        configured = os.environ.get("DASHBOARD_SESSION_KEY")
        _session_key = configured.encode() if configured else secrets.token_bytes(32)
    return _session_key


def _token_sig(payload: bytes, password_hash: str) -> str:
    # The user's current password hash is signed along (not sent): changing the password ends
    # every remembered sign-in of that user.
    return hmac.new(_session_secret(), payload + b"|" + password_hash.encode(), hashlib.sha256).hexdigest()


def session_token(user: dict, expires_at: int, password_hash: str) -> str:
    """A signed, expiring token naming the user and role (no password, nothing secret inside)."""
    payload = f"{user['username']}|{user['role']}|{int(expires_at)}".encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _token_sig(payload, password_hash)


def user_from_session_token(users: dict[str, dict], token: str | None, now: float) -> dict | None:
    """The user a valid, unexpired token names, if the user still exists with the same role; else None."""
    if not token or token.count(".") != 1:
        return None
    encoded, sig = token.split(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    try:
        username, role, expires_at = payload.decode().rsplit("|", 2)
        expires = int(expires_at)
    except ValueError:
        return None
    user = users.get(username)
    if not user or not hmac.compare_digest(_token_sig(payload, str(user.get("password_hash", ""))), sig):
        return None
    if expires <= now or user.get("role") != role:
        return None
    return {"username": username, "name": user.get("name") or username, "role": role}
