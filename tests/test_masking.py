"""Masking by allow-list: roles without personal-data rights see a column only when it is declared
non-personal (access.NON_PERSONAL_COLUMNS); ids become keyed pseudonyms; anything else is withheld.

The page test runs every view of every page as a manager and an executive, so a column that a query
starts returning is either declared (and shown) or withheld, and the test names which.
"""
from __future__ import annotations

import pandas as pd
import pytest

from analysis import access
from tests.test_app_shell import demo_values, leaked, walk

NO_PII = ("executive", "manager")

# The personal columns the pages' tables have today, withheld from managers and executives. A column
# that shows up withheld and is not here is a column someone forgot to declare in NON_PERSONAL_COLUMNS
# (or a personal column nobody knew the page showed: either way, a person decides).
EXPECTED_WITHHELD = {"comment"}


def test_a_new_personal_column_is_withheld_from_managers_and_executives_until_declared():
    df = pd.DataFrame({
        "account_id": ["A0000001", "A0000002"], "team": ["North", "South"],
        "phone_e164": ["+12015550100", None], "notes": ["Lost her job in May", "Call after 6pm"],
        "balance_due": [120.5, 80.0],
    })
    for role in NO_PII:
        out = access.mask_frame(df, role)
        assert out["phone_e164"].tolist()[0] == access.WITHHELD and pd.isna(out["phone_e164"].tolist()[1])
        assert out["notes"].tolist() == [access.WITHHELD] * 2
        assert out["balance_due"].tolist() == [access.WITHHELD] * 2, "undeclared numbers are withheld too"
        assert out["team"].tolist() == ["North", "South"]
        assert out["account_id"].str.startswith("acct~").all()
        assert access.mask_value("+12015550100", "phone_e164", role) == access.WITHHELD
        assert access.mask_value("North", "team", role) == "North"
    for role in access.PII_ROLES:
        assert access.mask_frame(df, role) is df
        assert access.mask_value("+12015550100", "phone_e164", role) == "+12015550100"
    assert access.personal_columns(df.columns) == ["account_id", "phone_e164", "notes", "balance_due"]


def test_an_id_column_stays_a_pseudonym_even_if_someone_declares_it_non_personal(monkeypatch):
    monkeypatch.setattr(access, "NON_PERSONAL_COLUMNS", access.NON_PERSONAL_COLUMNS | {"first_account_id"})
    out = access.mask_frame(pd.DataFrame({"first_account_id": ["A0000001"]}), "manager")
    assert out["first_account_id"][0] == access.pseudonym("A0000001", "account_id")


def frames_of(at) -> list[pd.DataFrame]:
    return [node.value for node in walk(at._tree) if type(node).__name__ == "Dataframe"]


def each_view(at):
    """The run as it is, then once per other option of the page's "View" control (the views sit behind one)."""
    yield "default", at
    views = [s for s in at.segmented_control if s.label == "View"]
    if views:
        key, options = views[0].key, views[0].options
        for option in options[1:]:
            # fetched again each time: a run replaces the tree, and a value set on an old one is lost
            yield option, at.segmented_control(key=key).set_value(option).run()


@pytest.fixture(scope="module")
def personal_values(demo_db) -> set[str]:
    return (demo_values(demo_db, "select account_id from accounts") | demo_values(demo_db, "select consumer_id from accounts")
            | demo_values(demo_db, "select phone from accounts"))


@pytest.mark.parametrize("role", NO_PII)
def test_every_table_of_every_view_shows_its_declared_columns_and_withholds_the_rest(app_test, personal_values, role):
    withheld_seen, masked_tables = set(), 0
    for page_key in access.pages_for(role):
        for view, at in each_view(app_test(role, page_key)):
            assert not at.exception, (page_key, view, [e.message for e in at.exception])
            for df in frames_of(at):
                for col in df.columns:
                    values = df[col].dropna()
                    if len(values) and (values.astype(str) == access.WITHHELD).all():
                        withheld_seen.add(col)
                        assert not access.is_shown(col), (page_key, view, col)
                        assert col in EXPECTED_WITHHELD, \
                            f"{page_key} / {view}: column {col!r} is withheld; declare it in NON_PERSONAL_COLUMNS if it is not personal"
                masked_tables += any(str(v).startswith("acct~") for v in df.get("account_id", []))
            found = leaked(at, personal_values)
            assert not found, f"{role} sees raw personal values on {page_key} / {view}: {sorted(found)[:5]}"
    # Positive control: the walk reached the masked tables (verbatims, contact complaints, broken promises,
    # and for managers the lowest conversations and vulnerable accounts) and the withheld comment text.
    assert masked_tables >= {"executive": 3, "manager": 5}[role] and withheld_seen == EXPECTED_WITHHELD, (masked_tables, withheld_seen)
