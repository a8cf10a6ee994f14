"""`python -m analysis users`: the credentials file the dashboard signs users in from."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from analysis import access
from tests.conftest import ROOT


def users_cli(*args, stdin: str = ""):
    """The command; its access log beside the credentials file the test names (`--file PATH` first)."""
    log = Path(args[1]).parent / "access.sqlite"
    return subprocess.run([sys.executable, "-m", "analysis", "users", "--log", str(log), *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_the_shipped_credentials_have_the_four_demo_users_with_password_demo():
    users = access.load_credentials(ROOT / "config" / "credentials.yaml")
    assert {name: u["role"] for name, u in users.items()} == {r: r for r in access.ROLES}
    for name in access.ROLES:
        assert access.authenticate(users, name, "demo")["role"] == name
        assert access.authenticate(users, name, "Demo") is None


def test_add_stores_only_a_bcrypt_hash_and_the_user_can_then_sign_in(tmp_path):
    creds = tmp_path / "creds.yaml"
    done = users_cli("--file", str(creds), "add", "alice", "--role", "manager", "--name", "Alice Smith",
                     "--email", "alice@firm.example", "--password-stdin", stdin="s3cret pass phrase\n")
    assert done.returncode == 0, done.stderr
    text = creds.read_text()
    assert "s3cret" not in text and "$2b$" in text
    users = access.load_credentials(creds)
    assert access.authenticate(users, "alice", "s3cret pass phrase") == {"username": "alice", "name": "Alice Smith", "role": "manager"}
    assert access.authenticate(users, "alice", "wrong") is None
    assert access.user_for_email(users, "ALICE@firm.example")["role"] == "manager"


def test_list_shows_users_and_roles_but_never_hashes(tmp_path):
    creds = tmp_path / "creds.yaml"
    users_cli("--file", str(creds), "add", "bob", "--role", "executive", "--password-stdin", stdin="pw-for-bob-long\n")
    done = users_cli("--file", str(creds), "list")
    assert done.returncode == 0
    assert done.stdout.split("\t")[:2] == ["bob", "executive"]
    assert "$2" not in done.stdout


def test_add_again_replaces_the_role_and_password_and_remove_deletes_the_user(tmp_path):
    creds = tmp_path / "creds.yaml"
    users_cli("--file", str(creds), "add", "bob", "--role", "executive", "--password-stdin", stdin="first-pw-long-enough\n")
    users_cli("--file", str(creds), "add", "carol", "--role", "admin", "--password-stdin", stdin="carol-pw-long-enough\n")
    done = users_cli("--file", str(creds), "add", "bob", "--role", "compliance", "--password-stdin", stdin="second-pw-long-enough\n")
    assert done.returncode == 0 and "replaced" in done.stdout
    users = access.load_credentials(creds)
    assert access.authenticate(users, "bob", "first-pw-long-enough") is None
    assert access.authenticate(users, "bob", "second-pw-long-enough")["role"] == "compliance"
    assert users_cli("--file", str(creds), "remove", "bob").returncode == 0
    assert set(access.load_credentials(creds)) == {"carol"}


def test_mistakes_are_one_line_errors_and_leave_the_file_unchanged(tmp_path):
    creds = tmp_path / "creds.yaml"
    users_cli("--file", str(creds), "add", "carol", "--role", "admin", "--password-stdin", stdin="carol-pw-long-enough\n")
    before = creds.read_bytes()
    for args, stdin, words in [
        (("add", "dave", "--role", "owner", "--password-stdin"), "pw-for-dave-long\n", "unknown role 'owner'"),
        (("add", "dave", "--role", "admin", "--password-stdin"), "pw\n", "too short"),
        (("add", "two words", "--role", "admin", "--password-stdin"), "long-enough-password\n", "has spaces"),
        (("remove", "nobody"), "", "no user 'nobody'"),
        (("add", "dave", "--role", "admin"), "", "--password-stdin"),  # no terminal to prompt on
    ]:
        done = users_cli("--file", str(creds), *args, stdin=stdin)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert creds.read_bytes() == before


def test_a_credentials_file_that_is_not_a_mapping_of_users_is_a_user_error(tmp_path):
    creds = tmp_path / "creds.yaml"
    creds.write_text("- just\n- a list\n")
    done = users_cli("--file", str(creds), "list")
    assert done.returncode == 2 and "top-level `users:`" in done.stderr
    creds.write_text("users: {x: {role: admin, password_hash: plain}}\n")
    import pytest

    from analysis.errors import UserError

    with pytest.raises(UserError, match="no bcrypt password_hash"):
        access.load_credentials(creds)
    assert yaml.safe_load(creds.read_text())  # untouched


def test_new_passwords_need_twelve_characters(tmp_path):
    creds = tmp_path / "creds.yaml"
    short = users_cli("--file", str(creds), "add", "erin", "--role", "manager", "--password-stdin", stdin="eleven-char\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr and not creds.exists()
    assert users_cli("--file", str(creds), "add", "erin", "--role", "manager", "--password-stdin",
                     stdin="twelve-chars\n").returncode == 0


def test_every_user_change_and_unlock_is_in_the_access_log_and_the_chain_holds(tmp_path):
    from analysis import accesslog

    creds, log = tmp_path / "creds.yaml", tmp_path / "access.sqlite"
    users_cli("--file", str(creds), "add", "frank", "--role", "executive", "--password-stdin", stdin="frank-pw-long-enough\n")
    users_cli("--file", str(creds), "add", "frank", "--role", "admin", "--password-stdin", stdin="frank-pw-long-enough\n")
    users_cli("--file", str(creds), "remove", "frank")
    assert users_cli("--file", str(creds), "unlock", "frank").returncode == 0
    assert users_cli("--file", str(creds), "unlock", "--client", "203.0.113.7").returncode == 0
    neither = users_cli("--file", str(creds), "unlock")
    assert neither.returncode == 2 and "--client" in neither.stderr
    entries = accesslog.entries(log).iloc[::-1]
    assert list(entries["event"]) == ["user_added", "user_replaced", "user_removed", "unlock", "unlock"]
    assert list(entries["username"]) == ["frank"] * 4 + [""]
    assert entries["client"].iloc[-1] == "203.0.113.7" and entries["client"].iloc[0].startswith("cli:")
    assert '"old_role": "executive"' in entries["detail"].iloc[1] and '"role": "admin"' in entries["detail"].iloc[1]
    assert accesslog.verify(log)[2] == []
