"""Customer experience: NPS and CSAT (SPEC section 3) with intervals, verbatims and comment themes.

The query files return counts; this module divides, adds confidence intervals and the small-sample
flag (`analysis.stats`), ranks only segments with enough responses and tests month-over-month
changes. Every function takes the open connection first and plain hashable arguments after it, so
the dashboard can cache it through `dashboard.data.load`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from analysis import stats
from analysis.db import ROOT, bind, create_table, install_layer, query_df, sql_text
from analysis.pipeline import has_run
from analysis.errors import UserError
from analysis.filters import ALL, Filters

DIMENSIONS = {
    "team": "Team",
    "agent": "Agent",
    "survey_channel": "Survey channel",
    "strategy": "Strategy",
    "portfolio": "Portfolio",
}
BANDS = ("promoter", "passive", "detractor", "no_nps")
THEMES_FILE = ROOT / "config" / "comment_themes.yaml"

# figures added to the counts (nps_responses and csat_responses are among the counts)
NPS_COLUMNS = ["nps", "nps_low", "nps_high", "nps_small"]
CSAT_COLUMNS = ["csat_pct", "csat_low", "csat_high", "csat_small"]


def counts(con, filters: Filters = ALL, dimension: str = "all", tz: str = "UTC") -> pd.DataFrame:
    """Raw counts, one row per segment x month (see queries/nps_csat_counts.sql)."""
    if dimension != "all" and dimension not in DIMENSIONS:
        raise UserError(f"unknown dimension {dimension!r}: use one of all, {', '.join(DIMENSIONS)}")
    df = query_df(con, "nps_csat_counts", filters.params(tz, dimension=dimension))
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df


def _figures(row) -> dict:
    nps = stats.nps_estimate(row["promoters"], row["passives"], row["detractors"])
    csat = stats.rate_estimate(row["csat_satisfied"], row["csat_responses"])
    return {
        "nps": nps.value, "nps_low": nps.low, "nps_high": nps.high,
        "nps_responses": nps.n, "nps_small": nps.small,
        "csat_pct": csat.value, "csat_low": csat.low, "csat_high": csat.high,
        "csat_responses": csat.n, "csat_small": csat.small,
    }


def _month_spine(months, filters: Filters) -> list:
    """Every calendar month from the first to the last month with data (within the filter range)."""
    if len(months) == 0:
        return []
    first, last = min(months), max(months)
    if filters.start:
        first = max(first, filters.start.replace(day=1))
    if filters.end:
        last = min(last, filters.end.replace(day=1))
    return [p.to_timestamp().date() for p in pd.period_range(first, last, freq="M")]


COUNT_COLUMNS = ["promoters", "passives", "detractors", "nps_responses", "csat_satisfied", "csat_responses"]


def monthly(con, filters: Filters = ALL, tz: str = "UTC") -> pd.DataFrame:
    """One row per month (reporting zone `tz`): NPS and CSAT with intervals, counts, small flags, and
    the change from the previous calendar month with its significance. A month without responses is
    listed with empty figures (None), never 0."""
    raw = counts(con, filters, "all", tz)
    spine = pd.DataFrame({"month": pd.Series(_month_spine(list(raw["month"]), filters), dtype=object)})
    df = spine.merge(raw.drop(columns="segment"), on="month", how="left")
    for c in COUNT_COLUMNS:
        df[c] = df[c].fillna(0).astype("int64")
    return _with_changes(df)


def _with_changes(df: pd.DataFrame) -> pd.DataFrame:
    """Figures per row plus change vs the row before (consecutive calendar months, same segment)."""
    out = []
    prev = None
    for _, row in df.iterrows():
        rec = {"month": row["month"], **{c: int(row[c]) for c in COUNT_COLUMNS}, **_figures(row)}
        consecutive = prev is not None and (pd.Period(prev["month"], "M") + 1) == pd.Period(row["month"], "M")
        if consecutive:
            n = stats.compare_nps((prev["promoters"], prev["passives"], prev["detractors"]),
                                  (row["promoters"], row["passives"], row["detractors"]))
            c = stats.compare_proportions(prev["csat_satisfied"], prev["csat_responses"],
                                          row["csat_satisfied"], row["csat_responses"])
        else:
            n = c = stats.Comparison(None, None, None, None, None, False)
        rec.update({
            "nps_change": n.diff, "nps_change_p": n.p_value, "nps_change_significant": n.significant,
            "csat_change": c.diff, "csat_change_p": c.p_value, "csat_change_significant": c.significant,
        })
        out.append(rec)
        prev = row
    cols = ["month", *COUNT_COLUMNS, *NPS_COLUMNS, *CSAT_COLUMNS, "nps_change", "nps_change_p",
            "nps_change_significant", "csat_change", "csat_change_p", "csat_change_significant"]
    return pd.DataFrame(out, columns=cols)


def segment_monthly(con, filters: Filters = ALL, dimension: str = "team", segment: str = "", tz: str = "UTC") -> pd.DataFrame:
    """`monthly` for one segment of `dimension` (e.g. one team): same columns, months without
    responses of that segment listed with empty figures, changes tested within the segment."""
    if dimension not in DIMENSIONS:
        raise UserError(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    raw = counts(con, filters, dimension, tz)
    spine = pd.DataFrame({"month": pd.Series(_month_spine(list(raw["month"]), filters), dtype=object)})
    mine = raw[raw["segment"] == segment].drop(columns="segment")
    df = spine.merge(mine, on="month", how="left")
    for c in COUNT_COLUMNS:
        df[c] = df[c].fillna(0).astype("int64")
    return _with_changes(df)


def by_segment(con, filters: Filters = ALL, dimension: str = "team", tz: str = "UTC") -> pd.DataFrame:
    """One row per segment of `dimension` over the whole filter range: NPS and CSAT with intervals
    and counts. Ranks (1 = best) are given only to segments that are not small samples; small ones
    keep their figures but have no rank and sort last."""
    if dimension not in DIMENSIONS:
        raise UserError(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    raw = counts(con, filters, dimension, tz)
    totals = raw.groupby("segment", as_index=False)[COUNT_COLUMNS].sum()
    rows = [{"segment": r["segment"], **{c: int(r[c]) for c in COUNT_COLUMNS}, **_figures(r)} for _, r in totals.iterrows()]
    df = pd.DataFrame(rows, columns=["segment", *COUNT_COLUMNS, *NPS_COLUMNS, *CSAT_COLUMNS])
    for metric, flag in (("nps", "nps_small"), ("csat_pct", "csat_small")):
        rankable = df[metric].notna() & ~df[flag].astype(bool)
        df[f"{metric}_rank"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
        df.loc[rankable, f"{metric}_rank"] = df.loc[rankable, metric].rank(ascending=False, method="min").astype("Int64")
    df["_small"] = df["nps_small"].astype(bool)
    df = df.sort_values(["_small", "nps", "segment"], ascending=[True, False, True], na_position="last")
    return df.drop(columns="_small").reset_index(drop=True)


# --- verbatims and themes ----------------------------------------------------------------------

def sentiment_available(con) -> bool:
    """True once the conversations helper's pipeline step has written comment_sentiment."""
    return has_run(con, "conversations")


def verbatims(con, filters: Filters = ALL, band: str = "", tz: str = "UTC", limit: int = 500) -> pd.DataFrame:
    """Survey comments, newest first, with sentiment_score/sentiment_label when comment_sentiment exists
    (the columns are absent otherwise). `band`: '' for all, or promoter / passive / detractor / no_nps."""
    if band and band not in BANDS:
        raise UserError(f"unknown band {band!r}: use one of {', '.join(BANDS)} or leave it empty")
    stem = "verbatims_with_sentiment" if sentiment_available(con) else "verbatims"
    return query_df(con, stem, filters.params(tz, band=band, limit=int(limit)))


def load_themes(path: Path | str = THEMES_FILE) -> dict[str, str]:
    """Theme name -> regular expression, from the YAML config."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read comment themes from {path}: {str(exc).splitlines()[0]}") from None
    themes = data.get("themes") if isinstance(data, dict) else None
    if not isinstance(themes, dict) or not themes or not all(isinstance(v, str) and v for v in themes.values()):
        raise UserError(f"{path}: expected a 'themes' mapping of theme name to regular expression")
    return {str(k): v for k, v in themes.items()}


def theme_drivers(con, filters: Filters = ALL, tz: str = "UTC", themes: tuple | None = None) -> pd.DataFrame:
    """Which themes detractors mention most: one row per theme with the share of detractor comments
    and of promoter comments that mention it, and lift = detractor share / promoter share
    (None when no promoter comment mentions it). Sorted by detractor share.
    `themes`: ((name, pattern), ...) to override the config file."""
    pairs = tuple(themes) if themes is not None else tuple(load_themes().items())
    out = []
    for (name, _), sub in zip(pairs, theme_mentions(con, filters, tz, [pattern for _, pattern in pairs])):
        sub = sub.set_index("band")

        def get(band, col, sub=sub):
            return int(sub.loc[band, col]) if band in sub.index else 0

        dm, dc = get("detractor", "mentions"), get("detractor", "comments")
        pm, pc = get("promoter", "mentions"), get("promoter", "comments")
        d_share, p_share = stats.proportion(dm, dc), stats.proportion(pm, pc)
        out.append({
            "theme": name,
            "detractor_mentions": dm, "detractor_comments": dc,
            "detractor_share_pct": None if d_share is None else 100 * d_share,
            "promoter_mentions": pm, "promoter_comments": pc,
            "promoter_share_pct": None if p_share is None else 100 * p_share,
            "lift": d_share / p_share if d_share is not None and p_share else None,
        })
    df = pd.DataFrame(out, columns=["theme", "detractor_mentions", "detractor_comments", "detractor_share_pct",
                                    "promoter_mentions", "promoter_comments", "promoter_share_pct", "lift"])
    return df.sort_values(["detractor_mentions", "theme"], ascending=[False, True]).reset_index(drop=True)


def theme_mentions(con, filters: Filters, tz: str, patterns: list[str]) -> list[pd.DataFrame]:
    """Per pattern, queries/nps_theme_mentions.sql's rows (band, mentions, comments): the comments in the
    filters found once (nps_theme_comments.sql, a temporary table on one cursor), then searched once per
    pattern. At 1M accounts the view's nine themes each paid the filters and joins again (0.13 s a theme)."""
    cur = con.cursor()
    try:
        create_table(cur, "theme_comments", "nps_theme_comments", filters.params(tz), temp=True)
        sql = sql_text("nps_theme_mentions")
        install_layer(cur, sql)
        return [cur.execute(sql, bind(sql, {"pattern": pattern})).df() for pattern in patterns]
    finally:
        cur.close()


# --- display frames (formatting only; the page renders them as they are) ------------------------

def fmt_interval(low, high, digits: int = 0) -> str:
    """'12 to 30', or '' when there is no interval."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return f"{low:.{digits}f} to {high:.{digits}f}"


def _num(value):
    return None if value is None or pd.isna(value) else float(value)


def segment_table(df: pd.DataFrame, label: str = "Segment") -> pd.DataFrame:
    """`by_segment` output as the page shows it: figure, 95% interval, n, rank or 'small sample'."""
    return pd.DataFrame({
        label: df["segment"],
        "NPS": [_num(v) for v in df["nps"]],
        "NPS 95% CI": [fmt_interval(lo, hi) for lo, hi in zip(df["nps_low"], df["nps_high"])],
        "NPS responses": df["nps_responses"],
        "NPS rank": [("small sample" if small else "") if pd.isna(r) else str(int(r))
                     for r, small in zip(df["nps_rank"], df["nps_small"])],
        "CSAT %": [_num(v) for v in df["csat_pct"]],
        "CSAT 95% CI": [fmt_interval(lo, hi) for lo, hi in zip(df["csat_low"], df["csat_high"])],
        "CSAT responses": df["csat_responses"],
        "CSAT rank": [("small sample" if small else "") if pd.isna(r) else str(int(r))
                      for r, small in zip(df["csat_pct_rank"], df["csat_small"])],
    })


def _change(value, significant, p) -> str:
    if value is None or pd.isna(value):
        return ""
    mark = "significant" if significant else "not significant"
    return f"{value:+.1f} ({mark}, p={p:.2f})" if p is not None and not pd.isna(p) else f"{value:+.1f}"


def month_table(df: pd.DataFrame) -> pd.DataFrame:
    """`monthly` output as the page shows it, newest month first."""
    out = pd.DataFrame({
        "Month": [m.strftime("%Y-%m") for m in df["month"]],
        "NPS": [_num(v) for v in df["nps"]],
        "NPS 95% CI": [fmt_interval(lo, hi) for lo, hi in zip(df["nps_low"], df["nps_high"])],
        "NPS responses": df["nps_responses"],
        "NPS change": [_change(v, s, p) for v, s, p in zip(df["nps_change"], df["nps_change_significant"], df["nps_change_p"])],
        "CSAT %": [_num(v) for v in df["csat_pct"]],
        "CSAT 95% CI": [fmt_interval(lo, hi) for lo, hi in zip(df["csat_low"], df["csat_high"])],
        "CSAT responses": df["csat_responses"],
        "CSAT change (pp)": [_change(v, s, p) for v, s, p in zip(df["csat_change"], df["csat_change_significant"], df["csat_change_p"])],
        "Small sample": ["yes" if a or b else "" for a, b in zip(df["nps_small"], df["csat_small"])],
    })
    return out.iloc[::-1].reset_index(drop=True)


def headline(df: pd.DataFrame) -> list[dict]:
    """The latest month's NPS and CSAT for st.metric: label, value, delta (None unless significant), help."""
    if df.empty:
        return []
    last = df.iloc[-1]
    month = last["month"].strftime("%Y-%m")
    figs = []
    for name, value, low, high, n, small, change, sig, unit in (
        ("NPS", last["nps"], last["nps_low"], last["nps_high"], last["nps_responses"], last["nps_small"],
         last["nps_change"], last["nps_change_significant"], ""),
        ("CSAT", last["csat_pct"], last["csat_low"], last["csat_high"], last["csat_responses"], last["csat_small"],
         last["csat_change"], last["csat_change_significant"], "%"),
    ):
        shown = "–" if value is None or pd.isna(value) else f"{value:.1f}{unit}"
        note = f"{month}: 95% CI {fmt_interval(low, high, 1) or 'n/a'}, {int(n)} responses"
        if small:
            note += " (small sample)"
        if change is None or pd.isna(change):
            delta, note2 = None, "no previous month to compare"
        elif sig:
            delta, note2 = f"{change:+.1f} vs previous month", "the change is significant at 95%"
        else:
            delta, note2 = None, f"change {change:+.1f} vs previous month is not significant"
        figs.append({"label": f"{name} ({month})", "value": shown, "delta": delta, "caption": f"{note}; {note2}"})
    return figs
