"""Accounts: placement, balance, state and zones, phone, portfolio, strategy, vulnerability, team,
and the period in which each account is worked."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo.world import (
    END_DAY, HARDSHIP_TEAM, HIGH_BALANCE_TEAM, PORTFOLIOS, PRODUCTS, START_DAY, STATE_CODES, STATES,
    STRATEGIES, TEAMS, ZONES, Loader, at_least, choice,
)


@dataclass(frozen=True)
class Accounts:
    """One chunk of accounts; arrays are indexed by the account's position in the chunk."""

    num: np.ndarray
    n: int
    placed: np.ndarray
    balance: np.ndarray  # cents
    zone: np.ndarray  # index into ZONES
    phone_zone: np.ndarray  # index into ZONES, -1 when unknown
    state: np.ndarray  # index into STATES
    strategy: np.ndarray  # 0 champion, 1 challenger
    vulnerable: np.ndarray
    team: np.ndarray
    active_start: np.ndarray  # first and last local day the account is worked
    active_end: np.ndarray


def make_accounts(rng, loader: Loader, first: int, n: int, segment_states: tuple[str, ...]) -> Accounts:
    """Accounts number `first` to `first + n - 1`; each state of `segment_states` (the states the
    rules single out) gets at least a few accounts, so even a small demo exercises its rule."""
    num = first + np.arange(n)
    # About one consumer in eight owes more than one of the firm's debts.
    consumer = num.copy()
    dup = rng.random(n) < 0.12
    back = rng.integers(1, 40, n)
    ok = dup & (np.arange(n) - back >= 0)
    consumer[ok] = consumer[np.flatnonzero(ok) - back[ok]]
    placed = rng.integers(START_DAY - 150, END_DAY - 20, n)
    balance = np.clip(np.round(rng.lognormal(np.log(900), 0.9, n) * 100), 5_000, 6_000_000).astype(np.int64)
    state = choice(rng, np.array([s[3] for s in STATES]), n)
    for code in segment_states:
        s = STATE_CODES.index(code)
        state = np.where(at_least(rng, state == s, 6), s, state)
    zone = np.array([s[1] for s in STATES])[state]
    area, local_no, phone_zone = _phones(rng, state)
    portfolio = choice(rng, np.array([p[2] for p in PORTFOLIOS]), n)
    product = np.array([PRODUCTS.index(p[1]) for p in PORTFOLIOS])[portfolio]
    strategy = (rng.random(n) < 0.45).astype(np.int64)
    vulnerable = at_least(rng, rng.random(n) < 0.05, 8)
    team = choice(rng, np.array([t[2] for t in TEAMS]), n)
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
        "ptz": pd.Categorical.from_codes(phone_zone, ZONES),
        "area": area, "local_no": local_no,
        "state": pd.Categorical.from_codes(state, STATE_CODES),
        "portfolio": pd.Categorical.from_codes(portfolio, [p[0] for p in PORTFOLIOS]),
        "product": pd.Categorical.from_codes(product, PRODUCTS),
        "team": pd.Categorical.from_codes(team, [t[0] for t in TEAMS]),
        "strategy": pd.Categorical.from_codes(strategy, STRATEGIES),
        "vulnerable": vulnerable,
    })
    loader.insert("accounts", df, """
        select printf('A%07d', num), printf('CU%07d', consumer), date '1970-01-01' + placed,
               round(balance / 100.0, 2)::decimal(18, 2), tz::varchar, ptz::varchar,
               case when area >= 0 then printf('+1%d%d', area, local_no) end,
               state::varchar, portfolio::varchar, product::varchar, team::varchar,
               strategy::varchar, vulnerable
        from df""")
    return Accounts(num=num, n=n, placed=placed, balance=balance, zone=zone,
                    phone_zone=phone_zone, state=state, strategy=strategy,
                    vulnerable=vulnerable, team=team, active_start=active_start, active_end=active_end)


def _phones(rng, state: np.ndarray):
    """Phone numbers: 90 % have one, mostly with a local area code; 12 % kept a number from
    another state (so the phone's zone differs); the phone's zone is recorded for 85 % of phones.
    Returns the area code (-1: no phone), the local number and the phone's zone (-1: unknown)."""
    n = len(state)
    has_phone = rng.random(n) < 0.9
    moved = rng.random(n) < 0.12
    phone_state = np.where(moved, choice(rng, np.array([s[3] for s in STATES]), n), state)
    area_n = np.array([len(s[2]) for s in STATES])
    area_pick = np.minimum((rng.random(n) * area_n[phone_state]).astype(np.int64), area_n[phone_state] - 1)
    areas = np.array([a for s in STATES for a in s[2]])
    area_off = np.cumsum(area_n) - area_n
    area = areas[area_off[phone_state] + area_pick]
    local_no = rng.integers(2_000_000, 9_999_999, n)
    phone_zone = np.array([s[1] for s in STATES])[phone_state]
    phone_zone_known = has_phone & (rng.random(n) < 0.85)
    return np.where(has_phone, area, -1), local_no, np.where(phone_zone_known, phone_zone, -1)
