"""`python -m analysis import-cfpb FILE.csv --db FILE`: a CFPB Consumer Complaint Database export as
complaints with source `cfpb`, and the public debt-collection sample for the Benchmark page.

Any vintage of the export: headers are matched case- and punctuation-insensitively against known
names (`Company response` / `Company response to consumer` / `company_response`, ...), dates may be
`MM/DD/YYYY`, `YYYY/M/D` or ISO `YYYY-MM-DD` (optionally with a time), the narrative may be absent.
Kept: issue, sub-issue, company response, timely response, state, date sent to company and the
narrative (as `description`); `complaint_id` is `cfpb-<Complaint ID>`; `category` is the issue.
Date-only values are stored at 12:00 UTC so that they fall on the same calendar date in every
reporting zone from UTC-11 to UTC+11. The export has no resolution date: `resolved_at` stays empty.

The import is one transaction: a malformed file changes nothing. Re-importing replaces rows with the
same complaint_id (idempotent). Rows without a Complaint ID or a readable Date received, and repeated
Complaint IDs, go to the quarantine table; rows read = rows loaded + rows quarantined. Meta
`data_as_of` moves forward only (it is never set back by an older export).
"""
from __future__ import annotations

import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from analysis import store
from analysis.db import ROOT, get_meta, query_df, ratio, set_meta
from analysis.errors import UserError
from analysis.schema import create_schema

SAMPLE = ROOT / "data" / "cfpb" / "debt_collection_complaints_2015_2020.csv"
ID_PREFIX = "cfpb-"

# canonical name -> accepted headers (compared after `_norm`), and whether the column is required
COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "complaint_id": (("Complaint ID", "complaint_id"), True),
    "date_received": (("Date received", "date_received"), True),
    "issue": (("Issue",), True),
    "company_response": (("Company response to consumer", "Company response", "company_response"), True),
    "timely_response": (("Timely response?", "Timely response", "timely"), True),
    "sub_issue": (("Sub-issue", "Sub issue", "sub_issue"), False),
    "state": (("State",), False),
    "narrative": (("Consumer complaint narrative", "Consumer Complaint Narrative", "complaint_what_happened"), False),
    "date_sent": (("Date sent to company", "date_sent_to_company"), False),
}
DATE_FORMATS = ("%m/%d/%Y", "%Y/%m/%d", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
TRUE = {"yes", "true", "1", "y"}
FALSE = {"no", "false", "0", "n"}


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", header.lower()).strip()


def read_export(path: Path) -> pd.DataFrame:
    """The export as text columns, one row per complaint (quoted narratives may span lines)."""
    if not path.exists():
        raise UserError(f"{path} not found: give the path of a CFPB complaints CSV export")
    if path.is_dir():
        raise UserError(f"{path} is a directory: give the path of a CFPB complaints CSV export")
    con = duckdb.connect()
    try:
        cur = con.cursor()
        return cur.execute(
            "select * from read_csv(?, header = true, all_varchar = true)", [str(path)]).df()
    except duckdb.Error as exc:
        raise UserError(f"cannot read {path} as CSV: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def map_columns(headers) -> dict[str, str]:
    """canonical name -> the file's header; a UserError names every required column that is missing."""
    by_norm = {_norm(h): h for h in headers}
    found, missing = {}, []
    for name, (aliases, required) in COLUMNS.items():
        hit = next((by_norm[_norm(a)] for a in aliases if _norm(a) in by_norm), None)
        if hit is not None:
            found[name] = hit
        elif required:
            missing.append(" / ".join(f"'{a}'" for a in aliases[:2]))
    if missing:
        raise UserError("not a CFPB complaints export: missing column(s) " + ", ".join(missing)
                        + "; export the complaints as CSV from the CFPB Consumer Complaint Database")
    return found


def parse_date(value) -> datetime | None:
    """A CFPB date in any vintage's format, as a date (None when unreadable)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_bool(value) -> bool | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip().lower()
    return True if text in TRUE else False if text in FALSE else None


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def to_complaints(raw: pd.DataFrame, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(complaint rows in the contract's columns, quarantined rows with their reasons)."""
    cols = map_columns(raw.columns)
    good, bad, seen = [], [], set()
    for i, rec in enumerate(raw.to_dict("records")):
        record_no = i + 2  # the header is record 1
        get = lambda name: rec.get(cols[name]) if name in cols else None  # noqa: E731
        cid, received = _text(get("complaint_id")), parse_date(get("date_received"))
        reason = None
        if cid is None:
            reason = "missing Complaint ID"
        elif received is None:
            reason = f"unreadable Date received {get('date_received')!r} (expected MM/DD/YYYY, YYYY/M/D or YYYY-MM-DD)"
        elif cid in seen:
            reason = f"Complaint ID {cid} repeated in the file (the first one is kept)"
        if reason:
            raw_text = ",".join("" if v is None or v != v else str(v) for v in rec.values())
            bad.append({"line": record_no, "raw": raw_text, "reason": reason})
            continue
        seen.add(cid)
        sent = parse_date(get("date_sent"))
        state = _text(get("state"))
        issue = _text(get("issue"))
        good.append({
            "complaint_id": ID_PREFIX + cid,
            "received_at": datetime(received.year, received.month, received.day, 12, tzinfo=timezone.utc),
            "source": "cfpb",
            "category": issue,
            "description": _text(get("narrative")),
            "issue": issue,
            "sub_issue": _text(get("sub_issue")),
            "company_response": _text(get("company_response")),
            "timely_response": parse_bool(get("timely_response")),
            "state": state.upper() if state else None,
            "sent_to_company_date": sent.date() if sent else None,
        })
    return pd.DataFrame(good), pd.DataFrame(bad, columns=["line", "raw", "reason"])


INSERT = """
insert or replace into complaints (complaint_id, account_id, received_at, source, category, description,
    resolved_at, outcome, redress_amount, issue, sub_issue, company_response, timely_response, state,
    sent_to_company_date)
select complaint_id, null, received_at, source, category, description, null, null, null, issue, sub_issue,
    company_response, timely_response, state, sent_to_company_date
from incoming
"""


def import_file(con, path: Path | str, started: float | None = None, parsed: tuple | None = None) -> dict:
    """Import one export into an open database, in one transaction. Returns the counts.
    `started`: time.perf_counter() when the command began (for the log's started_at);
    `parsed`: (raw, good, bad) when the caller has already read and checked the file."""
    path = Path(path)
    started = time.perf_counter() if started is None else started
    if parsed is None:
        raw = read_export(path)
        good, bad = to_complaints(raw, str(path))
    else:
        raw, good, bad = parsed
    create_schema(con)
    current = get_meta(con, "data_as_of")
    cur = con.cursor()
    try:
        cur.execute("begin transaction")
        import_id = cur.execute("select coalesce(max(import_id), 0) + 1 from import_log").fetchall()[0][0]
        if len(good):
            cur.register("incoming", good)
            cur.execute(INSERT)
            cur.unregister("incoming")
        for r in bad.to_dict("records"):
            cur.execute("insert into quarantine values (?, 'complaints', ?, ?, ?, ?)",
                        [import_id, str(path), r["line"], r["raw"], r["reason"]])
        # Log times without reading the wall clock here: DuckDB's now() (start of this transaction)
        # less the elapsed time measured since the command began.
        elapsed_us = int((time.perf_counter() - started) * 1e6)
        cur.execute("insert into import_log select ?, now() - to_microseconds(?), now(), 'cfpb', 'complaints', ?, ?, ?, ?",
                    [import_id, elapsed_us, str(path), len(raw), len(good), len(bad)])
        if len(good):
            newest = max(good["received_at"])
            if current is None or _as_instant(current) < newest:
                set_meta(cur, "data_as_of", newest.strftime("%Y-%m-%dT%H:%M:%SZ"))  # the importer's format
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise
    finally:
        cur.close()
    return {"rows_read": len(raw), "rows_loaded": len(good), "rows_quarantined": len(bad), "import_id": import_id}


def _as_instant(text: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def add_arguments(parser) -> None:
    parser.add_argument("file", help="CFPB Consumer Complaint Database export (CSV)")
    parser.add_argument("--db", required=True, help="database file (created when missing)")


def run(args) -> int:
    started = time.perf_counter()  # elapsed time, for the import log
    path = Path(args.file)
    # Read and check the file before the database is opened, so a bad file leaves no trace.
    raw = read_export(path)
    good, bad = to_complaints(raw, str(path))
    with store.writing(args.db) as con:  # a new version of the database, published when the file is in
        result = import_file(con, path, started, parsed=(raw, good, bad))
    print(f"{path.name}: {result['rows_read']} read, {result['rows_loaded']} loaded as complaints (source cfpb), "
          f"{result['rows_quarantined']} quarantined")
    return 0


# --- the public sample, for the Benchmark page --------------------------------------------------

def benchmark_issue_mix(con, path: str = str(SAMPLE)) -> pd.DataFrame:
    """CFPB public sample: one row per issue with its complaint count and share (%)."""
    df = query_df(con, "cfpb_issue_mix", {"path": _sample(path)})
    total = int(df["complaints"].sum())
    df["share_pct"] = [ratio(c, total, 100.0) for c in df["complaints"]]
    return df


def benchmark_timeliness(con, path: str = str(SAMPLE)) -> dict:
    """CFPB public sample: timely-response share, company-response mix, routing days, disputes."""
    from analysis import stats

    r = query_df(con, "cfpb_timeliness", {"path": _sample(path)}).iloc[0]
    return {
        "complaints": int(r["complaints"]),
        "first_received": r["first_received"],
        "last_received": r["last_received"],
        "timely": stats.rate_estimate(r["timely_yes"], r["timely_given"]),
        "closed_with_relief": stats.rate_estimate(r["closed_with_relief"], r["complaints"]),
        "median_routing_days": None if pd.isna(r["median_routing_days"]) else float(r["median_routing_days"]),
        "disputed": stats.rate_estimate(r["disputed_yes"], r["disputed_given"]),
        "last_dispute_received": r["last_dispute_received"],
    }


def benchmark_company_responses(con, path: str = str(SAMPLE)) -> pd.DataFrame:
    df = query_df(con, "cfpb_company_responses", {"path": _sample(path)})
    total = int(df["complaints"].sum())
    df["share_pct"] = [ratio(c, total, 100.0) for c in df["complaints"]]
    return df


ISSUE_MAP_FILE = ROOT / "config" / "cfpb_issue_map.yaml"
OTHER = "Other (not mapped)"


def load_issue_map(path: Path | str = ISSUE_MAP_FILE) -> tuple[dict, dict]:
    """(older CFPB issue -> current issue, firm category (lower-case) -> CFPB issue) from the YAML config."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read the CFPB issue map {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected 'issues' and 'categories' mappings")
    issues = {str(k): str(v) for k, v in (data.get("issues") or {}).items()}
    categories = {str(k).lower(): str(v) for k, v in (data.get("categories") or {}).items()}
    return issues, categories


def benchmark_mix(con, filters=None, tz: str = "UTC", path: str = str(SAMPLE)) -> pd.DataFrame:
    """The firm's complaint mix (received in the range, categories mapped to CFPB issues) next to the
    public sample's: one row per issue with counts, shares (%) and whether the difference in share is
    significant (two-proportion z-test, `analysis.stats`)."""
    from analysis import complaints, stats
    from analysis.filters import ALL

    legacy, categories = load_issue_map()
    public = benchmark_issue_mix(con, path)
    public["issue"] = [legacy.get(i, i) for i in public["issue"]]
    public = public.groupby("issue", as_index=False)["complaints"].sum()
    firm = complaints.by_segment(con, filters or ALL, "category", tz)
    known = set(public["issue"])

    def to_issue(cat: str) -> str:
        cat = legacy.get(cat, cat)
        if cat in known:
            return cat
        return categories.get(str(cat).lower(), OTHER)

    firm = firm.assign(issue=[to_issue(c) for c in firm["segment"]])
    firm = firm.groupby("issue", as_index=False)["received"].sum()
    merged = public.rename(columns={"complaints": "cfpb_complaints"}).merge(
        firm.rename(columns={"received": "firm_complaints"}), on="issue", how="outer")
    merged["cfpb_complaints"] = merged["cfpb_complaints"].fillna(0).astype("int64")
    merged["firm_complaints"] = merged["firm_complaints"].fillna(0).astype("int64")
    n_firm, n_cfpb = int(merged["firm_complaints"].sum()), int(merged["cfpb_complaints"].sum())
    out = []
    for r in merged.to_dict("records"):
        cmp = stats.compare_proportions(r["cfpb_complaints"], n_cfpb, r["firm_complaints"], n_firm)
        out.append({**r,
                    "firm_share_pct": stats.rate_estimate(r["firm_complaints"], n_firm).value,
                    "cfpb_share_pct": stats.rate_estimate(r["cfpb_complaints"], n_cfpb).value,
                    "difference_pp": cmp.diff, "significant": cmp.significant})
    df = pd.DataFrame(out, columns=["issue", "firm_complaints", "firm_share_pct", "cfpb_complaints",
                                    "cfpb_share_pct", "difference_pp", "significant"])
    return df.sort_values(["cfpb_complaints", "firm_complaints"], ascending=False).reset_index(drop=True)


def firm_timeliness(con, filters=None, tz: str = "UTC") -> dict:
    """The firm's complaints received in the range: share resolved within 15 days (of those whose
    15-day outcome is known) and share upheld or partly upheld (of those with an outcome)."""
    from analysis import complaints, stats
    from analysis.filters import ALL

    f = filters or ALL
    point = complaints.as_of(con, f, tz)
    p = f.params(tz, as_of=point)
    r = query_df(con, "complaint_timeliness_counts", p).iloc[0]
    return {
        "received": int(r["received"]),
        "within_15_days": stats.rate_estimate(r["resolved_within_15_days"], r["known_15_days"]),
        "with_relief": stats.rate_estimate(r["with_relief"], r["with_outcome"]),
    }


def _sample(path: str) -> str:
    if not Path(path).exists():
        raise UserError(f"CFPB sample {path} not found: it ships in data/cfpb/ (restore it from git)")
    return str(path)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m analysis import-cfpb FILE.csv --db FILE")
