"""Promises to pay (from conversations) and payments: promises kept, late or broken; regular
payers' instalments; settlements' lump sums; a few reversals."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.demo.accounts import Accounts
from analysis.demo.conversations import Conversations
from analysis.demo.world import DAY, END_DAY, END_TS, METHODS, Loader, choice, group_positions, to_utc

PAYER_P = np.array([0.20, 0.22])  # share of regular payers (champion, challenger)
PROMISE_FATE_P = np.array([[0.56, 0.16, 0.28], [0.50, 0.18, 0.32]])  # kept, late, broken (champion, challenger)


def make_promises_and_payments(rng, loader: Loader, accounts: Accounts, conv: Conversations) -> None:
    rows = [_promises(rng, loader, accounts, conv), _regular_and_settlements(rng, accounts)]
    acct, day, amount = (np.concatenate(parts) for parts in zip(*rows))
    _payments(rng, loader, accounts, acct, day, amount)


def _promises(rng, loader: Loader, accounts: Accounts, conv: Conversations):
    """Load the promises; return the payments made on them (account, local day, amount): kept on
    or before the due date, late after the 3-day grace, broken: a part or nothing."""
    p = np.flatnonzero(conv.promise & (conv.utc + conv.dur < END_TS))
    acct = conv.acct[p]
    bal = accounts.balance[acct]
    amount = np.maximum(2_000, np.round(bal * rng.uniform(0.05, 0.35, len(p)) / 500) * 500).astype(np.int64)
    amount = np.minimum(amount, bal)
    created = conv.utc[p] + conv.dur[p]
    cday = conv.local[p] // DAY
    due = cday + rng.integers(3, 22, len(p))
    strat = accounts.strategy[acct]
    fate = choice(rng, PROMISE_FATE_P[strat], len(p))
    loader.insert("promises", pd.DataFrame({
        "num": loader.next_numbers("promise", len(p)), "acct": accounts.num[acct], "ts": created,
        "due": due.astype(np.int32), "amount": amount, "agent": conv.agent[p]}), """
        select printf('PR%09d', num), printf('A%07d', acct), to_timestamp(ts), date '1970-01-01' + due,
               round(amount / 100.0, 2)::decimal(18, 2), case when agent >= 0 then printf('AG%05d', agent) end
        from df""")
    pay_day = np.select([fate == 0, fate == 1], [np.maximum(due - rng.integers(0, 4, len(p)), cday),
                                                 due + rng.integers(4, 26, len(p))], due)
    part = (fate == 2) & (rng.random(len(p)) < 0.3)
    pay_amt = np.where(part, (amount * rng.uniform(0.2, 0.6, len(p))).astype(np.int64), amount)
    paid = (fate < 2) | part
    return acct[paid], pay_day[paid], pay_amt[paid]


def _regular_and_settlements(rng, accounts: Accounts):
    """Regular payers outside promises pay instalments about monthly; settled accounts pay a lump
    sum on their last active day. Returns (account, local day, amount)."""
    payer = np.flatnonzero(rng.random(accounts.n) < PAYER_P[accounts.strategy])
    k = rng.integers(1, 9, len(payer))
    r_acct = np.repeat(payer, k)
    span = accounts.active_end[payer] - accounts.active_start[payer]
    start = accounts.active_start[payer] + (span * rng.random(len(payer)) * 0.7).astype(np.int64)
    r_day = np.repeat(start, k) + (group_positions(k) - 1) * 30 + rng.integers(-2, 3, len(r_acct))
    r_amt = np.maximum(1_000, accounts.balance[r_acct] * rng.uniform(0.03, 0.15, len(r_acct))).astype(np.int64)
    settled = np.flatnonzero(accounts.active_end < END_DAY)
    s_amt = (accounts.balance[settled] * rng.uniform(0.3, 0.7, len(settled))).astype(np.int64)
    return (np.concatenate([r_acct, settled]), np.concatenate([r_day, accounts.active_end[settled]]),
            np.concatenate([r_amt, s_amt]))


def _payments(rng, loader: Loader, accounts: Accounts, acct, day, amount) -> None:
    """Load the payments (local day -> an instant between 07:00 and 23:00), with a few reversals
    (bounced direct debits, chargebacks): the same amount back, negative, days later."""
    ts = to_utc(day * DAY + rng.integers(7 * 3600, 23 * 3600, len(acct)), accounts.zone[acct])
    method = choice(rng, np.array([0.35, 0.25, 0.25, 0.05, 0.10]), len(acct))
    rev = np.flatnonzero(rng.random(len(acct)) < 0.02)
    acct = np.concatenate([acct, acct[rev]])
    amount = np.concatenate([amount, -amount[rev]])
    ts = np.concatenate([ts, ts[rev] + rng.integers(2 * DAY, 10 * DAY, len(rev))])
    method = np.concatenate([method, method[rev]])
    ok = ts < END_TS
    acct, amount, ts, method = acct[ok], amount[ok], ts[ok], method[ok]
    o = np.lexsort((ts, acct))
    acct, amount, ts, method = acct[o], amount[o], ts[o], method[o]
    loader.insert("payments", pd.DataFrame({
        "num": loader.next_numbers("payment", len(ts)), "acct": accounts.num[acct], "ts": ts, "amount": amount,
        "method": pd.Categorical.from_codes(method, METHODS)}), """
        select printf('P%010d', num), printf('A%07d', acct), to_timestamp(ts),
               round(amount / 100.0, 2)::decimal(18, 2), method::varchar
        from df""")
