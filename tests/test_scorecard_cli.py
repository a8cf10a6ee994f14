"""The `scorecard` command: the CSV of a demo month against an independent computation, the PDF,
and every user mistake as a one-line error with exit status 2 and no file written."""
from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", "scorecard", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def read_csv(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["metric", "value"]
    return {k: v for k, v in rows[1:]}


# --- an independent computation, written from SPEC section 3 with pandas (no project SQL) ----------

def tables(db: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(db), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    out = {}
    for t in ("accounts", "contacts", "surveys", "complaints", "payments", "promises"):
        cur = con.cursor()
        out[t] = cur.execute(f"select * from {t}").df()
        cur.close()
    from analysis.compliance.engine import find_breaches  # the engine's own breaches (SPEC section 2)

    out["breaches"] = find_breaches(con)
    con.close()
    return out


def expected_metrics(t: dict[str, pd.DataFrame], month: str, tz: str) -> dict[str, float | None]:
    zone = ZoneInfo(tz)
    start = pd.Timestamp(month + "-01", tz=zone)
    end = start + pd.DateOffset(months=1)
    last_day = (end - pd.Timedelta(days=1)).date()

    def utc(series):
        s = pd.to_datetime(series)
        return s.dt.tz_localize("UTC") if s.dt.tz is None else s

    def in_month(series):
        local = utc(series).dt.tz_convert(zone)
        return (local >= start) & (local < end)

    def local_date(series):
        return utc(series).dt.tz_convert(zone).dt.date

    def ratio(num, den, scale=100.0):
        return None if den == 0 else scale * num / den

    s = t["surveys"][in_month(t["surveys"]["responded_at"])]
    nps = s["nps"].dropna()
    csat = s["csat"].dropna()
    c = t["complaints"]
    received = c[in_month(c["received_at"])]
    resolved = c[c["resolved_at"].notna()]
    resolved = resolved[in_month(resolved["resolved_at"])]
    days = (utc(resolved["resolved_at"]) - utc(resolved["received_at"])).dt.total_seconds() / 86400
    end_utc = end.tz_convert("UTC")
    open_ = c[(utc(c["received_at"]) < end_utc) & (c["resolved_at"].isna() | (utc(c["resolved_at"]) >= end_utc))]
    a = t["accounts"]
    book = a[pd.to_datetime(a["placed_date"]).dt.date <= last_day]
    k = t["contacts"]
    placed = k[(k["channel"] == "call") & (k["direction"] == "outbound") & in_month(k["ts"])]
    b = t["breaches"]
    b = b[in_month(b["ts"])] if len(b) else b
    p = t["payments"]
    p_m = p[in_month(p["paid_at"])]
    pr = t["promises"]
    made = pr[in_month(pr["created_at"])]
    due_dates = pd.to_datetime(pr["due_date"]).dt.date
    due = pr[(due_dates >= start.date()) & (due_dates <= last_day)]
    pay_dates = local_date(p["paid_at"])
    kept = 0
    for _, promise in due.iterrows():
        created = pd.Timestamp(promise["created_at"]).tz_convert(zone).date() if pd.Timestamp(promise["created_at"]).tzinfo \
            else pd.Timestamp(promise["created_at"]).tz_localize("UTC").tz_convert(zone).date()
        window_end = pd.Timestamp(promise["due_date"]).date() + pd.Timedelta(days=3)
        mask = (p["account_id"] == promise["account_id"]) & (pay_dates >= created) & (pay_dates <= window_end)
        if float(p.loc[mask, "amount"].astype(float).sum()) >= float(promise["amount"]):
            kept += 1
    paid_before_end = p[(utc(p["paid_at"]) < end_utc) & p["account_id"].isin(book["account_id"])]
    return {
        "nps": ratio(int((nps >= 9).sum()) - int((nps <= 6).sum()), len(nps)),
        "nps_responses": len(nps),
        "csat_pct": ratio(int((csat >= 4).sum()), len(csat)),
        "csat_responses": len(csat),
        "complaints_received": len(received),
        "accounts_in_book": len(book),
        "complaints_per_1000_accounts": ratio(len(received), len(book), 1000.0),
        "complaints_resolved": len(resolved),
        "complaint_median_resolution_days": float(days.median()) if len(days) else None,
        "complaints_resolved_within_8_weeks_pct": ratio(int((days <= 56).sum()), len(resolved)),
        "complaints_open_end_of_month": len(open_),
        "calls_placed": len(placed),
        "right_party_contact_rate_pct": ratio(int((placed["outcome"] == "conversation").sum()), len(placed)),
        "contact_breaches": len(b[["contact_id", "rule_id"]].drop_duplicates()) if len(b) else 0,
        "accounts_with_breach": b["account_id"].nunique() if len(b) else 0,
        "collected_amount": float(p_m["amount"].astype(float).sum()),
        "paying_accounts": p_m[p_m["amount"].astype(float) > 0]["account_id"].nunique(),
        "promises_made": len(made),
        "promises_due": len(due),
        "promise_kept_rate_pct": ratio(kept, len(due)),
        "recovery_rate_pct": ratio(float(paid_before_end["amount"].astype(float).sum()),
                                   float(book["placed_balance"].astype(float).sum())),
    }


def busiest_month(t: dict[str, pd.DataFrame]) -> str:
    months = pd.to_datetime(t["contacts"]["ts"]).dt.tz_convert("UTC").dt.strftime("%Y-%m")
    return months.value_counts().idxmax()


@pytest.mark.slow
@pytest.mark.parametrize("tz", ["UTC", "America/Chicago"])
def test_the_csv_of_a_demo_month_matches_an_independent_computation(demo_db, tmp_path, tz):
    t = tables(demo_db)
    month = busiest_month(t)
    out = tmp_path / "card.csv"
    done = cli("--db", str(demo_db), "--month", month, "--out", str(out), "--timezone", tz)
    assert done.returncode == 0, done.stderr
    got = read_csv(out)
    want = expected_metrics(t, month, tz)
    assert list(got) == list(want)  # every SPEC metric, in SPEC order
    for metric, value in want.items():
        if value is None:
            assert got[metric] == "", metric
        else:
            assert float(got[metric]) == pytest.approx(value, rel=1e-9, abs=1e-9), metric
    # The demo month must exercise the metrics, not compare empty with empty.
    assert want["nps_responses"] > 0 and want["calls_placed"] > 0 and want["promises_due"] > 0


def test_the_pdf_has_a_page_per_section_and_opens(demo_db, tmp_path):
    from pypdf import PdfReader

    t = tables(demo_db)
    month = busiest_month(t)
    out = tmp_path / "card.pdf"
    done = cli("--db", str(demo_db), "--month", month, "--out", str(out))
    assert done.returncode == 0, done.stderr
    reader = PdfReader(out)
    texts = [page.extract_text() for page in reader.pages]
    sections = ["Customer experience", "Complaints", "Contact and compliance", "Recovery"]
    assert len(texts) == len(sections)
    for text, section in zip(texts, sections):
        assert f"Scorecard {month} - {section}" in text
    assert "Net Promoter Score" in texts[0] and "Collected" in texts[3]
    assert all(page.images for page in reader.pages)  # each section carries its chart


# --- user mistakes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("month, message", [
    ("2031-01", r"^error: month 2031-01 has no data: the data spans \d{4}-\d{2}\.\.\d{4}-\d{2}$"),
    ("2026-13", r"^error: month '2026-13' is not in the form YYYY-MM"),
    ("03/2026", r"^error: month '03/2026' is not in the form YYYY-MM"),
])
def test_a_bad_or_empty_month_is_one_line_exit_2_and_no_file(demo_db, tmp_path, month, message):
    out = tmp_path / "card.csv"
    done = cli("--db", str(demo_db), "--month", month, "--out", str(out))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert re.search(message, done.stderr.strip())
    assert not out.exists()


def test_an_unknown_time_zone_a_missing_database_or_folder_are_one_line_errors(demo_db, tmp_path):
    cases = [
        (["--db", str(demo_db), "--month", "2026-01", "--out", str(tmp_path / "a.csv"), "--timezone", "Mars/Olympus"],
         "time zone 'Mars/Olympus' is unknown"),
        (["--db", str(tmp_path / "none.duckdb"), "--month", "2026-01", "--out", str(tmp_path / "b.csv")],
         "does not exist"),
        (["--db", str(demo_db), "--month", "2026-01", "--out", str(tmp_path / "no" / "c.csv")],
         "output folder"),
    ]
    (tmp_path / "taken").mkdir()  # --out naming a folder
    cases.append((["--db", str(demo_db), "--month", "2026-01", "--out", str(tmp_path / "taken")], "cannot write"))
    for args, fragment in cases:
        done = cli(*args)
        assert done.returncode == 2, args
        assert fragment in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["taken"] and not any((tmp_path / "taken").iterdir())
