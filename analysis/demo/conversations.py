"""Conversations and their turns: every call with outcome `conversation` (either direction) and
every inbound chat. Tone depends on the strategy and on whether a dialer check objected to the
contact; transcripts are joined from text fragments by index (see `world.fragments`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo import text as T
from analysis.demo.accounts import Accounts
from analysis.demo.agents import Agents
from analysis.demo.contacts import Contacts
from analysis.demo.world import CALL, CHANNELS, CHAT, CONVERSATION, Fragments, Loader, group_positions


@dataclass(frozen=True)
class Conversations:
    acct: np.ndarray
    strat: np.ndarray
    tone: np.ndarray  # 0 friendly, 1 neutral, 2 hostile
    promise: np.ndarray  # ends in a promise to pay
    agent: np.ndarray
    utc: np.ndarray
    local: np.ndarray
    dur: np.ndarray
    flagged: np.ndarray


def make_conversations(rng, loader: Loader, frag: Fragments, accounts: Accounts, contacts: Contacts,
                       agents: Agents) -> Conversations:
    C = contacts
    sel = np.flatnonzero(((C.chan == CALL) & (C.outcome == CONVERSATION)) | ((C.chan == CHAT) & C.inbound))
    m = len(sel)
    acct = C.acct[sel]
    strat = accounts.strategy[acct]
    flagged = C.flagged[sel]
    # Tone: friendlier under the champion; worse on contacts a dialer check objected to.
    p_host = np.where(strat == 1, 0.24, 0.11) + np.where(flagged, 0.25, 0.0)
    p_friend = np.where(strat == 1, 0.22, 0.36) * np.where(flagged, 0.5, 1.0)
    u = rng.random(m)
    tone = np.where(u < p_friend, 0, np.where(u < p_friend + p_host, 2, 1))
    promise = rng.random(m) < np.array([0.45, 0.30, 0.07])[tone] * np.where(strat == 1, 0.9, 1.0)
    no_miranda = rng.random(m) < np.where(strat == 1, 0.14, 0.05)
    prohibited = rng.random(m) < np.where(strat == 1, 0.025, 0.004) * np.where(tone == 2, 3.0, 0.5)
    vuln = rng.random(m) < np.where(accounts.vulnerable[acct], 0.35, 0.03)
    chat = C.chan[sel] == CHAT
    n_turns = np.where(chat, rng.integers(4, 11, m), rng.integers(4, 13, m))
    n_turns = np.where(prohibited | vuln, np.maximum(n_turns, 6), n_turns)
    agent = C.agent[sel]
    num = loader.next_numbers("conversation", m)
    loader.insert("conversations", pd.DataFrame({
        "num": num, "acct": accounts.num[acct], "ts": C.utc[sel],
        "channel": pd.Categorical.from_codes(C.chan[sel], CHANNELS), "agent": agent, "contact": C.num[sel],
    }), """
        select printf('CV%010d', num), printf('A%07d', acct), to_timestamp(ts), channel::varchar,
               case when agent >= 0 then printf('AG%05d', agent) end, printf('CT%010d', contact)
        from df""")
    _turns(rng, loader, frag, num=num, n_turns=n_turns, tone=tone, chat=chat, promise=promise,
           no_miranda=no_miranda, prohibited=prohibited, vuln=vuln,
           agent_first=agents.first_name[np.maximum(agent, 0)], balance=accounts.balance[acct])
    return Conversations(acct=acct, strat=strat, tone=tone, promise=promise, agent=agent, utc=C.utc[sel],
                         local=C.local[sel], dur=np.maximum(C.dur[sel], 60), flagged=flagged)


def _turns(rng, loader: Loader, frag: Fragments, *, num, n_turns, tone, chat, promise, no_miranda, prohibited,
           vuln, agent_first, balance) -> None:
    """Odd positions are the agent's, even the customer's; each turn joins up to three fragments
    (a, b, c), chosen per row by index, with the balance and an offer filled in by DuckDB."""
    m = len(num)
    ci = np.repeat(np.arange(m), n_turns)
    t = len(ci)
    pos = group_positions(n_turns)
    n = n_turns[ci]
    tn = tone[ci]
    is_agent = pos % 2 == 1
    last_agent = is_agent & (pos >= n - 1)
    last_cust = ~is_agent & (pos == n)
    f = frag
    a = np.full(t, -1, dtype=np.int64)
    b = np.full(t, -1, dtype=np.int64)
    c = np.full(t, -1, dtype=np.int64)
    u1, u2, u3 = rng.random(t), rng.random(t), rng.random(t)
    first = pos == 1
    name_idx = agent_first[ci]
    chat = chat[ci]
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
    offer = np.maximum(2_000, np.round(balance * rng.uniform(0.05, 0.3, m) / 500) * 500).astype(np.int64)
    a = np.where(last_cust, f.pick_by("cust_close", tn, u1), a)
    loader.insert("turns", pd.DataFrame({"conv": num[ci], "pos": pos, "agent": is_agent, "a": a, "b": b, "c": c,
                                         "balance": balance[ci], "offer": offer[ci]}), """
        select printf('CV%010d', t.conv), t.pos, case when t.agent then 'agent' else 'customer' end,
               replace(replace(concat_ws(' ', fa.text, fb.text, fc.text),
                               '{balance}', format('${:,.2f}', t.balance / 100.0)),
                       '{amount}', format('${:,.2f}', t.offer / 100.0))
        from df as t
        left join demo_fragments as fa on fa.id = t.a
        left join demo_fragments as fb on fb.id = t.b
        left join demo_fragments as fc on fc.id = t.c""")
