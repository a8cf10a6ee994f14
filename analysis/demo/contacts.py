"""Contacts: the strategies' traffic, replies to inbound messages, the dialer's retry bursts, call
outcomes, the dialer holding back (imperfectly) contacts that would break a rule, agents and
durations.

Which of the loaded contacts are breaches is for the rule engine to find after the build; here
the dialer holds back the contacts its checks (`dialer.Dialer`, read from the rule set) object
to, keeping each only with a probability per check and strategy (`KEEP_IF`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from analysis.demo.accounts import Accounts
from analysis.demo.agents import Agents
from analysis.demo.consents import Preferences
from analysis.demo.dialer import CHECKS, Dialer
from analysis.demo.world import (
    BOUNCED, BUSY, CALL, CHANNELS, CHAT, CONVERSATION, DAY, DROPPED, EMAIL, END_TS, FAILED, LETTER, NO_ANSWER,
    NOT_CONNECTED, OUTCOMES, RECEIVED, RETURNED, SENT, SMS, THIRD_PARTY, VOICEMAIL, Loader, at_least, choice,
    to_utc,
)

# Behaviour of the two strategies (index 0 champion, 1 challenger).
CONTACTS_PER_DAY = np.array([0.18, 0.29])
TIGHT_SLOWDOWN = np.array([0.45, 0.8])  # the dialer's rate for accounts under a stricter cap
OUTBOUND_CHANNEL_P = np.array([[0.58, 0.18, 0.14, 0.07, 0.03], [0.70, 0.13, 0.10, 0.05, 0.02]])
INBOUND_CHANNEL_P = np.array([0.50, 0.22, 0.12, 0.03, 0.13])
BURST_P = np.array([0.012, 0.05])  # accounts that get a burst of calls that breaks the cap
# Probability that a contact the dialer's check objects to is made anyway (the dialer's checks
# are imperfect; the challenger's are looser), per check of dialer.CHECKS. Contacts no check
# objects to are always kept.
KEEP_IF = {
    "quiet_hours": np.array([0.20, 0.50]),
    "opt_out_channel": np.array([0.04, 0.15]),
    "opt_out_all": np.array([0.03, 0.10]),
    "cooldown": np.array([0.03, 0.12]),
}
assert tuple(KEEP_IF) == CHECKS

# Local hour weights 0..23: mostly 08-21, about 1 % of outbound contacts outside it.
OUT_HOUR_W = np.array([0, 0, 0, 0, 0, 0, 0.03, 0.5, 4, 7, 8, 8, 7, 7, 7, 7, 7, 8, 8.5, 7.5, 5, 0.7, 0.15, 0.02])
IN_HOUR_W = np.array([0.1, 0.05, 0, 0, 0, 0.05, 0.3, 1.5, 4, 6, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 5, 3.5, 2, 0.8])
LETTER_HOUR_W = np.array([0] * 9 + [3, 3, 3, 3, 3, 3, 3, 3] + [0] * 7, dtype=float)


@dataclass(frozen=True)
class Contacts:
    """The loaded contacts of a chunk, sorted by account, then time."""

    acct: np.ndarray  # position of the account in the chunk
    chan: np.ndarray
    inbound: np.ndarray
    local: np.ndarray  # local wall time in the account's zone (epoch seconds as if UTC)
    utc: np.ndarray
    outcome: np.ndarray
    agent: np.ndarray  # -1: none
    dur: np.ndarray  # -1: none
    num: np.ndarray
    flagged: np.ndarray  # a dialer check objected to it (and it was made anyway)


@dataclass(frozen=True)
class _Draft:
    """Contacts before the dialer's checks: every array has one row per drafted contact."""

    acct: np.ndarray
    chan: np.ndarray
    inbound: np.ndarray
    local: np.ndarray
    utc: np.ndarray
    reply_delay: np.ndarray  # seconds after the inbound message it answers; -1: not a reply
    is_burst: np.ndarray
    outcome: np.ndarray

    def take(self, idx: np.ndarray) -> "_Draft":
        return _Draft(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def make_contacts(rng, loader: Loader, accounts: Accounts, prefs: Preferences, agents: Agents,
                  dialer: Dialer) -> Contacts:
    d = _draft(rng, accounts, dialer)
    d = d.take(np.lexsort((d.utc, d.acct)))  # the rules' contact order: by account, then time
    flags = dialer.checks(d, accounts.zone, accounts.phone_zone, prefs.opt, prefs.cease)
    keep_p = np.ones(len(d.acct))
    strat = accounts.strategy[d.acct]
    for name, flag in flags.items():
        keep_p = np.where(flag, keep_p * KEEP_IF[name][strat], keep_p)
    keep = (rng.random(len(d.acct)) < keep_p) & (d.utc < END_TS)
    flagged = np.logical_or.reduce(list(flags.values()))[keep]
    d = d.take(keep)
    agent, dur = _agents_and_durations(rng, accounts, agents, d)
    num = loader.next_numbers("contact", len(d.acct))
    df = pd.DataFrame({
        "num": num, "acct": accounts.num[d.acct], "ts": d.utc,
        "channel": pd.Categorical.from_codes(d.chan, CHANNELS),
        "inbound": d.inbound, "outcome": pd.Categorical.from_codes(d.outcome, OUTCOMES),
        "agent": agent, "dur": dur,
    })
    loader.insert("contacts", df, """
        select printf('CT%010d', num), printf('A%07d', acct), to_timestamp(ts), channel::varchar,
               case when inbound then 'inbound' else 'outbound' end, outcome::varchar,
               case when agent >= 0 then printf('AG%05d', agent) end, nullif(dur, -1)
        from df""")
    return Contacts(acct=d.acct, chan=d.chan, inbound=d.inbound, local=d.local, utc=d.utc, outcome=d.outcome,
                    agent=agent, dur=dur, num=num, flagged=flagged)


def _draft(rng, accounts: Accounts, dialer: Dialer) -> _Draft:
    """Everything the strategies and the dialer would do, unchecked: traffic, replies, bursts."""
    acct, chan, inbound, local = _traffic(rng, accounts, dialer)
    k = len(acct)
    # Replies: an inbound sms/email/chat often gets an outbound answer on the same channel
    # within minutes to two hours.
    r_src = np.flatnonzero(inbound & np.isin(chan, [SMS, EMAIL, CHAT]) & (rng.random(k) < 0.6))
    r_delay = rng.integers(60, 7200, len(r_src))
    b_rows, b_local = _bursts(rng, accounts, dialer)
    acct = np.concatenate([acct, acct[r_src], b_rows])
    chan = np.concatenate([chan, chan[r_src], np.full(len(b_rows), CALL)])
    inbound = np.concatenate([inbound, np.zeros(len(r_src) + len(b_rows), dtype=bool)])
    local = np.concatenate([local, local[r_src] + r_delay, b_local])
    reply_delay = np.concatenate([np.full(k, -1), r_delay, np.full(len(b_rows), -1)])
    is_burst = np.concatenate([np.zeros(k + len(r_src), dtype=bool), np.ones(len(b_rows), dtype=bool)])
    utc = to_utc(local, accounts.zone[acct])
    # A reply is r_delay after its inbound message in elapsed time, whatever the local clock does.
    utc[k:k + len(r_src)] = utc[r_src] + r_delay
    outcome = _outcomes(rng, chan, inbound, is_burst, local)
    return _Draft(acct=acct, chan=chan, inbound=inbound, local=local, utc=utc, reply_delay=reply_delay,
                  is_burst=is_burst, outcome=outcome)


def _traffic(rng, accounts: Accounts, dialer: Dialer):
    """The strategies' ordinary contacts: account, channel, direction and local wall time."""
    n = accounts.n
    strat = accounts.strategy
    span = (accounts.active_end - accounts.active_start + 1).astype(np.float64)
    rate = CONTACTS_PER_DAY[strat] * rng.gamma(2.0, 0.5, n)
    # The dialer slows down for accounts under a stricter cap (vulnerable, some states): much more under the champion.
    tight = dialer.tight(accounts.vulnerable, accounts.state)
    rate = np.where(tight, rate * TIGHT_SLOWDOWN[strat], rate)
    counts = rng.poisson(rate * span)
    acct = np.repeat(np.arange(n), counts)
    k = len(acct)
    # Front-loaded: more contact soon after placement.
    day = accounts.active_start[acct] + (span[acct] * rng.random(k) ** 1.4).astype(np.int64)
    wd = (day + 3) % 7  # 0 = Monday
    u = rng.random(k)
    day = np.where((wd == 6) & (u < 0.88), day + 1, day)  # most Sunday work moves to Monday
    day = np.where((wd == 5) & (u < 0.55), day - 1, day)  # about half of Saturday's to Friday
    day = np.clip(day, accounts.active_start[acct], accounts.active_end[acct])
    inbound = rng.random(k) < 0.07
    chan = np.where(inbound, choice(rng, INBOUND_CHANNEL_P, k), choice(rng, OUTBOUND_CHANNEL_P[strat[acct]], k))
    hour = np.where(inbound, choice(rng, IN_HOUR_W, k),
                    np.where(chan == LETTER, choice(rng, LETTER_HOUR_W, k), choice(rng, OUT_HOUR_W, k)))
    local = day * DAY + hour * 3600 + rng.integers(0, 3600, k)
    return acct, chan, inbound, local


def _bursts(rng, accounts: Accounts, dialer: Dialer):
    """The dialer retrying: cap + 1 to cap + 4 calls within window - 1 days of the cap every
    account is under (Regulation F's 7 in 7: 8-11 calls in 6 days). Rows (account) and local times."""
    cap = dialer.cap
    if cap is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    n = accounts.n
    span = (accounts.active_end - accounts.active_start + 1).astype(np.float64)
    window = cap.window_days
    b_acct = np.flatnonzero(at_least(rng, rng.random(n) < BURST_P[accounts.strategy], 3) & (span >= 2 * window))
    b_n = rng.integers(cap.cap + 1, cap.cap + 5, len(b_acct))
    b_rows = np.repeat(b_acct, b_n)
    b_start = accounts.active_start[b_acct] + ((span[b_acct] - window) * rng.random(len(b_acct))).astype(np.int64)
    b_day = np.repeat(b_start, b_n) + rng.integers(0, max(1, window - 1), len(b_rows))
    return b_rows, b_day * DAY + rng.integers(9 * 3600, 19 * 3600, len(b_rows))


def _outcomes(rng, chan, inbound, is_burst, local) -> np.ndarray:
    """Right-party conversations are likelier in the evening (people are home); bursts go unanswered."""
    k = len(chan)
    lhour = (local % DAY) // 3600
    p_conv = np.where((lhour >= 17) & (lhour < 21), 0.19, np.where(lhour < 10, 0.07, 0.11))
    rest = np.stack([p_conv, np.full(k, 0.05), np.full(k, 0.05), np.full(k, 0.05), np.full(k, 0.03), np.full(k, 0.27)], axis=1)
    rest = np.concatenate([rest, (1 - rest.sum(axis=1))[:, None]], axis=1)
    order_codes = np.array([CONVERSATION, THIRD_PARTY, BUSY, NOT_CONNECTED, DROPPED, VOICEMAIL, NO_ANSWER])
    out_call = order_codes[choice(rng, rest, k)]
    in_call = np.where(rng.random(k) < 0.9, CONVERSATION, DROPPED)
    burst_call = np.where(rng.random(k) < 0.6, NO_ANSWER, VOICEMAIL)
    u = rng.random(k)
    other_out = np.where((chan == EMAIL) & (u < 0.03), BOUNCED,
                         np.where((chan == SMS) & (u < 0.02), FAILED,
                                  np.where((chan == LETTER) & (u < 0.02), RETURNED, SENT)))
    return np.where(chan == CALL,
                    np.where(inbound, in_call, np.where(is_burst, burst_call, out_call)),
                    np.where(inbound, RECEIVED, other_out))


def _agents_and_durations(rng, accounts: Accounts, agents: Agents, d: _Draft):
    """Dialer attempts that never connect have no agent; texts, emails and letters are automated."""
    k = len(d.acct)
    chan, outcome = d.chan, d.outcome
    agent = agents.pick(rng, accounts.team[d.acct])
    has_agent = ((chan == CALL) & np.isin(outcome, [CONVERSATION, VOICEMAIL, THIRD_PARTY, DROPPED])) | (chan == CHAT)
    agent = np.where(has_agent, agent, -1)
    dur = np.full(k, -1, dtype=np.int64)
    lg = rng.lognormal(np.log(260), 0.6, k).astype(np.int64)
    dur = np.where(chan == CALL, np.select(
        [outcome == CONVERSATION, outcome == VOICEMAIL, outcome == NO_ANSWER, outcome == BUSY,
         outcome == NOT_CONNECTED, outcome == THIRD_PARTY, outcome == DROPPED],
        [lg, rng.integers(15, 50, k), rng.integers(12, 40, k), rng.integers(1, 6, k),
         rng.integers(0, 4, k), rng.integers(20, 150, k), rng.integers(3, 60, k)], -1), dur)
    dur = np.where((chan == CHAT) & d.inbound, lg * 2, dur)
    return agent, dur
