"""Helpers for the Playwright tests (fixtures `app_server`, `browser`, `page` are in conftest.py).

    from tests.browser import sign_in, wait_for_app, nav_labels, goto

Waiting: Streamlit renders in several passes over a websocket. `wait_for_app` waits until the script
has finished (the app root says `data-test-script-state="notRunning"`, the status widget is gone) and
the main block shows something; assert only after that.
"""
from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import TimeoutError as PlaywrightTimeout

RUN_DONE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const state = app.getAttribute('data-test-script-state');
  if (state === 'running' || state === 'rerunRequested' || state === 'initial') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  return document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]').length > 0;
}"""


# Counts changes of the app's script state in this document (a MutationObserver sees every one,
# however short the run). Returns true when the watch was just installed (a new document).
WATCH = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return true;
  if (window.__stWatch && window.__stWatch.app === app) return false;
  const w = {app: app, changes: 0, baseline: 0};
  new MutationObserver(records => { w.changes += records.length; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  window.__stWatch = w;
  return true;
}"""


def wait_for_app(page, timeout: float = 60_000, settle_ms: int = 300, rerun_grace_ms: int = 2_000) -> None:
    """Wait until the script run is over and the main block has rendered.

    Called again in the same document (after a click, say), it first gives the rerun that the click
    triggers up to `rerun_grace_ms` to start: on a busy machine the rerun can begin well after the
    click returns, and asserting before it would read the previous run's page.
    """
    fresh = page.evaluate(WATCH)
    if not fresh:
        try:
            page.wait_for_function("() => window.__stWatch.changes > window.__stWatch.baseline", timeout=rerun_grace_ms)
        except PlaywrightTimeout:
            pass  # nothing reran: the action did not change a widget
    page.wait_for_function(RUN_DONE, timeout=timeout)
    # A widget change or st.rerun can start a new run right after one ends; check again after a pause.
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(RUN_DONE, timeout=timeout)
    page.evaluate(WATCH)
    page.evaluate("() => { if (window.__stWatch) window.__stWatch.baseline = window.__stWatch.changes; }")


def goto(page, base_url: str, page_key: str = "", **params) -> None:
    """Open `base_url/page_key?params` (lists become repeated parameters) and wait for the app."""
    query = urlencode(params, doseq=True)
    page.goto(f"{base_url}/{page_key}" + (f"?{query}" if query else ""))
    wait_for_app(page)


def sign_in(page, base_url: str, username: str, password: str = "demo", path: str = "") -> None:
    """Open the app (at `path`, e.g. "data?team=North") and sign in through the form."""
    page.goto(f"{base_url}/{path}")
    submit_sign_in(page, username, password)


def submit_sign_in(page, username: str, password: str = "demo", expect_success: bool = True) -> None:
    """Fill and submit the sign-in form shown on the current page (e.g. after a reload)."""
    page.get_by_label("Username").wait_for()
    wait_for_app(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if expect_success:
        page.get_by_role("button", name="Sign out").wait_for()
    wait_for_app(page)


def nav_labels(page) -> list[str]:
    """The page titles in the sidebar navigation, in order."""
    links = page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')
    # A link's text is "<material icon ligature>\n\n<title>"; the title is the last line.
    return [t.strip().splitlines()[-1].strip() for t in links.all_inner_texts()]


class HeaderProxy:
    """A reverse proxy in front of a test server, on loopback, that adds `headers` to the head of every HTTP
    request it forwards, the WebSocket upgrade included, as nginx's `proxy_set_header` does. (The test set
    the header with Playwright's `extra_http_headers` until Debian's Chromium 150.0.7871.100, with which the
    dashboard no longer saw it, on stop 36's tree as on later ones.) After an upgrade the connection is piped
    as it is.

        with HeaderProxy(url, {"X-Real-IP": "203.0.113.9"}) as proxied_url: ...
    """

    def __init__(self, upstream_url: str, headers: dict[str, str]):
        import socket
        from urllib.parse import urlsplit

        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname, parts.port)
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def __enter__(self) -> str:
        import threading

        threading.Thread(target=self._accept, daemon=True).start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.listener.close()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._requests, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _requests(self, client, server) -> None:
        """Client to server: each request's head gets the headers; its body (Content-Length) passes as it is."""
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                first, _, rest = head.partition(b"\r\n")
                server.sendall(first + b"\r\n" + self.extra + rest + b"\r\n\r\n")
                lower = head.lower()
                if b"upgrade: websocket" in lower:
                    server.sendall(buffer)
                    self._pipe(client, server)
                    return
                length = 0
                for line in lower.split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(buffer) < length:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                server.sendall(buffer[:length])
                buffer = buffer[length:]
        except OSError:
            pass
        finally:
            for s in (client, server):
                try:
                    s.close()
                except OSError:
                    pass

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass
