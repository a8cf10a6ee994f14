"""What every demo generator shares: the fixed calendar, the population's tables, the code lists,
vectorised random helpers, the text fragments and the loader that writes a frame into a table.

Nothing here draws from a generator by itself; each function takes the `rng` it draws from, so
the order of the draws is the order of the calls in the generators.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.demo import text as T

# ---------------------------------------------------------------------------------------------
# Fixed calendar: 14 months of activity ending on 2026-10-31 (UTC instants, epoch seconds/days).
DAY = 86_400
START_DAY = int(np.datetime64("2025-09-01", "D").astype(np.int64))
END_DAY = int(np.datetime64("2026-10-31", "D").astype(np.int64))
END_TS = (END_DAY + 1) * DAY  # exclusive: nothing happens at or after 2026-11-01T00:00:00Z
NEVER = np.iinfo(np.int64).max

ZONES = (
    "America/New_York", "America/Detroit", "America/Chicago", "America/Denver",
    "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
)
# state, zone index into ZONES, area codes, weight
STATES = (
    ("MA", 0, (617, 508, 781), 6.0), ("NY", 0, (212, 718, 516), 9.0), ("NJ", 0, (201, 973), 4.0),
    ("PA", 0, (215, 412), 5.0), ("FL", 0, (305, 407, 813), 9.0), ("GA", 0, (404, 770), 4.0),
    ("NC", 0, (704, 919), 4.0), ("OH", 0, (614, 216), 5.0), ("MI", 1, (313, 248), 4.0),
    ("IL", 2, (312, 773), 5.0), ("TX", 2, (214, 713, 512), 10.0), ("MN", 2, (612, 651), 2.0),
    ("CO", 3, (303, 720), 2.0), ("AZ", 4, (602, 480, 520), 4.0), ("CA", 5, (213, 415, 619), 12.0),
    ("WA", 5, (206, 425), 3.0), ("NV", 5, (702, 775), 2.0), ("AK", 6, (907,), 0.4), ("HI", 7, (808,), 0.6),
)
STATE_CODES = tuple(s[0] for s in STATES)
PORTFOLIOS = (  # name, product, weight
    ("Harbor Bank Cards 2024", "credit_card", 0.24), ("Harbor Bank Cards 2025", "credit_card", 0.18),
    ("Telco Q1 2025", "telecom", 0.18), ("Metro Utilities", "utility", 0.14),
    ("Auto Deficiency 2023", "auto_loan", 0.12), ("Medical Group West", "medical", 0.14),
)
PRODUCTS = ("credit_card", "telecom", "utility", "auto_loan", "medical")
TEAMS = (  # name, sites, share of accounts
    ("Early Collections", ("Boston MA", "Columbus OH"), 0.26),
    ("Late Collections", ("Columbus OH", "Tempe AZ"), 0.22),
    ("Digital First", ("Columbus OH", "Tempe AZ"), 0.18),
    ("Recoveries", ("Boston MA", "Tempe AZ"), 0.14),
    ("High Balance", ("Tempe AZ",), 0.10),
    ("Hardship Care", ("Boston MA",), 0.10),
)
HARDSHIP_TEAM, HIGH_BALANCE_TEAM = 5, 4
STRATEGIES = ("champion", "challenger")  # index 0 champion, 1 challenger in every per-strategy array
CHANNELS = ("call", "sms", "email", "letter", "chat")
CALL, SMS, EMAIL, LETTER, CHAT = range(5)
# Outcome codes: the call outcomes of the contract, then free-text outcomes of other channels.
OUTCOMES = ("no_answer", "voicemail", "busy", "not_connected", "conversation", "third_party", "dropped",
            "sent", "received", "bounced", "failed", "returned")
NO_ANSWER, VOICEMAIL, BUSY, NOT_CONNECTED, CONVERSATION, THIRD_PARTY, DROPPED, SENT, RECEIVED, BOUNCED, FAILED, RETURNED = range(12)
METHODS = ("card", "ach", "online", "check", "phone")
SURVEY_CHANNELS = ("sms", "email", "ivr")
COMPLAINT_SOURCES = ("consumer", "cfpb", "ombudsman", "regulator", "other")
COMPLAINT_OUTCOMES = ("upheld", "partially_upheld", "not_upheld", "withdrawn")
THEMES = tuple(T.SURVEY_THEMES)
(TH_TOO_MANY, TH_BAD_TIME, TH_RUDE, TH_HELPFUL, TH_PLAN, TH_BALANCE, TH_EASY) = range(len(THEMES))



# ---------------------------------------------------------------------------------------------
# Time helpers: local wall time (epoch seconds as if UTC) <-> UTC instants, per IANA zone.

def to_utc(local_s: np.ndarray, zone: np.ndarray) -> np.ndarray:
    out = np.empty(len(local_s), dtype=np.int64)
    for z, name in enumerate(ZONES):
        m = zone == z
        if not m.any():
            continue
        idx = pd.DatetimeIndex(local_s[m].astype("datetime64[s]"))
        loc = idx.tz_localize(name, ambiguous=np.zeros(int(m.sum()), dtype=bool), nonexistent="shift_forward")
        out[m] = loc.as_unit("s").asi8
    return out


def to_local(utc_s: np.ndarray, zone: np.ndarray) -> np.ndarray:
    out = np.empty(len(utc_s), dtype=np.int64)
    for z, name in enumerate(ZONES):
        m = zone == z
        if not m.any():
            continue
        idx = pd.DatetimeIndex(utc_s[m].astype("datetime64[s]")).tz_localize("UTC").tz_convert(name)
        out[m] = idx.tz_localize(None).as_unit("s").asi8
    return out


# ---------------------------------------------------------------------------------------------
# Random helpers (vectorised; each draws from the rng it is given).

def choice(rng, p: np.ndarray, n: int) -> np.ndarray:
    """n draws from a categorical distribution p (1-d) or per-row distributions p (n x k)."""
    u = rng.random(n)
    cum = np.cumsum(p, axis=-1)
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(p) - 1)
    cum = cum / cum[:, -1:]
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def at_least(rng, mask: np.ndarray, k: int) -> np.ndarray:
    """`mask` with random rows switched on until at least k are on (or all are), so that even a
    small demo has every segment the rules need."""
    k = min(k, len(mask))
    missing = k - int(mask.sum())
    if missing <= 0:
        return mask
    off = np.flatnonzero(~mask)
    mask = mask.copy()
    mask[rng.choice(off, missing, replace=False)] = True
    return mask


def group_positions(counts: np.ndarray) -> np.ndarray:
    """1-based position of each row within its group, for rows laid out by np.repeat(counts)."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum())) - starts + 1


def random_instant(rng, accounts, acct, lo_frac=0.0, hi_frac=1.0, hours=(9, 20)):
    """A UTC instant on a random local day of each account's active period, local hours in range."""
    span = accounts.active_end[acct] - accounts.active_start[acct]
    day = accounts.active_start[acct] + (span * rng.uniform(lo_frac, hi_frac, len(acct))).astype(np.int64)
    sec = rng.integers(hours[0] * 3600, hours[1] * 3600, len(acct))
    return to_utc(day * DAY + sec, accounts.zone[acct])


# ---------------------------------------------------------------------------------------------
# Text fragments: one table of (id, text); turns, comments and descriptions are built by index.

class Fragments:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.pools: dict[str, tuple[int, int]] = {}

    def add(self, name: str, items) -> None:
        self.pools[name] = (len(self.texts), len(items))
        self.texts.extend(items)

    def pick(self, name: str, u: np.ndarray) -> np.ndarray:
        off, size = self.pools[name]
        return off + np.minimum((u * size).astype(np.int64), size - 1)

    def pick_by(self, prefix: str, key: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Pick from pool `prefix{key}` per row (key: small int array)."""
        n = int(key.max()) + 1 if len(key) else 1
        offs = np.array([self.pools[f"{prefix}{k}"][0] for k in range(n)])
        sizes = np.array([self.pools[f"{prefix}{k}"][1] for k in range(n)])
        return offs[key] + np.minimum((u * sizes[key]).astype(np.int64), sizes[key] - 1)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"id": np.arange(len(self.texts), dtype=np.int64), "text": self.texts})


def fragments() -> Fragments:
    assert len(T.CHAT_GREETING_FORMS) == len(T.GREETING_FORMS)  # one greeting form index serves both
    f = Fragments()
    f.add("greet", [form.format(name=n) for n in T.AGENT_FIRST_NAMES for form in T.GREETING_FORMS])
    f.add("miranda", T.MIRANDA)
    f.add("greet_chat", [form.format(name=n) for n in T.AGENT_FIRST_NAMES for form in T.CHAT_GREETING_FORMS])
    f.add("purpose", T.PURPOSE)
    f.add("purpose_chat", T.CHAT_PURPOSE)
    for tone in range(3):
        f.add(f"cust_open{tone}", T.CUSTOMER_OPEN[tone])
        f.add(f"agent_lead{tone}", T.AGENT_LEAD[tone])
        f.add(f"agent_body{tone}", T.AGENT_BODY[tone])
        f.add(f"cust_lead{tone}", T.CUSTOMER_LEAD[tone])
        f.add(f"cust_body{tone}", T.CUSTOMER_BODY[tone])
        f.add(f"cust_close{tone}", T.CUSTOMER_CLOSE[tone])
        f.add(f"agent_tail{tone}", [t or None for t in T.AGENT_TAIL[tone]])
        f.add(f"cust_tail{tone}", [t or None for t in T.CUSTOMER_TAIL[tone]])
    f.add("vuln", T.VULNERABILITY_CUES)
    f.add("prohibited", T.PROHIBITED)
    f.add("agent_close0", T.AGENT_CLOSE[0])
    f.add("agent_close1", T.AGENT_CLOSE[1])
    for i, theme in enumerate(T.SURVEY_THEMES):
        f.add(f"theme{i}", T.SURVEY_THEMES[theme])
    for i, cat in enumerate(T.COMPLAINT_CATEGORIES):
        f.add(f"complaint{i}", T.COMPLAINT_TEXTS[cat])
    return f


# ---------------------------------------------------------------------------------------------
# Loading: numbered rows, inserted through DuckDB from pandas.

class Loader:
    """Writes generated frames into the contract's tables and numbers their rows across chunks
    (`next_numbers("contact", k)` gives the next k contact numbers)."""

    def __init__(self, con) -> None:
        self.con = con
        self.counters = dict(contact=0, conversation=0, response=0, complaint=0, payment=0, promise=0)

    def next_numbers(self, kind: str, k: int) -> np.ndarray:
        num = self.counters[kind] + np.arange(k)
        self.counters[kind] += k
        return num

    def insert(self, table: str, df: pd.DataFrame, select_sql: str) -> None:
        """Insert the rows of `select_sql` (a select of the demo's own, reading the frame as `df`, one
        value per column of `table` in the contract's order) into `table`."""
        cur = self.con.cursor()
        try:
            cur.register("df", df)
            cur.sql(select_sql).insert_into(table)
            cur.unregister("df")
        finally:
            cur.close()
