"""Real browser: a manager opens the Contact plan, sees the ranked list, the model's calibration chart,
and downloads the dialer's file with account ids as pseudonyms."""
from __future__ import annotations

import csv
import io
import re

import pytest

from tests.browser import goto, sign_in, wait_for_app

pytestmark = pytest.mark.browser


def test_a_manager_opens_the_contact_plan_and_downloads_the_dialer_file_with_ids_masked(app_server, page, tmp_path):
    sign_in(page, app_server, "manager")
    goto(page, app_server, "contact_plan")
    main = page.locator('[data-testid="stMain"]')
    # The calibration chart is drawn (plotly's SVG) and the run is over before anything is read.
    main.locator('[data-testid="stPlotlyChart"] svg.main-svg').first.wait_for()
    wait_for_app(page)
    assert main.locator("h1").first.inner_text().strip() == "Contact plan"
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0
    assert main.locator('[data-testid="stDataFrame"]').count() == 2  # the ranked list and the calibration table
    assert "AUC" in main.inner_text()
    # The list's cells as drawn (the grid's accessible cells): pseudonyms, never a raw id like A0000123.
    cells = main.locator('[data-testid="stDataFrame"]').first.locator('[role="gridcell"]').all_inner_texts()
    assert any(c.startswith("acct~") for c in cells)
    assert not [c for c in cells if re.fullmatch(r"A\d{7}", c.strip())]
    button = page.get_by_role("button", name="Dialer file (CSV)")
    assert button.is_visible()

    with page.expect_download() as got:
        button.click()
    path = tmp_path / "dialer.csv"
    got.value.save_as(path)
    assert got.value.suggested_filename.startswith("dialer-plan-")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows, "the demo's plan has dialer rows"
    assert {r["queue"] for r in rows} == {"dialer"}
    # A manager has no right to personal data: every id is a keyed pseudonym, as on every other page.
    assert all(r["account_id"].startswith("acct~") for r in rows)
    assert [int(r["rank"]) for r in rows] == sorted(int(r["rank"]) for r in rows)
    assert all(r["contact_from"].endswith("Z") for r in rows)
