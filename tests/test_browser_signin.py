"""Remembered sign-in in a real Chromium: a reload the moment the signed-in page shows keeps the user.

The cookie used to be written at the end of the first signed-in run, so under load the page showed
"Sign out" seconds before the browser held the cookie, and a reload then signed the user out. Here
the page itself reloads as soon as the "Sign out" button appears (no driver round trip in between),
for one browser and for 20 that press "Sign in" at the same instant.
"""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlparse

import pytest

from analysis import access
from tests.browser import wait_for_app

pytestmark = pytest.mark.browser

# Clicks "Sign in" at the epoch millisecond `at`; the moment the "Sign out" button exists, notes
# whether the cookie is already there and reloads the tab. sessionStorage survives the reload.
ARM = """([at]) => {
  window.__armed = true;
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Sign in');
  setTimeout(() => button.click(), Math.max(0, at - Date.now()));
  const signedIn = () => [...document.querySelectorAll('[data-testid="stSidebar"] button')]
    .some(b => b.innerText.trim() === 'Sign out');
  const watch = new MutationObserver(() => {
    if (!signedIn()) return;
    watch.disconnect();
    sessionStorage.setItem('signedInUi', JSON.stringify({cookie: document.cookie.includes('collections_session=')}));
    location.reload();
  });
  watch.observe(document.body, {childList: true, subtree: true});
}"""

# Read in the reloaded document only (the armed one is gone by then).
SIGNED_IN_UI = "() => window.__armed ? null : sessionStorage.getItem('signedInUi')"


def fill_form(page, base_url: str, path: str, username: str) -> None:
    page.goto(f"{base_url}/{path}")
    page.get_by_label("Username").wait_for()
    wait_for_app(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill("demo")
    page.get_by_label("Password", exact=True).blur()  # the form takes a text input's value when it loses focus


def wait_for_reloaded(page, timeout_s: float) -> dict:
    """What the tab saw when the signed-in page appeared, once its own reload has happened and settled."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            seen = page.evaluate(SIGNED_IN_UI)
        except Exception:  # the evaluation raced the reload: ask the new document
            seen = None
        if seen:
            wait_for_app(page, timeout=timeout_s * 1000)
            return json.loads(seen)
        page.wait_for_timeout(200)
    raise AssertionError(f"{page.url}: the signed-in page never appeared within {timeout_s:.0f} s")


def sign_in_at_once_and_reload(browser, base_url: str, plans: list[tuple[str, str]]) -> list:
    """One browser context per (username, path); all press "Sign in" at the same instant and reload
    as soon as they are signed in. Returns (page, expected path, expected query, seen) per context."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in plans]
    try:
        pages = []
        for context, (username, path) in zip(contexts, plans):
            page = context.new_page()
            page.set_default_timeout(240_000)
            fill_form(page, base_url, path, username)
            pages.append(page)
        at = int(time.time() * 1000) + 1_000
        for page in pages:
            page.evaluate(ARM, [at])
        results = []
        for page, (username, path) in zip(pages, plans):
            seen = wait_for_reloaded(page, timeout_s=300)
            results.append((page, username, path, seen, page.url, page.get_by_label("Username").count(),
                            page.get_by_role("button", name="Sign out").count()))
        return results
    finally:
        for context in contexts:
            context.close()


def check(results) -> None:
    for _page, username, path, seen, url, forms, sign_outs in results:
        role = username
        assert seen["cookie"], f"{username}: the cookie was not in the browser when the signed-in page appeared"
        assert forms == 0 and sign_outs == 1, f"{username} at {url}: the reload signed the user out"
        want = urlparse("/" + path)
        expected_path = want.path if want.path.strip("/") else "/" + access.pages_for(role)[0]
        assert urlparse(url).path == expected_path, (username, url)
        query = parse_qs(urlparse(url).query)  # a page may add its own view's parameters
        assert all(query.get(k) == v for k, v in parse_qs(want.query).items()), (username, url)


def test_a_reload_the_moment_the_signed_in_page_shows_keeps_the_user_signed_in(app_server, browser):
    results = sign_in_at_once_and_reload(browser, app_server, [("admin", "")])
    check(results)
    assert urlparse(results[0][4]).path == "/" + access.pages_for("admin")[0], "/ forwards to the landing page"


def test_twenty_sign_ins_at_once_each_survive_a_reload_right_after_and_keep_their_page(app_server, browser):
    # Every role; half open the site at /, half a deep link with a shared filter, which must keep
    # its page and query string through sign-in and the reload.
    plans = []
    for i in range(20):
        role = access.ROLES[i % len(access.ROLES)]
        plans.append((role, "" if i % 2 == 0 else f"{access.pages_for(role)[1]}?channel=sms"))
    check(sign_in_at_once_and_reload(browser, app_server, plans))


def test_a_signed_out_token_stays_dead_after_a_restart_while_a_kept_one_still_works(browser, demo_db, tmp_path):
    # Sign-out used to revoke a token in the server's memory only: replayed after a restart, it signed in.
    from tests.browser import sign_in
    from tests.conftest import start_server, stop_server

    env = {"DASHBOARD_SESSION_KEY": "a fixed key, so tokens outlive the restart"}
    proc, url = start_server(demo_db, tmp_path / "before.log", extra_env=env)
    kept, left = browser.new_context(), browser.new_context()
    try:
        pages = {}
        for context, username in ((kept, "manager"), (left, "executive")):
            pages[username] = context.new_page()
            sign_in(pages[username], url, username)
            pages[username].get_by_role("button", name="Sign out").wait_for(timeout=60_000)
        stolen = [c for c in left.cookies() if c["name"] == "collections_session"]
        assert stolen, "the remembered sign-in's cookie"
        pages["executive"].get_by_role("button", name="Sign out").click()
        pages["executive"].get_by_label("Username").wait_for(timeout=60_000)
    finally:
        stop_server(proc)
    proc, url = start_server(demo_db, tmp_path / "after.log", extra_env=env)
    try:
        left.add_cookies(stolen)  # replayed, as by someone who copied it before the sign-out
        replay = left.new_page()
        replay.goto(url)
        replay.get_by_label("Username").wait_for(timeout=60_000)
        assert replay.get_by_role("button", name="Sign out").count() == 0
        again = kept.new_page()
        again.goto(url)
        again.get_by_role("button", name="Sign out").wait_for(timeout=60_000)  # never signed out: still in
    finally:
        kept.close()
        left.close()
        stop_server(proc)


def test_behind_a_trusted_proxy_the_log_and_the_limits_use_the_clients_address(browser, demo_db, tmp_path):
    # A reverse proxy sets X-Real-IP; only with DASHBOARD_TRUST_PROXY=1 is it believed (a client could send it).
    from analysis import accesslog
    from tests.browser import HeaderProxy, sign_in, submit_sign_in
    from tests.conftest import start_server, stop_server

    log = tmp_path / "access.sqlite"
    proc, server_url = start_server(demo_db, tmp_path / "proxy.log",
                                    extra_env={"DASHBOARD_TRUST_PROXY": "1", "DASHBOARD_ACCESS_LOG": str(log)})
    context = browser.new_context()
    try:
        with HeaderProxy(server_url, {"X-Real-IP": "203.0.113.9"}) as url:  # the proxy sets it, as nginx would
            page = context.new_page()
            page.goto(url)
            submit_sign_in(page, "manager", "not-demo", expect_success=False)
            page.get_by_text("Wrong username or password.").wait_for()
            sign_in(page, url, "manager")
    finally:
        context.close()
        stop_server(proc)
    entries = accesslog.entries(log).iloc[::-1]
    assert list(entries["event"][:2]) == ["sign_in_failed", "sign_in"]
    assert set(entries["client"]) == {"203.0.113.9"}
