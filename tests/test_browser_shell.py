"""The shell in a real Chromium against `streamlit run`: sign-in, each role's navigation, URL filters.

AppTest cannot show what the browser does with the query string on reruns, page switches and
reloads; these tests can.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from analysis import access
from dashboard.ui import TITLES
from tests.browser import nav_labels, sign_in, submit_sign_in, wait_for_app

pytestmark = pytest.mark.browser


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the sidebar multiselect labelled `label` and wait for the rerun."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=label)
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    wait_for_app(page)


@pytest.mark.parametrize("role", access.ROLES)
def test_each_demo_user_signs_in_and_sees_exactly_the_pages_of_its_role(app_server, page, role):
    sign_in(page, app_server, role)
    assert nav_labels(page) == [TITLES[key][0] for key in access.pages_for(role)]
    assert f"({role})" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Data as of" in page.locator('[data-testid="stMain"]').inner_text()


def test_a_wrong_password_keeps_the_visitor_on_the_sign_in_form(app_server, page):
    page.goto(app_server)
    submit_sign_in(page, "admin", "wrong", expect_success=False)
    page.get_by_text("Wrong username or password.").wait_for()
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


@pytest.mark.parametrize("role", ["executive", "compliance"])
def test_every_page_of_a_role_opens_at_its_own_url_without_a_not_found_dialog(app_server, page, role):
    # Streamlit serves its default page only at /; the landing page must still open at /<key>.
    sign_in(page, app_server, role)
    assert urlparse(page.url).path == "/" + access.pages_for(role)[0], "/ forwards to the landing page"
    for key in access.pages_for(role)[:2]:
        page.goto(f"{app_server}/{key}")
        wait_for_app(page)
        assert urlparse(page.url).path == "/" + key
        assert page.get_by_text("Page not found").count() == 0, key


def test_a_typed_url_of_a_page_outside_the_role_shows_the_landing_page_instead(app_server, page):
    sign_in(page, app_server, "executive", path="compliance")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Compliance" not in nav_labels(page)
    landing_title = page.locator('[data-testid="stMain"] h1').first.inner_text()
    assert landing_title and landing_title != "Compliance", main[:300]
    assert urlparse(page.url).path == "/" + access.pages_for("executive")[0]


def test_a_filter_change_lands_in_the_url_and_a_reload_restores_it(app_server, page):
    sign_in(page, app_server, "manager", path="complaints")
    pick(page, "Channel", "sms")
    pick(page, "Strategy", "challenger")
    assert query(page).get("channel") == ["sms"]
    assert query(page).get("strategy") == ["challenger"]
    assert urlparse(page.url).path == "/complaints"

    # A page switch clears Streamlit's query string; the shell writes the filters back.
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Customer experience").click()
    wait_for_app(page)
    assert urlparse(page.url).path == "/experience"
    assert query(page).get("channel") == ["sms"] and query(page).get("strategy") == ["challenger"]

    # A reload starts a new Streamlit session; the remembered sign-in and the URL bring back the
    # same user, page and filters without the form.
    url_before = page.url
    page.reload()
    wait_for_app(page)
    assert page.get_by_label("Username").count() == 0
    assert page.url == url_before
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Channel").inner_text().count("sms") == 1
    assert "challenger" in sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Strategy").inner_text()


def test_a_shared_link_opens_the_page_with_its_filters_for_another_user(app_server, page, browser):
    sign_in(page, app_server, "manager", path="experience")
    pick(page, "Channel", "email")
    link = page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        p2 = other.new_page()
        p2.set_default_timeout(60_000)
        p2.goto(link)
        submit_sign_in(p2, "admin")
        assert p2.url == link
        assert "email" in p2.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Channel").inner_text()
    finally:
        other.close()


def test_signing_out_returns_to_the_form_forgets_the_filters_and_a_reload_does_not_sign_in_again(app_server, page):
    sign_in(page, app_server, "admin", path="data?channel=sms")
    assert any(c["name"] == "collections_session" for c in page.context.cookies())
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").wait_for()
    wait_for_app(page)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert "channel" not in query(page)
    page.wait_for_function("() => !document.cookie.includes('collections_session=')")
    page.reload()
    page.get_by_label("Username").wait_for()
    wait_for_app(page)
    assert page.get_by_role("button", name="Sign out").count() == 0


def test_a_stolen_cookie_stops_working_once_its_user_signs_out(app_server, page, browser):
    # The remembered sign-in is revoked on the server at sign-out, not only deleted in the browser.
    sign_in(page, app_server, "compliance")
    cookie = next(c for c in page.context.cookies() if c["name"] == "collections_session")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").wait_for()
    thief = browser.new_context()
    try:
        thief.add_cookies([cookie])
        p2 = thief.new_page()
        p2.goto(app_server)
        p2.get_by_label("Username").wait_for(timeout=60_000)
        wait_for_app(p2)
        assert p2.get_by_role("button", name="Sign out").count() == 0
    finally:
        thief.close()


def test_a_forged_cookie_does_not_sign_in(app_server, browser):
    import base64

    forged = base64.urlsafe_b64encode(b"admin|admin|9999999999").decode().rstrip("=") + "." + "0" * 64
    context = browser.new_context()
    try:
        context.add_cookies([{"name": "collections_session", "value": forged, "url": app_server}])
        p = context.new_page()
        p.goto(app_server)
        p.get_by_label("Username").wait_for(timeout=60_000)
        wait_for_app(p)
        assert p.get_by_role("button", name="Sign out").count() == 0
    finally:
        context.close()
