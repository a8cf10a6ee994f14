"""Small helpers every page uses: the header with "data as of", the signed-in role, masking."""
from __future__ import annotations

import re
import unicodedata

import streamlit as st

from analysis import access, catalog
from dashboard.data import load

# Navigation title and icon of each page key of access.PAGE_ROLES (app.py builds st.navigation from these).
TITLES = {
    "scorecard": ("Scorecard", ":material/summarize:"),
    "balance": ("Balance", ":material/balance:"),
    "repayments": ("Repayments", ":material/payments:"),
    "experience": ("Customer experience", ":material/sentiment_satisfied:"),
    "complaints": ("Complaints", ":material/report:"),
    "benchmark": ("CFPB benchmark", ":material/public:"),
    "conversations": ("Conversations", ":material/forum:"),
    "contact_plan": ("Contact plan", ":material/phone_forwarded:"),
    "compliance": ("Compliance", ":material/gavel:"),
    "data": ("Data", ":material/database:"),
}


# Characters that would break a one-line message (line breaks) or hide what it says (bidi overrides,
# zero-width characters): shown as a space or as U+FFFD. Streamlit turns ":material/" into an icon name
# before it parses anything, code spans included; a word joiner (invisible) after the colon stops that.
_LINE_BREAKS = str.maketrans({c: " " for c in "\t\n\r\v\f\x85\u2028\u2029"})
LITERAL_MAX = 80  # characters of a value quoted in a message; a longer one ends with "…"


def literal(value) -> str:
    """`value` as Markdown that every Streamlit element shows character for character, on one line.

    For anything that comes from the URL, a text box or imported data and goes into st.error, st.markdown,
    a caption, a title or a label. It is a code span: inside one, links, images, HTML, emphasis,
    `:color[...]` directives, `$math$` and `:emoji:` shortcodes are plain text (backslash escapes are
    not enough: Streamlit replaces emoji shortcodes after the escapes are undone).
    """
    text = str(value).translate(_LINE_BREAKS)
    text = "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    if len(text) > LITERAL_MAX:
        text = text[:LITERAL_MAX - 1] + "…"
    text = text.replace(":material/", ":\u2060material/")
    # The fence is one backtick longer than the longest run inside; the spaces keep a leading or
    # trailing backtick of the value apart from it (CommonMark strips one space each side).
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def role() -> str:
    return st.session_state["user"]["role"]


def filters():
    """The shared filters drawn by app.py for this run."""
    return st.session_state["filters"]


def data_as_of_line() -> str:
    """'Data as of 2026-10-31 23:58 UTC': the newest event in the data, recorded at build or import."""
    as_of = load(catalog.data_as_of)
    return f"Data as of {as_of[:16].replace('T', ' ')} UTC" if as_of else "Data as of: unknown"


def header(title: str, caption: str | None = None) -> None:
    """Every page starts with this: its title, then "Data as of ..." and an optional caption."""
    st.title(title)
    line = data_as_of_line()
    st.caption(line + (f" · {caption}" if caption else ""))


def masked(df):
    """The frame as this role may see it (personal data pseudonymised or withheld, on the server)."""
    return access.mask_frame(df, role())


# Rows of a long list (breaches, risk signals) sent to the browser, newest first: at a national
# agency's scale a list holds hundreds of thousands of rows, and sending them all took tens of seconds
# a view. The list's download has every row.
SHOWN_ROWS = 2000


def shown_rows_note(total: int, first: str = "newest") -> str:
    """What a list's caption adds when it shows only the `first` (newest, latest due, ...) SHOWN_ROWS of `total` rows."""
    return f" · the {first} {SHOWN_ROWS:,} are listed here, the download has all" if total > SHOWN_ROWS else ""


def masked_csv(df):
    """A download button's callable: the frame as this role may see it, as CSV bytes, made on click.
    `df` may itself be a callable that makes the frame (then it too is made on click only).

    The role is read now: the callable runs outside the page's run, where session state is not at hand.
    """
    who = role()
    return lambda: access.mask_frame(df() if callable(df) else df, who).to_csv(index=False).encode("utf-8")


def mask_value(value, column: str):
    """One value (e.g. an account id in a heading) as this role may see it."""
    return access.mask_value(value, column, role())


def can_see_pii() -> bool:
    return access.can_see_pii(role())
