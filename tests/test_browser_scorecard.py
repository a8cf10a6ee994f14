"""Real browser: an executive signs in, lands on the Scorecard and downloads the CSV and the PDF."""
from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlparse

import pytest
from pypdf import PdfReader

from analysis import scorecard
from tests.browser import sign_in, wait_for_app

pytestmark = pytest.mark.browser


def test_an_executive_lands_on_the_scorecard_and_downloads_both_files(app_server, page, tmp_path):
    sign_in(page, app_server, "executive")
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("h1").first.inner_text().strip() == "Scorecard"
    # Four section tables, each drawn (canvas grid) before we read anything.
    page.locator('[data-testid="stDataFrame"]').nth(3).wait_for()
    # The page writes the month it shows to the URL, so a link reproduces the view.
    month = parse_qs(urlparse(page.url).query)["month"][0]
    assert len(month) == 7 and month[4] == "-"

    with page.expect_download() as got:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "card.csv"
    got.value.save_as(path)
    assert got.value.suggested_filename == f"scorecard-{month}.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["metric", "value"] and [r[0] for r in rows[1:]] == list(scorecard.METRIC_NAMES)

    wait_for_app(page)
    with page.expect_download(timeout=120_000) as got:  # the PDF is built on click (kaleido, a few seconds)
        page.get_by_role("button", name="Download PDF").click()
    pdf = tmp_path / "card.pdf"
    got.value.save_as(pdf)
    reader = PdfReader(pdf)
    assert len(reader.pages) == len(scorecard.SECTIONS)
    assert f"Scorecard {month} - Customer experience" in reader.pages[0].extract_text()
