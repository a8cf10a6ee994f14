"""The balance between recovery and customer experience, per team, agent or strategy.

Recovery: collected / placed balance (%) and collected per outbound contact made. Experience: NPS,
complaints per 1,000 accounts, breach rate (% of outbound contacts presumed to breach a contact rule,
from the stored `breaches` table) and the share of scored conversations whose sentiment is negative
(table `conversation_sentiment`, optional). Every figure comes with a 95% interval:

- recovery % and collected per contact: ratio estimators over accounts, delta-method standard error
  SE(R) = sqrt(n / (n - 1) * sum (y_i - R x_i)^2) / sum x_i (Cochran, Sampling Techniques, 6.2);
- NPS and the shares: `analysis.stats` (adjusted Wald for NPS, Wilson for proportions);
- complaints per 1,000 accounts: exact Poisson interval of the count (Garwood 1936).

Comparisons use two-sided z-tests (`analysis.stats` for NPS and shares, the two standard errors for
the ratios, a pooled Poisson rate for complaints); a difference is significant at 5% only when both
groups have at least `stats.MIN_N` accounts (or responses, or conversations).
"""
from __future__ import annotations

import math
from statistics import NormalDist

import pandas as pd
from scipy.special import gammaincinv

from analysis import aggregates, stats
from analysis.db import query_df, ratio, rows
from analysis.pipeline import has_run
from analysis.errors import UserError
from analysis.filters import Filters

GROUPINGS = ("team", "agent", "strategy")

# figure key -> (label, better: "higher" | "lower", unit text for verdicts)
FIGURES = {
    "recovery_pct": ("Recovery % of placed balance", "higher"),
    "collected_per_contact": ("Collected per contact made", "higher"),
    "nps": ("NPS", "higher"),
    "complaints_per_1000": ("Complaints per 1,000 accounts", "lower"),
    "breach_rate_pct": ("Contacts presumed in breach %", "lower"),
    "negative_share_pct": ("Negative conversations %", "lower"),
}
RECOVERY = ("recovery_pct", "collected_per_contact")
EXPERIENCE = ("nps", "complaints_per_1000", "breach_rate_pct", "negative_share_pct")


def has_sentiment(con) -> bool:
    return has_run(con, "conversations")


# --- estimators -------------------------------------------------------------------------------

def ratio_estimate(sum_y, sum_x, n, sum_y2, sum_x2, sum_xy, scale: float = 1.0) -> tuple:
    """R = sum y / sum x over n units with the delta-method interval: (value, low, high, se), scaled.
    (None, None, None, None) when sum x is 0; no interval with fewer than 2 units."""
    n, sum_x, sum_y = int(n or 0), float(sum_x or 0), float(sum_y or 0)
    if sum_x == 0:
        return None, None, None, None
    r = sum_y / sum_x
    if n < 2:
        return scale * r, None, None, None
    rss = max(float(sum_y2) - 2 * r * float(sum_xy) + r * r * float(sum_x2), 0.0)
    se = math.sqrt(n / (n - 1) * rss) / sum_x
    z = stats.z_value()
    return scale * r, scale * (r - z * se), scale * (r + z * se), scale * se


def poisson_rate(k, n, scale: float = 1000.0) -> tuple:
    """k events over n units, per `scale` units, with the exact (Garwood) 95% interval; None when n is 0."""
    k, n = int(k or 0), int(n or 0)
    if n == 0:
        return None, None, None
    alpha = 1 - stats.CONFIDENCE
    # Half the chi-square quantiles with 2k and 2k + 2 degrees of freedom, i.e. gamma quantiles:
    # chi2.ppf(p, 2m) / 2 == gammaincinv(m, p). scipy.special, not scipy.stats, whose import costs
    # ~1.5 s on the first Balance view of a server.
    low = 0.0 if k == 0 else gammaincinv(k, alpha / 2)
    high = gammaincinv(k + 1, 1 - alpha / 2)
    return scale * k / n, scale * low / n, scale * high / n


def _figures(r) -> dict:
    """Every figure with its interval from one row of sums."""
    rec = ratio_estimate(r["collected_amount"], r["placed_balance"], r["accounts"], r["collected_sq"], r["placed_sq"],
                         r["collected_x_placed"], 100.0)
    per = ratio_estimate(r["collected_amount"], r["contacts_made"], r["accounts"], r["collected_sq"], r["contacts_sq"],
                         r["collected_x_contacts"])
    nps = stats.nps_estimate(r["promoters"], r["passives"], r["detractors"])
    comp = poisson_rate(r["complaints"], r["accounts"])
    br = stats.rate_estimate(r["breach_contacts"], r["contacts_made"])
    neg = stats.rate_estimate(r["conversations_negative"], r["conversations_scored"])
    return {
        "recovery_pct": rec[0], "recovery_low": rec[1], "recovery_high": rec[2], "recovery_se": rec[3],
        "collected_per_contact": per[0], "per_contact_low": per[1], "per_contact_high": per[2], "per_contact_se": per[3],
        "nps": nps.value, "nps_low": nps.low, "nps_high": nps.high, "nps_responses": nps.n,
        "complaints_per_1000": comp[0], "complaints_low": comp[1], "complaints_high": comp[2],
        "breach_rate_pct": br.value, "breach_low": br.low, "breach_high": br.high,
        "negative_share_pct": neg.value, "negative_low": neg.low, "negative_high": neg.high,
        "small_sample": stats.is_small(r["accounts"]),
    }


def _stem(con, name: str, by: str) -> str:
    """The query file: `name`_months (whole months from the aggregate balance_months, the part months at the
    range's ends from the events) per team or strategy when the aggregates are ready; per agent (an account's
    agent is the one with most of its outbound contacts in the range, not a sum of months) `name`_agg; the
    query over the contract's tables otherwise (analysis.aggregates.stem)."""
    if by != "agent" and aggregates.ready(con):
        return f"{name}_months"
    return aggregates.stem(con, name)


SUM_COLUMNS = ("accounts", "placed_balance", "collected_amount", "contacts_made", "breach_contacts", "complaints",
               "placed_sq", "collected_sq", "collected_x_placed", "contacts_sq", "collected_x_contacts", "promoters",
               "passives", "detractors", "conversations_scored", "conversations_negative")


def groups(con, filters: Filters, by: str = "team") -> pd.DataFrame:
    """One row per group (`by`: team, agent or strategy) with the sums and every figure and interval.
    The last row, group "All", is the whole selection (the quadrant chart's cross-hairs)."""
    if by not in GROUPINGS:
        raise UserError(f"unknown grouping {by!r}: use one of {', '.join(GROUPINGS)}")
    df = query_df(con, _stem(con, "balance_groups", by), filters.params(by=by))
    for c in SUM_COLUMNS:
        df[c] = df[c].astype("float64")
    total = {"group_name": "All", **{c: df[c].sum() for c in SUM_COLUMNS}}
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    figs = pd.DataFrame([_figures(r) for _, r in df.iterrows()])
    return pd.concat([df.reset_index(drop=True), figs], axis=1)


def split_overall(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The groups' rows and the whole selection's figures (row "All") of a `groups` frame."""
    return df[df["group_name"] != "All"], df[df["group_name"] == "All"].iloc[0].to_dict()


def table(df: pd.DataFrame) -> pd.DataFrame:
    """The figures and intervals for the sortable table, with readable names."""
    cols = {"group_name": "Group", "accounts": "Accounts", "placed_balance": "Placed balance",
            "collected_amount": "Collected", "contacts_made": "Contacts made",
            "recovery_pct": "Recovery %", "recovery_low": "Recovery low", "recovery_high": "Recovery high",
            "collected_per_contact": "Per contact", "per_contact_low": "Per contact low", "per_contact_high": "Per contact high",
            "nps": "NPS", "nps_low": "NPS low", "nps_high": "NPS high", "nps_responses": "NPS responses",
            "complaints": "Complaints", "complaints_per_1000": "Complaints /1,000", "complaints_low": "Complaints low",
            "complaints_high": "Complaints high", "breach_rate_pct": "Breach %", "breach_low": "Breach low",
            "breach_high": "Breach high", "negative_share_pct": "Negative %", "negative_low": "Negative low",
            "negative_high": "Negative high", "conversations_scored": "Conversations scored",
            "small_sample": "Small sample"}
    return df[list(cols)].rename(columns=cols)


# --- champion vs challenger -------------------------------------------------------------------------

def strategies(con) -> list[str]:
    """Strategies by number of accounts, champion and challenger first when the data names them so."""
    found = [r[0] for r in rows(
        con, "select strategy from accounts where strategy is not null group by strategy order by count(*) desc, strategy")]
    preferred = [s for s in ("champion", "challenger") if s in found]
    return preferred + [s for s in found if s not in preferred]


def _z(diff: float, se: float) -> tuple:
    if se is None or se <= 0:
        return (0.0, 1.0) if diff == 0 else (None, None)
    z = diff / se
    return z, 2 * (1 - NormalDist().cdf(abs(z)))


def _compare_ratio(a: dict, b: dict, key: str, se_key: str) -> stats.Comparison:
    if a[key] is None or b[key] is None or a[se_key] is None or b[se_key] is None:
        return stats.Comparison(None, None, None, None, None, False)
    diff = b[key] - a[key]
    se = math.sqrt(a[se_key] ** 2 + b[se_key] ** 2)
    z, p = _z(diff, se)
    zc = stats.z_value()
    return stats.Comparison(diff, diff - zc * se, diff + zc * se, z, p, p is not None and p < stats.ALPHA)


def _compare_poisson(k1, n1, k2, n2, scale: float = 1000.0) -> stats.Comparison:
    k1, n1, k2, n2 = float(k1), float(n1), float(k2), float(n2)
    if n1 == 0 or n2 == 0:
        return stats.Comparison(None, None, None, None, None, False)
    diff = k2 / n2 - k1 / n1
    pooled = (k1 + k2) / (n1 + n2)
    z, p = _z(diff, math.sqrt(pooled * (1 / n1 + 1 / n2)))
    se = math.sqrt(k1 / n1 ** 2 + k2 / n2 ** 2)
    zc = stats.z_value()
    return stats.Comparison(scale * diff, scale * (diff - zc * se), scale * (diff + zc * se), z, p,
                            p is not None and p < stats.ALPHA)


PHRASES = {
    "recovery_pct": ("recovers {d:.1f} points more of its placed balance", "recovers {d:.1f} points less of its placed balance"),
    "collected_per_contact": ("collects {d:,.2f} more per contact made", "collects {d:,.2f} less per contact made"),
    "nps": ("has an NPS {d:.1f} points higher", "has an NPS {d:.1f} points lower"),
    "complaints_per_1000": ("draws {d:.1f} more complaints per 1,000 accounts", "draws {d:.1f} fewer complaints per 1,000 accounts"),
    "breach_rate_pct": ("has {d:.2f} points more of its contacts presumed in breach",
                        "has {d:.2f} points fewer of its contacts presumed in breach"),
    "negative_share_pct": ("has a share of negative conversations {d:.1f} points higher",
                           "has a share of negative conversations {d:.1f} points lower"),
}


def compare(con, filters: Filters, champion: str, challenger: str) -> pd.DataFrame:
    """Champion and challenger side by side on every figure: values with intervals, the difference
    (challenger - champion) with its interval and p-value, and a plain-language verdict only where the
    difference is significant at 5% (and neither sample is small)."""
    df = groups(con, filters, "strategy").set_index("group_name")
    for s in (champion, challenger):
        if s not in df.index:
            raise UserError(f"strategy {s!r} has no accounts in this selection: choose another")
    a, b = df.loc[champion].to_dict(), df.loc[challenger].to_dict()
    tests = {
        "recovery_pct": _compare_ratio(a, b, "recovery_pct", "recovery_se"),
        "collected_per_contact": _compare_ratio(a, b, "collected_per_contact", "per_contact_se"),
        "nps": stats.compare_nps((a["promoters"], a["passives"], a["detractors"]), (b["promoters"], b["passives"], b["detractors"])),
        "complaints_per_1000": _compare_poisson(a["complaints"], a["accounts"], b["complaints"], b["accounts"]),
        "breach_rate_pct": stats.compare_proportions(a["breach_contacts"], a["contacts_made"], b["breach_contacts"], b["contacts_made"]),
        "negative_share_pct": stats.compare_proportions(a["conversations_negative"], a["conversations_scored"],
                                                        b["conversations_negative"], b["conversations_scored"]),
    }
    bounds = {"recovery_pct": ("recovery_low", "recovery_high"), "collected_per_contact": ("per_contact_low", "per_contact_high"),
              "nps": ("nps_low", "nps_high"), "complaints_per_1000": ("complaints_low", "complaints_high"),
              "breach_rate_pct": ("breach_low", "breach_high"), "negative_share_pct": ("negative_low", "negative_high")}
    sizes = {"nps": ("nps_responses",), "negative_share_pct": ("conversations_scored",)}
    out = []
    for key, (label, better) in FIGURES.items():
        t = tests[key]
        lo, hi = bounds[key]
        size_cols = sizes.get(key, ("accounts",))
        small = any(stats.is_small(x[c]) for x in (a, b) for c in size_cols)
        significant = bool(t.significant) and not small
        verdict = ""
        if significant and t.diff is not None and t.diff != 0:
            phrase = PHRASES[key][0 if t.diff > 0 else 1].format(d=abs(t.diff))
            good = (t.diff > 0) == (better == "higher")
            verdict = (f"{challenger.capitalize()} {phrase} than {champion} (95% interval of the difference "
                       f"{t.low:,.2f} to {t.high:,.2f}): {'better' if good else 'worse'} for {challenger}.")
        out.append({"figure": label, "key": key, "champion": a[key], "champion_low": a[lo], "champion_high": a[hi],
                    "challenger": b[key], "challenger_low": b[lo], "challenger_high": b[hi],
                    "difference": t.diff, "difference_low": t.low, "difference_high": t.high, "p_value": t.p_value,
                    "significant": significant, "verdict": verdict})
    return pd.DataFrame(out)


def comparison_table(cmp: pd.DataFrame) -> pd.DataFrame:
    """The comparison without the internal key and verdict columns, for the page's table."""
    return cmp.drop(columns=["key", "verdict"])


# --- over time -------------------------------------------------------------------------------------

def monthly(con, filters: Filters, by: str = "strategy") -> pd.DataFrame:
    """Month by month per team or strategy: recovery % (collected in the month / placed balance of the
    book at its end), NPS, complaints per 1,000 accounts in book, breach % and negative share."""
    if by not in ("team", "strategy"):
        raise UserError(f"unknown grouping {by!r} over time: use team or strategy")
    df = query_df(con, _stem(con, "balance_monthly", by), filters.params(by=by))
    df["month"] = pd.to_datetime(df["month_start"]).dt.strftime("%Y-%m")

    def div(num, den, scale):
        return [ratio(n, d, scale) for n, d in zip(df[num], df[den])]

    df["recovery_pct"] = div("collected_amount", "placed_balance_in_book", 100.0)
    df["complaints_per_1000"] = div("complaints", "accounts_in_book", 1000.0)
    df["breach_rate_pct"] = div("breach_contacts", "contacts_made", 100.0)
    df["negative_share_pct"] = div("conversations_negative", "conversations_scored", 100.0)
    df["nps"] = [stats.nps_value(p, q, d) for p, q, d in zip(df["promoters"], df["passives"], df["detractors"])]
    for c in ("recovery_pct", "complaints_per_1000", "breach_rate_pct", "negative_share_pct", "nps"):
        df[c] = df[c].astype("float64")
    return df


MONTHLY_COLUMNS = ["month", "grp", "recovery_pct", "nps", "complaints_per_1000", "breach_rate_pct", "negative_share_pct",
                   "contacts_made", "accounts_in_book"]


def monthly_table(df: pd.DataFrame) -> pd.DataFrame:
    return df[MONTHLY_COLUMNS]
