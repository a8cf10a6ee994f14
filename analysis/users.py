"""`python -m analysis users`: add, list and remove dashboard users in the credentials file.

Passwords are stored only as bcrypt hashes. The file is DASHBOARD_CREDENTIALS, or
config/credentials.yaml, unless `--file` names another. Writes go to a temporary file that
replaces the old one, so an interrupted command never leaves a half-written file.

    python -m analysis users add alice --role manager --name "Alice Smith" [--email alice@firm.example]
    python -m analysis users list
    python -m analysis users remove alice
    python -m analysis users unlock alice          # or: users unlock --client 203.0.113.7

Every change (and every unlock) is written to the access log (analysis.accesslog) of the database
the dashboard serves: `--db`, else DASHBOARD_DB or the demo's; `--log` names the log itself.
"""
from __future__ import annotations

import getpass
import os
import sys
import tempfile
from pathlib import Path

import yaml

from analysis import access, accesslog
from analysis.errors import UserError

HEADER = """\
# Dashboard users: role and bcrypt password hash (never the password). The demo users' password is `demo`.
# Manage with `python -m analysis users add|list|remove`. Point DASHBOARD_CREDENTIALS at your own file in production.
# `email` (optional) maps a single-sign-on identity (st.login, see .streamlit/secrets.toml.example) to the user's role.
"""


def add_arguments(parser) -> None:
    parser.add_argument("--file", help="credentials YAML (default: $DASHBOARD_CREDENTIALS or config/credentials.yaml)")
    parser.add_argument("--db", help="the dashboard's database, whose access log records the change (default: $DASHBOARD_DB or the demo's)")
    parser.add_argument("--log", help="the access log itself (default: $DASHBOARD_ACCESS_LOG or <db>.access.sqlite)")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    add = sub.add_parser("add", help="add a user, or replace one's role and password")
    add.add_argument("username")
    add.add_argument("--role", required=True, help="one of " + ", ".join(access.ROLES))
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--email", help="email for single sign-on (st.login) mapping")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input instead of prompting")
    sub.add_parser("list", help="list users and roles (never hashes)")
    rm = sub.add_parser("remove", help="remove a user")
    rm.add_argument("username")
    unlock = sub.add_parser("unlock", help="lift the sign-in lockout of a name (or of a client address with --client)")
    unlock.add_argument("username", nargs="?", default="")
    unlock.add_argument("--client", default="", help="the browser address (as in the access log) to unlock instead")


def _path(args) -> Path:
    return Path(args.file) if args.file else access.default_credentials_path()


def _read_password(args) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UserError("no terminal to prompt for a password: pass --password-stdin and pipe the password in")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UserError("the two passwords differ: run the command again")
    if len(password) < access.MIN_PASSWORD:
        raise UserError(f"password too short: use at least {access.MIN_PASSWORD} characters (a passphrase of a few words will do)")
    return password


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER + yaml.safe_dump({"users": data["users"]}, sort_keys=False, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _log(args, event: str, username: str, client: str = "", **detail) -> None:
    log = Path(args.log) if args.log else accesslog.default_path(args.db)
    by = f"cli:{getpass.getuser()}"
    accesslog.record(log, event, None, username, client or by,
                     **({"by": by} if client else {}), **detail)


def run(args) -> int:
    path = _path(args)
    if args.action == "unlock":
        if bool(args.username.strip()) == bool(args.client.strip()):
            raise UserError("name the user to unlock, or give --client ADDRESS (one of the two)")
        _log(args, "unlock", args.username.strip(), args.client.strip())
        print(f"unlocked {args.username.strip() or 'client ' + args.client.strip()}: the failed sign-ins before now no longer count")
        return 0
    data = access.read_credentials_file(path)
    users = data["users"]
    if args.action == "list":
        if not users:
            print(f"no users in {path}")
        for name, user in users.items():
            email = f" <{user['email']}>" if user.get("email") else ""
            print(f"{name}\t{user.get('role')}\t{user.get('name') or name}{email}")
        return 0
    username = args.username.strip()
    if not username or any(c.isspace() for c in username):
        raise UserError(f"username {args.username!r} is empty or has spaces: choose one word")
    if args.action == "add":
        if args.role not in access.ROLES:
            raise UserError(f"unknown role {args.role!r}: use one of {', '.join(access.ROLES)}")
        record = {"name": args.name or users.get(username, {}).get("name") or username, "role": args.role}
        email = args.email or users.get(username, {}).get("email")
        if email:
            record["email"] = email
        record["password_hash"] = access.hash_password(_read_password(args))
        verb = "replaced" if username in users else "added"
        old_role = users.get(username, {}).get("role")
        users[username] = record
        _write(path, data)
        _log(args, f"user_{verb}", username, role=args.role, **({"old_role": old_role} if old_role else {}), file=str(path))
        print(f"{verb} {username} ({args.role}) in {path}")
        return 0
    if username not in users:
        raise UserError(f"no user {username!r} in {path}: see `python -m analysis users list`")
    old_role = users[username].get("role")
    del users[username]
    _write(path, data)
    _log(args, "user_removed", username, old_role=old_role, file=str(path))
    print(f"removed {username} from {path}")
    return 0
