"""`python -m analysis demo`: build the synthetic demo database.

Every table of the import contract (SPEC section 1), from `numpy.random.default_rng(seed)` only,
vectorised per chunk of accounts (no Python loop per contact), loaded through DuckDB from pandas.
The story it tells: a *challenger* strategy that calls more than the *champion*, collects
somewhat more, breaches the contact rules (SPEC section 2) more often, draws more complaints and
lower NPS. Time is fixed (the data ends on 2026-10-31), never read from the wall clock.

The database is written to `<db>.tmp` next to the target and renamed into place at the end, so a
failed build leaves nothing half-written.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.demo import text as T
from analysis.errors import UserError

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
STATE_MA = [s[0] for s in STATES].index("MA")
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
STRATEGIES = ("champion", "challenger")
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

# Behaviour of the two strategies (index 0 champion, 1 challenger).
CONTACTS_PER_DAY = np.array([0.18, 0.29])
OUTBOUND_CHANNEL_P = np.array([[0.58, 0.18, 0.14, 0.07, 0.03], [0.70, 0.13, 0.10, 0.05, 0.02]])
INBOUND_CHANNEL_P = np.array([0.50, 0.22, 0.12, 0.03, 0.13])
BURST_P = np.array([0.012, 0.05])  # accounts that get a burst of 8-11 calls in 6 days (rule 1)
# Probability that a contact that would break a rule is made anyway (the dialer's checks are
# imperfect; the challenger's are looser). Contacts that break no rule are always kept.
KEEP_IF = {
    "inconvenient_time": np.array([0.20, 0.50]),
    "medium_opt_out": np.array([0.04, 0.15]),
    "cease_communication": np.array([0.03, 0.10]),
    "post_conversation": np.array([0.03, 0.12]),
}
PAYER_P = np.array([0.20, 0.22])
COMPLAINT_P = np.array([0.010, 0.022])

CHUNK_ACCOUNTS = 25_000
_DEMO_COLUMNS = {"complaints": 9}  # the demo fills the contract's first nine complaint columns, not CFPB's


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


def _fragments() -> Fragments:
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


THEMES = tuple(T.SURVEY_THEMES)
(TH_TOO_MANY, TH_BAD_TIME, TH_RUDE, TH_HELPFUL, TH_PLAN, TH_BALANCE, TH_EASY) = range(len(THEMES))


# ---------------------------------------------------------------------------------------------
# Time helpers: local wall time (epoch seconds as if UTC) <-> UTC instants, per IANA zone.

def _to_utc(local_s: np.ndarray, zone: np.ndarray) -> np.ndarray:
    out = np.empty(len(local_s), dtype=np.int64)
    for z, name in enumerate(ZONES):
        m = zone == z
        if not m.any():
            continue
        idx = pd.DatetimeIndex(local_s[m].astype("datetime64[s]"))
        loc = idx.tz_localize(name, ambiguous=np.zeros(int(m.sum()), dtype=bool), nonexistent="shift_forward")
        out[m] = loc.as_unit("s").asi8
    return out


def _to_local(utc_s: np.ndarray, zone: np.ndarray) -> np.ndarray:
    out = np.empty(len(utc_s), dtype=np.int64)
    for z, name in enumerate(ZONES):
        m = zone == z
        if not m.any():
            continue
        idx = pd.DatetimeIndex(utc_s[m].astype("datetime64[s]")).tz_localize("UTC").tz_convert(name)
        out[m] = idx.tz_localize(None).as_unit("s").asi8
    return out


def _choice(rng, p: np.ndarray, n: int) -> np.ndarray:
    """n draws from a categorical distribution p (1-d) or per-row distributions p (n x k)."""
    u = rng.random(n)
    cum = np.cumsum(p, axis=-1)
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(p) - 1)
    cum = cum / cum[:, -1:]
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def _at_least(rng, mask: np.ndarray, k: int) -> np.ndarray:
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


def _group_positions(counts: np.ndarray) -> np.ndarray:
    """1-based position of each row within its group, for rows laid out by np.repeat(counts)."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum())) - starts + 1


# Local hour weights 0..23: mostly 08-21, about 1 % of outbound contacts outside it.
OUT_HOUR_W = np.array([0, 0, 0, 0, 0, 0, 0.03, 0.5, 4, 7, 8, 8, 7, 7, 7, 7, 7, 8, 8.5, 7.5, 5, 0.7, 0.15, 0.02])
IN_HOUR_W = np.array([0.1, 0.05, 0, 0, 0, 0.05, 0.3, 1.5, 4, 6, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 5, 3.5, 2, 0.8])
LETTER_HOUR_W = np.array([0] * 9 + [3, 3, 3, 3, 3, 3, 3, 3] + [0] * 7, dtype=float)


# ---------------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, con, accounts: int, seed: int, progress: bool):
        self.con = con
        self.n_total = accounts
        self.seed = seed
        self.progress = progress
        self.frag = _fragments()
        self.counters = dict(contact=0, conversation=0, response=0, complaint=0, payment=0, promise=0)

    # -- agents ------------------------------------------------------------------------------
    def agents(self) -> None:
        rng = np.random.default_rng([self.seed, 0])
        shares = np.array([t[2] for t in TEAMS])
        sizes = np.maximum(3, np.round(self.n_total * shares / 280)).astype(np.int64)
        self.team_size = sizes
        self.team_off = np.cumsum(sizes) - sizes
        n = int(sizes.sum())
        team = np.repeat(np.arange(len(TEAMS)), sizes)
        site_choice = rng.random(n)
        unique_sites = list(dict.fromkeys(s for t in TEAMS for s in t[1]))
        team_sites = np.array([unique_sites.index(s) for t in TEAMS for s in t[1]])
        site_n = np.array([len(t[1]) for t in TEAMS])
        site_off = np.cumsum(site_n) - site_n
        site = team_sites[site_off[team] + np.minimum((site_choice * site_n[team]).astype(np.int64), site_n[team] - 1)]
        self.agent_first = rng.integers(0, len(T.AGENT_FIRST_NAMES), n)
        last = rng.integers(0, len(T.AGENT_LAST_NAMES), n)
        names = [f"{T.AGENT_FIRST_NAMES[a]} {T.AGENT_LAST_NAMES[b]}" for a, b in zip(self.agent_first, last)]
        df = pd.DataFrame({
            "num": np.arange(n),
            "team": pd.Categorical.from_codes(team, [t[0] for t in TEAMS]),
            "site": pd.Categorical.from_codes(site, unique_sites),
            "name": names,
        })
        self._insert("agents", df, "select printf('AG%05d', num), team::varchar, site::varchar, name from df")

    # -- one chunk of accounts ----------------------------------------------------------------
    def chunk(self, first: int, n: int, chunk_no: int) -> None:
        rng = np.random.default_rng([self.seed, 1 + chunk_no])
        A = self._accounts(rng, first, n)
        C = self._contacts(rng, A)
        conv = self._conversations(rng, A, C)
        self._promises_and_payments(rng, A, conv)
        self._surveys(rng, A, conv)
        self._complaints(rng, A, C)

    def _accounts(self, rng, first: int, n: int) -> dict:
        num = first + np.arange(n)
        # About one consumer in eight owes more than one of the firm's debts.
        consumer = num.copy()
        dup = rng.random(n) < 0.12
        back = rng.integers(1, 40, n)
        ok = dup & (np.arange(n) - back >= 0)
        consumer[ok] = consumer[np.flatnonzero(ok) - back[ok]]
        placed = rng.integers(START_DAY - 150, END_DAY - 20, n)
        balance = np.clip(np.round(rng.lognormal(np.log(900), 0.9, n) * 100), 5_000, 6_000_000).astype(np.int64)
        state = _choice(rng, np.array([s[3] for s in STATES]), n)
        state = np.where(_at_least(rng, state == STATE_MA, 6), STATE_MA, state)
        zone = np.array([s[1] for s in STATES])[state]
        # Phone: mostly a local area code; some numbers kept from another state (phone zone differs).
        has_phone = rng.random(n) < 0.9
        moved = rng.random(n) < 0.12
        phone_state = np.where(moved, _choice(rng, np.array([s[3] for s in STATES]), n), state)
        area_n = np.array([len(s[2]) for s in STATES])
        area_pick = np.minimum((rng.random(n) * area_n[phone_state]).astype(np.int64), area_n[phone_state] - 1)
        areas = np.array([a for s in STATES for a in s[2]])
        area_off = np.cumsum(area_n) - area_n
        area = areas[area_off[phone_state] + area_pick]
        local_no = rng.integers(2_000_000, 9_999_999, n)
        phone_zone = np.array([s[1] for s in STATES])[phone_state]
        phone_zone_known = has_phone & (rng.random(n) < 0.85)
        portfolio = _choice(rng, np.array([p[2] for p in PORTFOLIOS]), n)
        product = np.array([PRODUCTS.index(p[1]) for p in PORTFOLIOS])[portfolio]
        strategy = (rng.random(n) < 0.45).astype(np.int64)
        vulnerable = _at_least(rng, rng.random(n) < 0.05, 8)
        team = _choice(rng, np.array([t[2] for t in TEAMS]), n)
        team = np.where(vulnerable & (rng.random(n) < 0.7), HARDSHIP_TEAM, team)
        team = np.where((balance > 500_000) & (rng.random(n) < 0.5), HIGH_BALANCE_TEAM, team)
        active_start = np.maximum(placed + 2, START_DAY)
        settles = rng.random(n) < 0.2
        active_end = np.where(settles, placed + rng.integers(45, 400, n), END_DAY)
        active_end = np.clip(active_end, active_start + 7, END_DAY)
        active_start = np.minimum(active_start, active_end - 1)
        df = pd.DataFrame({
            "num": num, "consumer": consumer, "placed": placed.astype(np.int32), "balance": balance,
            "tz": pd.Categorical.from_codes(zone, ZONES),
            "ptz": pd.Categorical.from_codes(np.where(phone_zone_known, phone_zone, -1), ZONES),
            "area": np.where(has_phone, area, -1), "local_no": local_no,
            "state": pd.Categorical.from_codes(state, [s[0] for s in STATES]),
            "portfolio": pd.Categorical.from_codes(portfolio, [p[0] for p in PORTFOLIOS]),
            "product": pd.Categorical.from_codes(product, PRODUCTS),
            "team": pd.Categorical.from_codes(team, [t[0] for t in TEAMS]),
            "strategy": pd.Categorical.from_codes(strategy, STRATEGIES),
            "vulnerable": vulnerable,
        })
        self._insert("accounts", df, """
            select printf('A%07d', num), printf('CU%07d', consumer), date '1970-01-01' + placed,
                   round(balance / 100.0, 2)::decimal(18, 2), tz::varchar, ptz::varchar,
                   case when area >= 0 then printf('+1%d%d', area, local_no) end,
                   state::varchar, portfolio::varchar, product::varchar, team::varchar,
                   strategy::varchar, vulnerable
            from df""")
        A = dict(num=num, n=n, placed=placed, balance=balance, zone=zone,
                 phone_zone=np.where(phone_zone_known, phone_zone, -1), state=state, strategy=strategy,
                 vulnerable=vulnerable, team=team, active_start=active_start, active_end=active_end)
        self._consents_and_preferences(rng, A)
        return A

    def _random_instant(self, rng, A, acct, lo_frac=0.0, hi_frac=1.0, hours=(9, 20)):
        """A UTC instant on a random local day of each account's active period, local hours in range."""
        span = A["active_end"][acct] - A["active_start"][acct]
        day = A["active_start"][acct] + (span * rng.uniform(lo_frac, hi_frac, len(acct))).astype(np.int64)
        sec = rng.integers(hours[0] * 3600, hours[1] * 3600, len(acct))
        return _to_utc(day * DAY + sec, A["zone"][acct])

    def _consents_and_preferences(self, rng, A) -> None:
        n = A["n"]
        # Consents: direct prior consent to be called (opens a 7-day window of calls that do not count).
        c_acct = np.flatnonzero(_at_least(rng, rng.random(n) < 0.05, 4))
        given = self._random_instant(rng, A, c_acct, 0.05, 0.9)
        self._insert("consents", pd.DataFrame({"num": A["num"][c_acct], "ts": given}),
                     "select printf('A%07d', num), to_timestamp(ts) from df")
        # Medium opt-outs (call/sms/email) and written requests to cease communication.
        opt = np.full((n, len(CHANNELS)), NEVER, dtype=np.int64)
        o_acct = np.flatnonzero(_at_least(rng, rng.random(n) < 0.07, 8))
        o_chan = np.array([CALL, SMS, EMAIL])[_choice(rng, np.array([0.3, 0.45, 0.25]), len(o_acct))]
        o_ts = self._random_instant(rng, A, o_acct, 0.0, 0.8)
        opt[o_acct, o_chan] = o_ts
        cease = np.full(n, NEVER, dtype=np.int64)
        x_acct = np.flatnonzero(_at_least(rng, rng.random(n) < 0.015, 5))
        x_ts = self._random_instant(rng, A, x_acct, 0.1, 0.8)
        cease[x_acct] = x_ts
        A["opt"], A["cease"] = opt, cease
        pref = pd.DataFrame({
            "num": np.concatenate([A["num"][o_acct], A["num"][x_acct]]),
            "channel": pd.Categorical.from_codes(
                np.concatenate([o_chan, np.full(len(x_acct), len(CHANNELS))]), CHANNELS + ("all",)),
            "ts": np.concatenate([o_ts, x_ts]),
        })
        self._insert("preferences", pref, "select printf('A%07d', num), channel::varchar, to_timestamp(ts) from df")

    # -- contacts -----------------------------------------------------------------------------
    def _contacts(self, rng, A) -> dict:
        n = A["n"]
        strat = A["strategy"]
        span = (A["active_end"] - A["active_start"] + 1).astype(np.float64)
        rate = CONTACTS_PER_DAY[strat] * rng.gamma(2.0, 0.5, n)
        # The dialer slows down for accounts under a tighter cap (vulnerable, MA): much more under the champion.
        tight = A["vulnerable"] | (A["state"] == STATE_MA)
        rate = np.where(tight, rate * np.array([0.45, 0.8])[strat], rate)
        counts = rng.poisson(rate * span)
        acct = np.repeat(np.arange(n), counts)
        k = len(acct)
        # Front-loaded: more contact soon after placement.
        day = A["active_start"][acct] + (span[acct] * rng.random(k) ** 1.4).astype(np.int64)
        wd = (day + 3) % 7  # 0 = Monday
        u = rng.random(k)
        day = np.where((wd == 6) & (u < 0.88), day + 1, day)  # most Sunday work moves to Monday
        day = np.where((wd == 5) & (u < 0.55), day - 1, day)  # about half of Saturday's to Friday
        day = np.clip(day, A["active_start"][acct], A["active_end"][acct])
        inbound = rng.random(k) < 0.07
        chan = np.where(inbound, _choice(rng, INBOUND_CHANNEL_P, k), _choice(rng, OUTBOUND_CHANNEL_P[strat[acct]], k))
        hour = np.where(inbound, _choice(rng, IN_HOUR_W, k),
                        np.where(chan == LETTER, _choice(rng, LETTER_HOUR_W, k), _choice(rng, OUT_HOUR_W, k)))
        local = day * DAY + hour * 3600 + rng.integers(0, 3600, k)
        exempt = np.zeros(k, dtype=bool)

        # Replies: an inbound sms/email/chat often gets an outbound answer on the same channel
        # within minutes to two hours (exempt from the inconvenient-time rule as a reply).
        r_src = np.flatnonzero(inbound & np.isin(chan, [SMS, EMAIL, CHAT]) & (rng.random(k) < 0.6))
        r_delay = rng.integers(60, 7200, len(r_src))
        # Bursts: 8-11 unanswered calls within 6 days (the dialer retrying), breaking the 7-in-7 cap.
        b_acct = np.flatnonzero(_at_least(rng, rng.random(n) < BURST_P[strat], 3) & (span >= 14))
        b_n = rng.integers(8, 12, len(b_acct))
        b_rows = np.repeat(b_acct, b_n)
        b_start = A["active_start"][b_acct] + ((span[b_acct] - 7) * rng.random(len(b_acct))).astype(np.int64)
        b_day = np.repeat(b_start, b_n) + rng.integers(0, 6, len(b_rows))
        b_local = b_day * DAY + rng.integers(9 * 3600, 19 * 3600, len(b_rows))

        acct = np.concatenate([acct, acct[r_src], b_rows])
        chan = np.concatenate([chan, chan[r_src], np.full(len(b_rows), CALL)])
        inbound = np.concatenate([inbound, np.zeros(len(r_src) + len(b_rows), dtype=bool)])
        local = np.concatenate([local, local[r_src] + r_delay, b_local])
        exempt = np.concatenate([exempt, np.ones(len(r_src) + len(b_rows), dtype=bool)])
        is_burst = np.concatenate([np.zeros(k + len(r_src), dtype=bool), np.ones(len(b_rows), dtype=bool)])
        utc = _to_utc(local, A["zone"][acct])
        # A reply is r_delay after its inbound message in elapsed time, whatever the local clock does.
        utc[k:k + len(r_src)] = utc[r_src] + r_delay
        k = len(acct)

        # Outcomes. Right-party conversations are likelier in the evening (people are home).
        lhour = (local % DAY) // 3600
        p_conv = np.where((lhour >= 17) & (lhour < 21), 0.19, np.where(lhour < 10, 0.07, 0.11))
        rest = np.stack([p_conv, np.full(k, 0.05), np.full(k, 0.05), np.full(k, 0.05), np.full(k, 0.03), np.full(k, 0.27)], axis=1)
        rest = np.concatenate([rest, (1 - rest.sum(axis=1))[:, None]], axis=1)
        order_codes = np.array([CONVERSATION, THIRD_PARTY, BUSY, NOT_CONNECTED, DROPPED, VOICEMAIL, NO_ANSWER])
        out_call = order_codes[_choice(rng, rest, k)]
        in_call = np.where(rng.random(k) < 0.9, CONVERSATION, DROPPED)
        burst_call = np.where(rng.random(k) < 0.6, NO_ANSWER, VOICEMAIL)
        u = rng.random(k)
        other_out = np.where((chan == EMAIL) & (u < 0.03), BOUNCED,
                             np.where((chan == SMS) & (u < 0.02), FAILED,
                                      np.where((chan == LETTER) & (u < 0.02), RETURNED, SENT)))
        outcome = np.where(chan == CALL,
                           np.where(inbound, in_call, np.where(is_burst, burst_call, out_call)),
                           np.where(inbound, RECEIVED, other_out))

        # Sort by account, then time: the rules' contact order.
        o = np.lexsort((utc, acct))
        acct, chan, inbound, local, utc, exempt, outcome = (x[o] for x in (acct, chan, inbound, local, utc, exempt, outcome))
        strat_r = strat[acct]
        outbound = ~inbound

        # Which contacts would break a rule, and the dialer's imperfect suppression of them.
        lhour = (local % DAY) // 3600
        ooh = (lhour < 8) | (lhour >= 21)
        pz = A["phone_zone"][acct]
        diff = (pz >= 0) & (pz != A["zone"][acct])
        if diff.any():
            ph = (_to_local(utc[diff], pz[diff]) % DAY) // 3600
            ooh[diff] |= (ph < 8) | (ph >= 21)
        f_time = outbound & (chan != LETTER) & ooh & ~exempt
        f_opt = outbound & (utc > A["opt"][acct, chan])
        f_cease = outbound & (utc > A["cease"][acct])
        is_conv = (chan == CALL) & (outcome == CONVERSATION)
        counted = (chan == CALL) & outbound & (outcome != BUSY) & (outcome != NOT_CONNECTED)
        lday = local // DAY
        big = np.int64(1) << 32
        run = np.maximum.accumulate(acct.astype(np.int64) * big + np.where(is_conv, lday + 1, 0)) - acct.astype(np.int64) * big - 1
        prev_conv_day = np.concatenate([[-1], run[:-1]])
        first_of_acct = np.concatenate([[True], acct[1:] != acct[:-1]])
        prev_conv_day[first_of_acct] = -1
        f_post = counted & ~exempt & (prev_conv_day >= 0) & (lday <= prev_conv_day + 6)
        keep_p = np.ones(k)
        for flag, name in ((f_time, "inconvenient_time"), (f_opt, "medium_opt_out"),
                           (f_cease, "cease_communication"), (f_post, "post_conversation")):
            keep_p = np.where(flag, keep_p * KEEP_IF[name][strat_r], keep_p)
        keep = (rng.random(k) < keep_p) & (utc < END_TS)
        flagged = (f_time | f_opt | f_cease | f_post)[keep]
        acct, chan, inbound, local, utc, outcome = (x[keep] for x in (acct, chan, inbound, local, utc, outcome))
        k = len(acct)

        # Agents: dialer attempts that never connect have none; texts, emails and letters are automated.
        team = A["team"][acct]
        agent = self.team_off[team] + np.minimum((rng.random(k) * self.team_size[team]).astype(np.int64), self.team_size[team] - 1)
        has_agent = ((chan == CALL) & np.isin(outcome, [CONVERSATION, VOICEMAIL, THIRD_PARTY, DROPPED])) | (chan == CHAT)
        agent = np.where(has_agent, agent, -1)
        dur = np.full(k, -1, dtype=np.int64)
        lg = rng.lognormal(np.log(260), 0.6, k).astype(np.int64)
        dur = np.where(chan == CALL, np.select(
            [outcome == CONVERSATION, outcome == VOICEMAIL, outcome == NO_ANSWER, outcome == BUSY,
             outcome == NOT_CONNECTED, outcome == THIRD_PARTY, outcome == DROPPED],
            [lg, rng.integers(15, 50, k), rng.integers(12, 40, k), rng.integers(1, 6, k),
             rng.integers(0, 4, k), rng.integers(20, 150, k), rng.integers(3, 60, k)], -1), dur)
        dur = np.where((chan == CHAT) & inbound, lg * 2, dur)
        num = self.counters["contact"] + np.arange(k)
        self.counters["contact"] += k
        df = pd.DataFrame({
            "num": num, "acct": A["num"][acct], "ts": utc,
            "channel": pd.Categorical.from_codes(chan, CHANNELS),
            "inbound": inbound, "outcome": pd.Categorical.from_codes(outcome, OUTCOMES),
            "agent": agent, "dur": dur,
        })
        self._insert("contacts", df, """
            select printf('CT%010d', num), printf('A%07d', acct), to_timestamp(ts), channel::varchar,
                   case when inbound then 'inbound' else 'outbound' end, outcome::varchar,
                   case when agent >= 0 then printf('AG%05d', agent) end, nullif(dur, -1)
            from df""")
        return dict(acct=acct, chan=chan, inbound=inbound, local=local, utc=utc, outcome=outcome,
                    agent=agent, dur=dur, num=num, flagged=flagged)

    # -- conversations and turns --------------------------------------------------------------
    def _conversations(self, rng, A, C) -> dict:
        sel = np.flatnonzero(((C["chan"] == CALL) & (C["outcome"] == CONVERSATION)) | ((C["chan"] == CHAT) & C["inbound"]))
        m = len(sel)
        acct = C["acct"][sel]
        strat = A["strategy"][acct]
        flagged = C["flagged"][sel]
        # Tone: friendlier under the champion; worse on contacts that broke a rule.
        p_host = np.where(strat == 1, 0.24, 0.11) + np.where(flagged, 0.25, 0.0)
        p_friend = np.where(strat == 1, 0.22, 0.36) * np.where(flagged, 0.5, 1.0)
        u = rng.random(m)
        tone = np.where(u < p_friend, 0, np.where(u < p_friend + p_host, 2, 1))
        promise = rng.random(m) < np.array([0.45, 0.30, 0.07])[tone] * np.where(strat == 1, 0.9, 1.0)
        no_miranda = rng.random(m) < np.where(strat == 1, 0.14, 0.05)
        prohibited = rng.random(m) < np.where(strat == 1, 0.025, 0.004) * np.where(tone == 2, 3.0, 0.5)
        vuln = rng.random(m) < np.where(A["vulnerable"][acct], 0.35, 0.03)
        n_turns = np.where(C["chan"][sel] == CHAT, rng.integers(4, 11, m), rng.integers(4, 13, m))
        n_turns = np.where(prohibited | vuln, np.maximum(n_turns, 6), n_turns)
        agent = C["agent"][sel]
        num = self.counters["conversation"] + np.arange(m)
        self.counters["conversation"] += m
        self._insert("conversations", pd.DataFrame({
            "num": num, "acct": A["num"][acct], "ts": C["utc"][sel],
            "channel": pd.Categorical.from_codes(C["chan"][sel], CHANNELS), "agent": agent, "contact": C["num"][sel],
        }), """
            select printf('CV%010d', num), printf('A%07d', acct), to_timestamp(ts), channel::varchar,
                   case when agent >= 0 then printf('AG%05d', agent) end, printf('CT%010d', contact)
            from df""")

        # Turns: odd positions are the agent's, even the customer's.
        ci = np.repeat(np.arange(m), n_turns)
        t = len(ci)
        pos = _group_positions(n_turns)
        n = n_turns[ci]
        tn = tone[ci]
        is_agent = pos % 2 == 1
        last_agent = is_agent & (pos >= n - 1)
        last_cust = ~is_agent & (pos == n)
        f = self.frag
        a = np.full(t, -1, dtype=np.int64)
        b = np.full(t, -1, dtype=np.int64)
        c = np.full(t, -1, dtype=np.int64)
        u1, u2, u3 = rng.random(t), rng.random(t), rng.random(t)
        first = pos == 1
        name_idx = self.agent_first[np.maximum(agent, 0)][ci]
        chat = (C["chan"][sel] == CHAT)[ci]
        greet_form = (u1 * len(T.GREETING_FORMS)).astype(np.int64)
        greet = np.where(chat, f.pools["greet_chat"][0], f.pools["greet"][0]) + name_idx * len(T.GREETING_FORMS) + greet_form
        a = np.where(first, greet, a)
        b = np.where(first & ~no_miranda[ci], f.pick("miranda", u2), b)
        c = np.where(first, np.where(chat, f.pick("purpose_chat", u3), f.pick("purpose", u3)), c)
        second = pos == 2
        a = np.where(second, f.pick_by("cust_open", tn, u1), a)
        mid_agent = is_agent & ~first & ~last_agent
        a = np.where(mid_agent, f.pick_by("agent_lead", tn, u1), a)
        b = np.where(mid_agent, f.pick_by("agent_body", tn, u2), b)
        c = np.where(mid_agent, f.pick_by("agent_tail", tn, u3), c)
        at_threat = mid_agent & (pos == 3) & prohibited[ci]
        a = np.where(at_threat, -1, a)
        b = np.where(at_threat, f.pick("prohibited", u3), b)
        a = np.where(last_agent, np.where(promise[ci], f.pick("agent_close1", u1), f.pick("agent_close0", u1)), a)
        mid_cust = ~is_agent & ~second & ~last_cust
        a = np.where(mid_cust, f.pick_by("cust_lead", tn, u1), a)
        b = np.where(mid_cust, f.pick_by("cust_body", tn, u2), b)
        c = np.where(mid_cust, f.pick_by("cust_tail", tn, u3), c)
        vuln_pos = np.where(rng.random(m) < 0.5, 2, 4)[ci]
        at_cue = vuln[ci] & (pos == vuln_pos)
        b = np.where(at_cue, f.pick("vuln", u3), b)
        c = np.where(at_cue, -1, c)
        # Amounts quoted in the conversation: the balance, and an offer of 5-30 % of it.
        balance = A["balance"][acct]
        offer = np.maximum(2_000, np.round(balance * rng.uniform(0.05, 0.3, m) / 500) * 500).astype(np.int64)
        a = np.where(last_cust, f.pick_by("cust_close", tn, u1), a)
        self._insert("turns", pd.DataFrame({"conv": num[ci], "pos": pos, "agent": is_agent, "a": a, "b": b, "c": c,
                                            "balance": balance[ci], "offer": offer[ci]}), """
            select printf('CV%010d', t.conv), t.pos, case when t.agent then 'agent' else 'customer' end,
                   replace(replace(concat_ws(' ', fa.text, fb.text, fc.text),
                                   '{balance}', format('${:,.2f}', t.balance / 100.0)),
                           '{amount}', format('${:,.2f}', t.offer / 100.0))
            from df as t
            left join demo_fragments as fa on fa.id = t.a
            left join demo_fragments as fb on fb.id = t.b
            left join demo_fragments as fc on fc.id = t.c""")
        return dict(acct=acct, strat=strat, tone=tone, promise=promise, agent=agent, utc=C["utc"][sel],
                    local=C["local"][sel], dur=np.maximum(C["dur"][sel], 60), flagged=flagged)

    # -- promises and payments ----------------------------------------------------------------
    def _promises_and_payments(self, rng, A, conv) -> None:
        p = np.flatnonzero(conv["promise"] & (conv["utc"] + conv["dur"] < END_TS))
        acct = conv["acct"][p]
        bal = A["balance"][acct]
        amount = np.maximum(2_000, np.round(bal * rng.uniform(0.05, 0.35, len(p)) / 500) * 500).astype(np.int64)
        amount = np.minimum(amount, bal)
        created = conv["utc"][p] + conv["dur"][p]
        cday = conv["local"][p] // DAY
        due = cday + rng.integers(3, 22, len(p))
        strat = A["strategy"][acct]
        fate = _choice(rng, np.array([[0.56, 0.16, 0.28], [0.50, 0.18, 0.32]])[strat], len(p))  # kept, late, broken
        pnum = self.counters["promise"] + np.arange(len(p))
        self.counters["promise"] += len(p)
        self._insert("promises", pd.DataFrame({
            "num": pnum, "acct": A["num"][acct], "ts": created, "due": due.astype(np.int32), "amount": amount,
            "agent": conv["agent"][p]}), """
            select printf('PR%09d', num), printf('A%07d', acct), to_timestamp(ts), date '1970-01-01' + due,
                   round(amount / 100.0, 2)::decimal(18, 2), case when agent >= 0 then printf('AG%05d', agent) end
            from df""")
        # Promise payments: kept on or before the due date, late after the 3-day grace, broken: a part or nothing.
        pay_day = np.select([fate == 0, fate == 1], [np.maximum(due - rng.integers(0, 4, len(p)), cday),
                                                     due + rng.integers(4, 26, len(p))], due)
        part = (fate == 2) & (rng.random(len(p)) < 0.3)
        pay_amt = np.where(part, (amount * rng.uniform(0.2, 0.6, len(p))).astype(np.int64), amount)
        paid = (fate < 2) | part
        rows_acct = [acct[paid]]
        rows_day = [pay_day[paid]]
        rows_amt = [pay_amt[paid]]
        # Regular payers outside promises: instalments about monthly; settled accounts pay a lump sum.
        n = A["n"]
        payer = np.flatnonzero(rng.random(n) < PAYER_P[A["strategy"]])
        k = rng.integers(1, 9, len(payer))
        r_acct = np.repeat(payer, k)
        span = A["active_end"][payer] - A["active_start"][payer]
        start = A["active_start"][payer] + (span * rng.random(len(payer)) * 0.7).astype(np.int64)
        r_day = np.repeat(start, k) + (_group_positions(k) - 1) * 30 + rng.integers(-2, 3, len(r_acct))
        r_amt = np.maximum(1_000, A["balance"][r_acct] * rng.uniform(0.03, 0.15, len(r_acct))).astype(np.int64)
        settled = np.flatnonzero(A["active_end"] < END_DAY)
        s_amt = (A["balance"][settled] * rng.uniform(0.3, 0.7, len(settled))).astype(np.int64)
        acct_all = np.concatenate(rows_acct + [r_acct, settled])
        day_all = np.concatenate(rows_day + [r_day, A["active_end"][settled]])
        amt_all = np.concatenate(rows_amt + [r_amt, s_amt])
        ts = _to_utc(day_all * DAY + rng.integers(7 * 3600, 23 * 3600, len(acct_all)), A["zone"][acct_all])
        method = _choice(rng, np.array([0.35, 0.25, 0.25, 0.05, 0.10]), len(acct_all))
        # A few reversals (bounced direct debits, chargebacks): the same amount back, negative, days later.
        rev = np.flatnonzero(rng.random(len(acct_all)) < 0.02)
        acct_all = np.concatenate([acct_all, acct_all[rev]])
        amt_all = np.concatenate([amt_all, -amt_all[rev]])
        ts = np.concatenate([ts, ts[rev] + rng.integers(2 * DAY, 10 * DAY, len(rev))])
        method = np.concatenate([method, method[rev]])
        ok = ts < END_TS
        acct_all, amt_all, ts, method = acct_all[ok], amt_all[ok], ts[ok], method[ok]
        o = np.lexsort((ts, acct_all))
        acct_all, amt_all, ts, method = acct_all[o], amt_all[o], ts[o], method[o]
        num = self.counters["payment"] + np.arange(len(ts))
        self.counters["payment"] += len(ts)
        self._insert("payments", pd.DataFrame({
            "num": num, "acct": A["num"][acct_all], "ts": ts, "amount": amt_all,
            "method": pd.Categorical.from_codes(method, METHODS)}), """
            select printf('P%010d', num), printf('A%07d', acct), to_timestamp(ts),
                   round(amount / 100.0, 2)::decimal(18, 2), method::varchar
            from df""")

    # -- surveys ------------------------------------------------------------------------------
    def _surveys(self, rng, A, conv) -> None:
        s = np.flatnonzero(rng.random(len(conv["acct"])) < 0.11)
        delay = rng.integers(3600, 3 * DAY, len(s))
        s, delay = s[conv["utc"][s] + delay < END_TS], delay[conv["utc"][s] + delay < END_TS]
        m = len(s)
        tone = conv["tone"][s]
        strat = conv["strat"][s]
        ts = conv["utc"][s] + delay
        mu = np.array([9.1, 7.6, 3.4])[tone] - 0.4 * strat
        nps = np.clip(np.round(rng.normal(mu, 1.7)), 0, 10).astype(np.int64)
        csat = np.clip(np.round(rng.normal(np.array([4.6, 3.9, 2.0])[tone] - 0.2 * strat, 0.8)), 1, 5).astype(np.int64)
        has_nps = rng.random(m) < 0.88
        has_csat = (rng.random(m) < 0.75) | ~has_nps
        # Comment themes follow the score and the strategy.
        u = rng.random(m)
        low_theme = np.where(u < 0.35 + 0.15 * strat, TH_TOO_MANY, np.where(u < 0.55 + 0.1 * strat, TH_BAD_TIME,
                             np.where(u < 0.8, TH_RUDE, TH_BALANCE)))
        high_theme = np.where(u < 0.45, TH_HELPFUL, np.where(u < 0.8, TH_PLAN, TH_EASY))
        theme = np.where(nps >= 7, high_theme, low_theme)
        off = np.array([self.frag.pools[f"theme{i}"][0] for i in range(len(THEMES))])
        size = np.array([self.frag.pools[f"theme{i}"][1] for i in range(len(THEMES))])
        comment = off[theme] + np.minimum((rng.random(m) * size[theme]).astype(np.int64), size[theme] - 1)
        comment = np.where(rng.random(m) < 0.55, comment, -1)
        num = self.counters["response"] + np.arange(m)
        self.counters["response"] += m
        self._insert("surveys", pd.DataFrame({
            "num": num, "acct": A["num"][conv["acct"][s]], "ts": ts,
            "nps": np.where(has_nps, nps, -1), "csat": np.where(has_csat, csat, -1), "comment": comment,
            "channel": pd.Categorical.from_codes(_choice(rng, np.array([0.5, 0.35, 0.15]), m), SURVEY_CHANNELS),
            "agent": conv["agent"][s]}), """
            select printf('S%09d', d.num), printf('A%07d', d.acct), to_timestamp(d.ts), nullif(d.nps, -1),
                   nullif(d.csat, -1), f.text, d.channel::varchar,
                   case when d.agent >= 0 then printf('AG%05d', d.agent) end
            from df as d
            left join demo_fragments as f on f.id = d.comment""")

    # -- complaints ---------------------------------------------------------------------------
    def _complaints(self, rng, A, C) -> None:
        n = A["n"]
        breach_acct = np.bincount(C["acct"][C["flagged"]], minlength=n) > 0
        p = COMPLAINT_P[A["strategy"]] + 0.04 * breach_acct + 0.02 * A["vulnerable"]
        cnt = np.where(rng.random(n) < p, 1 + (rng.random(n) < 0.1), 0)
        acct = np.repeat(np.arange(n), cnt)
        m = len(acct)
        received = self._random_instant(rng, A, acct, 0.05, 1.0, hours=(8, 22))
        cat_p = np.where(breach_acct[acct][:, None],
                         np.array([[0.30, 0.18, 0.16, 0.10, 0.08, 0.06, 0.07, 0.05]]),
                         np.array([[0.12, 0.06, 0.08, 0.24, 0.22, 0.14, 0.08, 0.06]]))
        cat = _choice(rng, cat_p, m)
        off = np.array([self.frag.pools[f"complaint{i}"][0] for i in range(len(T.COMPLAINT_CATEGORIES))])
        size = np.array([self.frag.pools[f"complaint{i}"][1] for i in range(len(T.COMPLAINT_CATEGORIES))])
        desc = off[cat] + np.minimum((rng.random(m) * size[cat]).astype(np.int64), size[cat] - 1)
        source = _choice(rng, np.array([0.80, 0.12, 0.04, 0.02, 0.02]), m)
        # Resolution: median about 12 days, a tail beyond 8 weeks; some still open.
        res_s = (rng.lognormal(np.log(12), 1.0, m) * DAY).astype(np.int64) + rng.integers(3600, DAY, m)
        resolved = received + res_s
        open_ = (rng.random(m) < 0.06) | (resolved >= END_TS)
        outcome = _choice(rng, np.array([0.25, 0.20, 0.45, 0.10]), m)
        redress = np.where(((outcome == 0) | (outcome == 1)) & (rng.random(m) < 0.6),
                           np.round(rng.uniform(25, 500, m)) * 100, -1).astype(np.int64)
        ok = received < END_TS
        num = self.counters["complaint"] + np.arange(int(ok.sum()))
        self.counters["complaint"] += len(num)
        self._insert("complaints", pd.DataFrame({
            "num": num, "acct": A["num"][acct][ok], "ts": received[ok],
            "source": pd.Categorical.from_codes(source[ok], COMPLAINT_SOURCES),
            "category": pd.Categorical.from_codes(cat[ok], T.COMPLAINT_CATEGORIES), "desc": desc[ok],
            "resolved": np.where(open_, -1, resolved)[ok],
            "outcome": pd.Categorical.from_codes(np.where(open_, -1, outcome)[ok], COMPLAINT_OUTCOMES),
            "redress": np.where(open_, -1, redress)[ok]}), """
            select printf('CP%08d', d.num), printf('A%07d', d.acct), to_timestamp(d.ts), d.source::varchar,
                   d.category::varchar, f.text, case when d.resolved >= 0 then to_timestamp(d.resolved) end,
                   d.outcome::varchar,
                   case when d.redress >= 0 then round(d.redress / 100.0, 2)::decimal(18, 2) end
            from df as d
            left join demo_fragments as f on f.id = d.desc""")

    # -- loading ------------------------------------------------------------------------------
    def _insert(self, table: str, df: pd.DataFrame, select_sql: str) -> None:
        """Insert the rows of `select_sql` (reading the frame as `df`) into the contract's columns
        of `table`, in the order the contract lists them; columns past the select's stay empty
        (the CFPB-only columns of complaints)."""
        from analysis.schema import TABLES

        cols = [c.name for c in TABLES[table].columns][:_DEMO_COLUMNS.get(table, 99)]
        cur = self.con.cursor()
        try:
            cur.register("df", df)
            cur.execute(f"insert into {table} ({', '.join(cols)}) {select_sql}")
            cur.unregister("df")
        finally:
            cur.close()


def build(path, accounts: int = 20000, seed: int = 42, progress: bool = True) -> dict:
    """Build the demo database at `path` (replacing it). Returns row counts per table."""
    from analysis.db import connect, query_rows, set_meta
    from analysis.pipeline import refresh
    from analysis.schema import TABLES, create_schema

    if accounts < 10:
        raise UserError(f"--accounts {accounts} is too small: use at least 10")
    path = Path(path)
    if path.exists() and path.is_dir():
        raise UserError(f"{path} is a directory: give a database file name such as data/demo.duckdb")
    if not path.parent.exists():
        raise UserError(f"directory {path.parent} does not exist: create it or choose another --db path")
    tmp = path.with_name(path.name + ".tmp")
    for p in (tmp, Path(str(tmp) + ".wal")):
        if p.exists():
            p.unlink()
    t0 = time.perf_counter()
    con = connect(tmp)
    try:
        # The machine is shared (and a 1M-account build's derived steps are large): cap DuckDB at
        # half the memory so it spills to disk instead of starving other processes.
        con.execute("set memory_limit = ?", [f"{_half_memory_mb()}MB"])
        create_schema(con)
        b = _Builder(con, accounts, seed, progress)
        frag = b.frag.frame()
        cur = con.cursor()
        cur.register("frag_df", frag)
        cur.execute("create table demo_fragments as select * from frag_df")
        cur.unregister("frag_df")
        cur.close()
        b.agents()
        bar = _progress(accounts, progress)
        for chunk_no, first in enumerate(range(0, accounts, CHUNK_ACCOUNTS)):
            n = min(CHUNK_ACCOUNTS, accounts - first)
            b.chunk(first, n, chunk_no)
            bar.update(n)
        bar.close()
        con.execute("drop table demo_fragments")
        # The importer's definition of freshness (newest event of any table), so both agree.
        set_meta(con, "data_as_of", query_rows(con, "ingest_data_as_of")[0][0])
        set_meta(con, "demo_seed", str(seed))
        set_meta(con, "demo_accounts", str(accounts))
        set_meta(con, "source", "demo")
        if progress:
            print(f"  loaded {b.counters['contact']:,} contacts for {accounts:,} accounts in {time.perf_counter() - t0:.1f}s",
                  file=sys.stderr)
        refresh(con, progress=progress)
        counts = {name: con.cursor().execute(f"select count(*) from {name}").fetchall()[0][0] for name in TABLES}
        con.execute("checkpoint")
        con.close()
    except BaseException:
        try:
            con.close()
        finally:
            for p in (tmp, Path(str(tmp) + ".wal")):
                if p.exists():
                    p.unlink()
        raise
    wal = Path(str(path) + ".wal")
    if wal.exists():
        wal.unlink()
    os.replace(tmp, path)
    if progress:
        print(f"  demo database {path} built in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return counts


def _half_memory_mb() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**21)
    except (ValueError, OSError, AttributeError):
        return 4096


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="acct", desc="demo accounts", file=sys.stderr, disable=not enabled, leave=False)


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="database file to write (replaced if it exists)")
    parser.add_argument("--accounts", type=int, default=20000, help="number of accounts (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    if args.seed < 0:
        raise UserError(f"--seed {args.seed} is negative: use a seed of 0 or more")
    counts = build(args.db, accounts=args.accounts, seed=args.seed, progress=not args.quiet)
    print(", ".join(f"{name} {n:,}" for name, n in counts.items()))
    return 0
