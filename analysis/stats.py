"""Confidence intervals and two-sample tests for the dashboard's rates and scores.

Everything here takes counts (numerators and denominators, as the query files return them) and
gives back plain floats or `None`. A zero denominator gives `None` for the figure and its interval,
never 0 (SPEC section 3). Nothing reads the clock or global random state; the bootstrap takes a seed.

Units: the low-level functions (`wilson_interval`, `nps_variance`) work in proportions (0..1) and in
NPS units (-1..1). The `*_estimate` helpers return what the dashboard shows: percentages (0..100)
and NPS points (-100..100), with the interval, the count and the small-sample flag.

Methods (see DECISIONS.md, "Customer experience and complaints"):
- proportions (CSAT %, any rate): Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001).
- NPS: each response scores +1 (promoter, 9-10), 0 (passive, 7-8), -1 (detractor, 0-6); NPS is
  100 x their mean. The variance of one response's score is p_P + p_D - (p_P - p_D)^2. The default
  interval is the adjusted Wald of Rocks (2016, The American Statistician 70(4)): add 3/4 of a
  promoter, 3/4 of a detractor and 3 to n, then apply the normal interval with that variance;
  "wald" (no adjustment) and a seeded bootstrap are available too.
- differences: a two-sided z-test whose standard error comes from the two samples pooled (the null
  says they share one distribution), and a confidence interval for the difference from the unpooled
  variances (NPS) or Newcombe's hybrid score interval (proportions).
- small samples: n < MIN_N (30) is flagged "small sample" and left out of rankings; a difference
  involving a small sample is never marked significant.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

MIN_N = 30  # below this a figure is shown but flagged and not ranked
CONFIDENCE = 0.95
ALPHA = 0.05
NPS_METHODS = ("adjusted_wald", "wald")


@dataclass(frozen=True)
class Estimate:
    """A figure as the dashboard shows it: value with its interval, the count behind it, the flag."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    small: bool

    def as_dict(self, prefix: str = "") -> dict:
        return {f"{prefix}value" if prefix else "value": self.value,
                f"{prefix}low": self.low, f"{prefix}high": self.high,
                f"{prefix}n": self.n, f"{prefix}small": self.small}


@dataclass(frozen=True)
class Comparison:
    """Difference b - a between two samples (e.g. this month minus last month)."""

    diff: float | None  # in the figure's units (NPS points or percentage points)
    low: float | None
    high: float | None
    z: float | None
    p_value: float | None
    significant: bool  # p < alpha and neither sample is small


def z_value(confidence: float = CONFIDENCE) -> float:
    """The two-sided normal quantile: 1.959964 for 95%."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def is_small(n: int | None, min_n: int = MIN_N) -> bool:
    """The small-sample rule: fewer than `min_n` responses (an empty sample is small too)."""
    return (n or 0) < min_n


def _count(x) -> int:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return 0
    x = int(x)
    if x < 0:
        raise ValueError("counts must be >= 0")
    return x


# --- proportions -------------------------------------------------------------------------------

def proportion(k, n) -> float | None:
    """k / n, or None when n is 0."""
    k, n = _count(k), _count(n)
    return k / n if n else None


def wilson_interval(k, n, confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Wilson score interval for k successes out of n, as proportions; (None, None) when n is 0."""
    k, n = _count(k), _count(n)
    if n == 0:
        return None, None
    if k > n:
        raise ValueError(f"successes ({k}) exceed trials ({n})")
    z = z_value(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact bounds at the edges: float rounding must not put 0/n above 0 or n/n below 1
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def rate_estimate(k, n, confidence: float = CONFIDENCE, min_n: int = MIN_N, scale: float = 100.0) -> Estimate:
    """A rate in percent (scale=100) with its Wilson interval, count and small-sample flag."""
    n_ = _count(n)
    p = proportion(k, n_)
    low, high = wilson_interval(k, n_, confidence)
    return Estimate(
        value=None if p is None else p * scale,
        low=None if low is None else low * scale,
        high=None if high is None else high * scale,
        n=n_,
        small=is_small(n_, min_n),
    )


def compare_proportions(k1, n1, k2, n2, confidence: float = CONFIDENCE, alpha: float = ALPHA,
                        min_n: int = MIN_N, scale: float = 100.0) -> Comparison:
    """Sample 2 minus sample 1: pooled two-proportion z-test, Newcombe (1998, method 10) interval."""
    k1, n1, k2, n2 = _count(k1), _count(n1), _count(k2), _count(n2)
    if n1 == 0 or n2 == 0:
        return Comparison(None, None, None, None, None, False)
    p1, p2 = k1 / n1, k2 / n2
    diff = p2 - p1
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    low = diff - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = diff + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    pooled = (k1 + k2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z, pv = _z_test(diff, se0)
    significant = pv is not None and pv < alpha and not is_small(n1, min_n) and not is_small(n2, min_n)
    return Comparison(diff * scale, low * scale, high * scale, z, pv, significant)


# --- NPS ---------------------------------------------------------------------------------------

def nps_value(promoters, passives, detractors) -> float | None:
    """SPEC section 3: 100 x (promoters - detractors) / responses with an nps; None without responses."""
    p, a, d = _count(promoters), _count(passives), _count(detractors)
    n = p + a + d
    return 100.0 * (p - d) / n if n else None


def nps_variance(promoters, passives, detractors) -> float | None:
    """Variance of one response's score (+1/0/-1): p_P + p_D - (p_P - p_D)^2, in NPS units squared.

    The variance of the NPS itself (in -1..1 units) is this divided by n.
    """
    p, a, d = _count(promoters), _count(passives), _count(detractors)
    n = p + a + d
    if n == 0:
        return None
    pp, pd = p / n, d / n
    return pp + pd - (pp - pd) ** 2


def nps_interval(promoters, passives, detractors, confidence: float = CONFIDENCE,
                 method: str = "adjusted_wald") -> tuple[float | None, float | None]:
    """Confidence interval for the NPS in points (-100..100); (None, None) without responses."""
    if method not in NPS_METHODS:
        raise ValueError(f"unknown NPS interval method {method!r}; use one of {NPS_METHODS}")
    p, a, d = _count(promoters), _count(passives), _count(detractors)
    n = p + a + d
    if n == 0:
        return None, None
    z = z_value(confidence)
    if method == "adjusted_wald":
        na = n + 3.0
        pp, pd = (p + 0.75) / na, (d + 0.75) / na
    else:
        na = float(n)
        pp, pd = p / na, d / na
    centre = pp - pd
    se = math.sqrt(max(pp + pd - (pp - pd) ** 2, 0.0) / na)
    return 100.0 * max(-1.0, centre - z * se), 100.0 * min(1.0, centre + z * se)


def nps_bootstrap_interval(promoters, passives, detractors, confidence: float = CONFIDENCE,
                           reps: int = 2000, seed: int = 0) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval for the NPS in points; resamples the three-way split (seeded)."""
    import numpy as np

    p, a, d = _count(promoters), _count(passives), _count(detractors)
    n = p + a + d
    if n == 0:
        return None, None
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, [p / n, a / n, d / n], size=reps)
    scores = 100.0 * (draws[:, 0] - draws[:, 2]) / n
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(scores, [tail, 100 - tail])
    return float(low), float(high)


def nps_estimate(promoters, passives, detractors, confidence: float = CONFIDENCE, min_n: int = MIN_N,
                 method: str = "adjusted_wald") -> Estimate:
    """NPS in points with its interval, the number of responses with an nps and the small flag."""
    n = _count(promoters) + _count(passives) + _count(detractors)
    low, high = nps_interval(promoters, passives, detractors, confidence, method)
    return Estimate(nps_value(promoters, passives, detractors), low, high, n, is_small(n, min_n))


def compare_nps(a: tuple, b: tuple, confidence: float = CONFIDENCE, alpha: float = ALPHA,
                min_n: int = MIN_N) -> Comparison:
    """NPS of b minus NPS of a, each given as (promoters, passives, detractors).

    z-test with the standard error of the pooled sample (under the null both share one
    distribution, so two samples of one response each cannot look "infinitely" different);
    the interval for the difference uses each sample's own variance.
    """
    pa, aa, da = (_count(x) for x in a)
    pb, ab, db = (_count(x) for x in b)
    na, nb = pa + aa + da, pb + ab + db
    if na == 0 or nb == 0:
        return Comparison(None, None, None, None, None, False)
    diff = (pb - db) / nb - (pa - da) / na
    se1 = math.sqrt(nps_variance(pa, aa, da) / na + nps_variance(pb, ab, db) / nb)
    z_crit = z_value(confidence)
    low, high = diff - z_crit * se1, diff + z_crit * se1
    pooled_var = nps_variance(pa + pb, aa + ab, da + db)
    se0 = math.sqrt(pooled_var * (1 / na + 1 / nb))
    z, pv = _z_test(diff, se0)
    significant = pv is not None and pv < alpha and not is_small(na, min_n) and not is_small(nb, min_n)
    return Comparison(100.0 * diff, 100.0 * low, 100.0 * high, z, pv, significant)


def _z_test(diff: float, se: float) -> tuple[float | None, float | None]:
    """Two-sided z statistic and p-value; with no variance at all (every response alike in both
    samples) there is no difference to test: z 0, p 1."""
    if se == 0:
        return (0.0, 1.0) if diff == 0 else (None, None)
    z = diff / se
    return z, 2 * (1 - NormalDist().cdf(abs(z)))
