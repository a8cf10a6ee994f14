"""Single sign-on end to end: st.login against a local OpenID Connect provider, in Chromium.

The provider here is a few lines of http.server that sign an id_token with a throwaway RSA key;
Streamlit and Authlib do the real protocol work (discovery, redirect, code exchange, id_token
signature, nonce and audience checks), and the dashboard maps the email to a role.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from analysis import access
from tests.browser import nav_labels, wait_for_app
from tests.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.browser

CLIENT_ID = "dashboard-test"
EMAIL = "Carol.Compliance@firm.example"


class Provider:
    """A minimal OIDC provider: discovery, authorize (redirects straight back), token, JWKS."""

    def __init__(self):
        from authlib.jose import JsonWebKey

        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "test"})
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.nonces: dict[str, str] = {}  # code -> nonce of its authorize request
        self.authorize_requests: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def send_json(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self.send_json({
                        "issuer": provider.issuer,
                        "authorization_endpoint": provider.issuer + "/authorize",
                        "token_endpoint": provider.issuer + "/token",
                        "jwks_uri": provider.issuer + "/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    })
                elif url.path == "/jwks":
                    self.send_json({"keys": [provider.key.as_dict(is_private=False)]})
                elif url.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    provider.authorize_requests.append(q)
                    code = f"code{len(provider.authorize_requests)}"
                    provider.nonces[code] = q.get("nonce", "")
                    self.send_response(302)
                    self.send_header("Location", q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]}))
                    self.end_headers()
                else:
                    self.send_error(404)

            def do_POST(self):
                if urlparse(self.path).path != "/token":
                    self.send_error(404)
                    return
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                code = form["code"][0]
                from authlib.jose import jwt

                now = int(time.time())
                claims = {"iss": provider.issuer, "sub": "carol", "aud": CLIENT_ID, "iat": now, "exp": now + 600,
                          "nonce": provider.nonces[code], "email": EMAIL, "email_verified": True, "name": "Carol"}
                id_token = jwt.encode({"alg": "RS256", "kid": "test"}, claims, provider.key).decode()
                self.send_json({"access_token": "at-" + code, "token_type": "Bearer", "expires_in": 600, "id_token": id_token})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["carol.compliance@firm.example"])
def sso_server(demo_db, tmp_path, request):
    """The dashboard with [auth] configured against the local provider; the users file gives Carol `param` as email."""
    creds = tmp_path / "credentials.yaml"
    creds.write_text(
        f"users:\n  carol:\n    name: Carol\n    role: compliance\n    email: {request.param}\n"
        f"    password_hash: {access.hash_password('not used here')}\n"
    )
    with Provider() as provider:
        port = free_port()
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{"s" * 40}"\n'
            f'client_id = "{CLIENT_ID}"\n'
            'client_secret = "test-secret"\n'
            f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n'
        )
        proc, url = start_server(demo_db, tmp_path / "streamlit.log", port=port,
                                 extra_env={"DASHBOARD_CREDENTIALS": str(creds)},
                                 extra_args=["--secrets.files", str(secrets)])
        try:
            yield url, provider
        finally:
            stop_server(proc)


def test_single_sign_on_through_an_oidc_provider_signs_in_with_the_role_mapped_from_the_email(sso_server, page):
    url, provider = sso_server
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in with single sign-on").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
    wait_for_app(page)
    request = provider.authorize_requests[0]
    assert request["client_id"] == CLIENT_ID and request["response_type"] == "code"
    assert "openid" in request["scope"].split() and request.get("nonce")
    assert "(compliance)" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert nav_labels(page)[-1] == "Compliance"


@pytest.mark.parametrize("sso_server", ["someone.else@firm.example"], indirect=True)
def test_an_identity_with_no_user_of_that_email_gets_no_page(sso_server, page):
    url, provider = sso_server
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in with single sign-on").click()
    page.get_by_text("has no dashboard role").wait_for(timeout=60_000)
    wait_for_app(page)
    assert provider.authorize_requests, "the provider was asked"
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert "Data as of" not in page.locator('[data-testid="stMain"]').inner_text()
