"""Roles, the pages each may see, and personal-data masking. Decided here, in one place.

The dashboard builds its page list from `pages_for(role)` and masks frames with `mask_frame`
on the server before anything is sent to the browser.
"""
from __future__ import annotations

import hashlib
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
    "compliance": ("compliance", "admin"),
    "data": ("admin",),
}

# Roles entitled to personal data: account and consumer ids, phone numbers, transcript text.
PII_ROLES = ("compliance", "admin")
PII_ID_COLUMNS = ("account_id", "consumer_id")
PII_TEXT_COLUMNS = ("phone", "text", "comment", "description", "narrative", "transcript")


def pages_for(role: str) -> list[str]:
    return [page for page, roles in PAGE_ROLES.items() if role in roles]


def can_see_pii(role: str) -> bool:
    return role in PII_ROLES


def pseudonym(value) -> str:
    """A stable stand-in for an id: the same account reads the same everywhere, but cannot be looked up."""
    if value is None or value != value:
        return ""
    return "acct~" + hashlib.sha256(str(value).encode()).hexdigest()[:8]


def mask_frame(df, role: str):
    """A copy of `df` with personal columns pseudonymised or withheld for roles not entitled to them."""
    if can_see_pii(role):
        return df
    out = df.copy()
    for col in out.columns:
        if col in PII_ID_COLUMNS:
            out[col] = out[col].map(pseudonym)
        elif col in PII_TEXT_COLUMNS:
            out[col] = "[withheld]"
    return out


def mask_text(text: str, role: str) -> str:
    return text if can_see_pii(role) else "[withheld]"


def load_credentials(path: str | Path) -> dict[str, dict]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"credentials file {path} not found: set DASHBOARD_CREDENTIALS or create it with `python -m analysis users add`") from None
    except yaml.YAMLError as exc:
        raise UserError(f"credentials file {path} is not valid YAML ({exc.__class__.__name__}): fix the file") from None
    users = (data or {}).get("users") or {}
    for name, user in users.items():
        if user.get("role") not in ROLES:
            raise UserError(f"credentials file {path}: user {name} has unknown role {user.get('role')!r}; use one of {', '.join(ROLES)}")
        if not str(user.get("password_hash", "")).startswith("$2"):
            raise UserError(f"credentials file {path}: user {name} has no bcrypt password_hash; set one with `python -m analysis users add`")
    return users


def authenticate(users: dict[str, dict], username: str, password: str) -> dict | None:
    """The user's record when the password matches its bcrypt hash, else None."""
    user = users.get((username or "").strip())
    if not user or not password:
        return None
    if bcrypt.checkpw(password.encode(), user["password_hash"].encode()):
        return {"username": username.strip(), "name": user.get("name", username), "role": user["role"]}
    return None
