"""Hostile input: whatever a link or a text box carries is shown as text, never rendered as Markdown.

A crafted link (`?month=[Session expired - sign in again](https://...)`) used to put a live link, or an
image from any server, into the dashboard's own error box. Every URL parameter the pages read and every
text box gets hostile strings here, on every page, for every role that may open it; each run must end
without an exception, and in every Markdown element (messages, captions, titles, labels, help) the
hostile text may appear only inside a code span. Each hostile string carries the canary `pwn` so it can
be traced through whatever the page does to it. Markdown is read with a CommonMark parser, as
Streamlit's renderer reads it.
"""
from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from markdown_it import MarkdownIt

from analysis import access
from dashboard.filters import FILTER_PARAMS
from tests.conftest import ROOT
from tests.test_app_shell import walk

CANARY = "pwn"
HOSTILE = [
    "[Session expired - sign in again](https://pwn.example)",
    "![pwn](https://pwn.example/x.png)",
    "<img src=x onerror=alert('pwn')><a href='https://pwn.example'>sign in</a>",
    ":red[**pwn**] :material/lock: :smile: :streamlit: $pwn^2$ $$x$$",
    "`pwn` ``` *pwn* # pwn\n> pwn\n\n- [ ] pwn | a | -> <- --",
    "https://pwn.example www.pwn.example pwn@pwn.example <https://pwn.example>",
    "\u202epwn\u200b\x00\t\r\n[pwn](javascript:alert(1))",
    CANARY * 40 + "[x](https://pwn.example)",
]
ROLE_PAGES = [(role, key) for key, roles in access.PAGE_ROLES.items() for role in roles]
# Every query parameter a page or the shared filters read (a test below checks the list against the code).
PARAMS = ("month", "tz", "view", "conversation", "breach", "date", "rank", *FILTER_PARAMS)
# Fields of element protos that Streamlit renders as Markdown (st.text and st.code bodies are plain).
MARKDOWN_FIELDS = ("body", "label", "help")
PLAIN_ELEMENTS = {"Text", "Code", "Json", "Exception", "Dataframe", "PlotlyChart", "BidiComponent"}

md = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.fixture(autouse=True)
def private_logs(tmp_path, monkeypatch):
    # A submitted review and the access log are written to files of this test, not beside the shared demo database.
    monkeypatch.setenv("DASHBOARD_REVIEWS", str(tmp_path / "reviews.sqlite"))
    monkeypatch.setenv("DASHBOARD_ACCESS_LOG", str(tmp_path / "access.sqlite"))


def markdown_sources(at):
    """(element type, Markdown source) of everything the run would render as Markdown."""
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or type(node).__name__ in PLAIN_ELEMENTS or not hasattr(proto, "DESCRIPTOR"):
            continue
        for name in MARKDOWN_FIELDS:
            if name in proto.DESCRIPTOR.fields_by_name and isinstance(getattr(proto, name), str) and getattr(proto, name):
                yield type(node).__name__, getattr(proto, name)


def rendered_outside_code(source: str) -> list[str]:
    """The parts of `source` that would render as something other than a code span and that carry the canary."""
    found = []
    for block in md.parse(source):
        if block.type in ("fence", "code_block", "html_block") and CANARY in block.content:
            found.append(f"{block.type}: {block.content!r}")
        for token in block.children or []:
            if token.type == "code_inline":
                continue
            carried = [token.content, *(str(v) for v in (token.attrs or {}).values())]
            if any(CANARY in text for text in carried):
                found.append(f"{token.type}: {carried!r}")
    return found


def code_spans(source: str) -> list[str]:
    # What the reader sees in each code span (the word joiner that keeps ":material/" literal is invisible).
    return [t.content.replace("\u2060", "") for b in md.parse(source) for t in b.children or [] if t.type == "code_inline"]


def assert_shown_as_text(at, where: str):
    assert not at.exception, (where, [e.message for e in at.exception])
    for kind, source in markdown_sources(at):
        found = rendered_outside_code(source)
        assert not found, f"{where}: {kind} renders hostile input as markup: {found[:3]} in {source[:300]!r}"


def echoed(at, kinds=("Error", "Warning")) -> list[str]:
    """The code spans of the page's error and warning boxes that carry the canary."""
    return [span for node in walk(at._tree) if type(node).__name__ in kinds
            for span in code_spans(node.proto.body) if CANARY in span]


# --- the attack, again ----------------------------------------------------------------

ATTACK = "[Session expired - sign in again](https://x.example)"


def test_a_crafted_month_link_shows_its_text_in_the_scorecard_error_not_a_link(app_test):
    at = app_test("executive", "scorecard", query_params={"month": ATTACK})
    assert not at.exception
    (error,) = [e for e in at.error if "has no data here" in e.value]
    assert code_spans(error.value) == [ATTACK]
    tokens = [t.type for b in md.parse(error.value) for t in b.children or []]
    assert "link_open" not in tokens and "image" not in tokens
    assert at.selectbox(key="sc_month").value != ATTACK, "the page falls back to a month of the data"


def test_a_crafted_conversation_link_shows_its_text_in_the_warning_not_a_link(app_test):
    at = app_test("manager", "conversations", query_params={"conversation": ATTACK})
    assert not at.exception
    (warning,) = [w for w in at.warning if "is not in this database" in w.value]
    assert code_spans(warning.value) == [ATTACK]
    assert "link_open" not in [t.type for b in md.parse(warning.value) for t in b.children or []]


def test_the_detector_sees_a_link_an_image_html_and_text_outside_code_and_nothing_inside_it():
    # Positive control: without this the tests above would pass on a detector that saw nothing.
    for value in HOSTILE[:4]:
        assert rendered_outside_code(f"Month {value} has no data"), value
    assert rendered_outside_code("Month pwn has no data") == ["text: ['Month pwn has no data']"]
    assert not rendered_outside_code("Month `` [pwn](https://pwn.example) `pwn` `` has no data")
    assert not rendered_outside_code("The data spans 2026-01 to 2026-10: choose a month")


# --- every URL parameter, every page, every role ------------------------------------------------


def test_the_parameter_list_is_every_query_parameter_the_dashboard_reads():
    read = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        read |= set(re.findall(r"query_params(?:\.get(?:_all)?\(|\[)\s*[\"'](\w+)[\"']", path.read_text()))
    assert read - set(PARAMS) == set(), "a page reads a URL parameter this file does not attack: add it to PARAMS"
    assert set(FILTER_PARAMS) <= set(PARAMS)


@pytest.mark.parametrize(("role", "page_key"), ROLE_PAGES, ids=[f"{r}-{k}" for r, k in ROLE_PAGES])
def test_every_url_parameter_shows_hostile_text_as_text(app_test, role, page_key):
    # One run per page and role with every parameter hostile at once; the roles of a page get different
    # strings, so each page sees several.
    start = access.PAGE_ROLES[page_key].index(role)
    params = {p: HOSTILE[(start + i) % len(HOSTILE)] for i, p in enumerate(PARAMS)}
    at = app_test(role, page_key, query_params=params)
    assert_shown_as_text(at, f"{role} {page_key}")
    if page_key == "scorecard":
        assert echoed(at), "the unknown month is named in the error"
    if page_key == "conversations":
        assert echoed(at), "the unknown conversation is named in the warning"
    if page_key == "compliance":  # the breach parameter is read in the Breaches view
        at.segmented_control(key="cw_view").set_value("Breaches").run()
        assert_shown_as_text(at, f"{role} compliance / Breaches")
        assert CANARY not in at.selectbox(key="cw_pick").value, "an unknown breach is not opened"


# Generated: one hostile part or more after the canary, from links, images, tags, Streamlit's
# directives, math, emoji and icon codes, Markdown punctuation and arbitrary text (control characters too).
WORDS = hs.text(alphabet="abcXYZ019 -_.", min_size=1, max_size=8)
PARTS = hs.one_of(
    hs.builds("[{}](https://{}.example)".format, WORDS, WORDS),
    hs.builds("![{}](https://{}.example/i.png)".format, WORDS, WORDS),
    hs.builds("<{} src=x onerror={}>".format, hs.sampled_from(["img", "a href=x", "script", "iframe"]), WORDS),
    hs.builds(":{}[{}]".format, hs.sampled_from(["red", "blue-background", "small", "violet-badge", "help"]), WORDS),
    hs.sampled_from([":material/lock:", ":smile:", ":streamlit:", "$x^2$", "$$", "`", "```", "**", "_", "~~",
                     "\n\n", "\n# ", "\n> ", "\n- ", "|", "\\", "&lt;", "&#60;", "->", "<3", "https://x.example"]),
    hs.text(max_size=12),
)
HOSTILE_TEXT = hs.lists(PARTS, min_size=1, max_size=5).map(lambda parts: CANARY + "".join(parts))
# A new AppTest per example, as a new link opens a new session (about a second each).
GENERATED = settings(max_examples=20, derandomize=True, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@GENERATED
@given(value=HOSTILE_TEXT)
def test_generated_months_are_shown_as_text_in_the_scorecard_error(app_test, value):
    at = app_test("manager", query_params={"month": value})  # a manager lands on the Scorecard
    assert_shown_as_text(at, f"month={value!r}")
    assert echoed(at) == [display(value)]


@GENERATED
@given(value=HOSTILE_TEXT)
def test_generated_conversation_ids_are_shown_as_text_in_the_warning(app_test, value):
    at = app_test("manager", "conversations", query_params={"conversation": value})
    assert_shown_as_text(at, f"conversation={value!r}")
    assert echoed(at) == [display(value)]


@GENERATED
@given(value=HOSTILE_TEXT, page_key=hs.sampled_from(list(access.PAGE_ROLES)))
def test_generated_values_in_every_parameter_of_any_page_render_no_markup(app_test, value, page_key):
    at = app_test("admin", page_key, query_params=dict.fromkeys(PARAMS, value))  # admin opens every page
    assert_shown_as_text(at, f"{page_key} with every parameter {value!r}")


def display(value: str) -> str:
    """What a reader should see of a quoted value: one line, invisible and control characters made
    visible, at most 80 characters."""
    text = re.sub(r"[\t\n\r\v\f\x85\u2028\u2029]", " ", value)
    text = "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    return text if len(text) <= 80 else text[:79] + "…"


# --- every text box -------------------------------------------------------------------------------


def text_box_lines() -> list[tuple[str, str]]:
    """(page file, line) of every st.text_input / st.text_area call of the pages."""
    return [(path.name, line) for path in sorted((ROOT / "dashboard" / "app_pages").glob("*.py"))
            for line in path.read_text().splitlines() if re.search(r"\.text_(?:input|area)\(", line)]


def text_box_keys_in_the_code() -> set[str]:
    return {key for _, line in text_box_lines() for key in re.findall(r"key=[\"'](\w+)[\"']", line)}


def test_every_text_box_has_a_key_on_its_line_so_the_walk_below_can_name_it():
    lines = text_box_lines()
    assert lines, "the pages have text boxes (the review note at least)"
    assert all(re.search(r"key=[\"']\w+[\"']", line) for _, line in lines), lines


@pytest.mark.parametrize("role", access.ROLES)
def test_every_text_box_of_every_view_shows_hostile_text_as_text(app_test, role):
    from tests.test_masking import each_view

    filled = set()
    for page_key in access.pages_for(role):
        for view, at in each_view(app_test(role, page_key)):
            boxes = [(box.key, box.proto.form_id) for box in [*at.text_input, *at.text_area]]
            for n, (key, form_id) in enumerate(boxes):
                value = HOSTILE[(len(filled) + n) % len(HOSTILE)]
                [b for b in [*at.text_input, *at.text_area] if b.key == key][0].input(value)
                for button in at.button:
                    if button.proto.is_form_submitter and button.proto.form_id == form_id and form_id:
                        button.click()
                at.run()
                assert_shown_as_text(at, f"{role} {page_key} / {view}: {key}")
                if key == "cw_note":  # the review was recorded, its note kept exactly as typed
                    notes = [v for node in walk(at._tree) if type(node).__name__ == "Dataframe"
                             and "note" in node.value.columns for v in node.value["note"]]
                    assert value in notes, notes[:3]
                filled.add(key)
    mine = {key for key in text_box_keys_in_the_code()
            if any(page in access.pages_for(role) for page in pages_with(key))}
    assert filled == mine, "every text box this role can reach was filled"


def pages_with(key: str) -> list[str]:
    return [path.stem for path in (ROOT / "dashboard" / "app_pages").glob("*.py") if f'key="{key}"' in path.read_text()]


def test_a_hostile_username_at_sign_in_is_not_echoed(demo_db, monkeypatch):
    from tests.test_app_shell import signed_out, submit

    at = submit(signed_out(demo_db, monkeypatch), HOSTILE[0], "wrong")
    assert_shown_as_text(at, "sign-in")
    assert "user" not in at.session_state
