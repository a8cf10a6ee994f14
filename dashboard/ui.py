"""Small helpers every page uses: the header with "data as of", the signed-in role, masking."""
from __future__ import annotations

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
    "compliance": ("Compliance", ":material/gavel:"),
    "data": ("Data", ":material/database:"),
}


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


def shown_rows_note(total: int) -> str:
    """What a list's caption adds when it shows only the newest SHOWN_ROWS of `total` rows."""
    return f" · the newest {SHOWN_ROWS:,} are listed here, the download has all" if total > SHOWN_ROWS else ""


def masked_csv(df):
    """A download button's callable: the frame as this role may see it, as CSV bytes, made on click.

    The role is read now: the callable runs outside the page's run, where session state is not at hand.
    """
    who = role()
    return lambda: access.mask_frame(df, who).to_csv(index=False).encode("utf-8")


def mask_value(value, column: str):
    """One value (e.g. an account id in a heading) as this role may see it."""
    return access.mask_value(value, column, role())


def can_see_pii() -> bool:
    return access.can_see_pii(role())
