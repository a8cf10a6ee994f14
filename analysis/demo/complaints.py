"""Complaints: likelier under the challenger, for vulnerable accounts and for accounts with a
contact a dialer check objected to (their categories lean towards contact frequency, time and
harassment); sources, resolution times, outcomes and redress."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.demo import text as T
from analysis.demo.accounts import Accounts
from analysis.demo.contacts import Contacts
from analysis.demo.world import (
    COMPLAINT_OUTCOMES, COMPLAINT_SOURCES, DAY, END_TS, Fragments, Loader, choice, random_instant,
)

COMPLAINT_P = np.array([0.010, 0.022])  # base share of accounts a year (champion, challenger)
CATEGORY_P_FLAGGED = np.array([[0.30, 0.18, 0.16, 0.10, 0.08, 0.06, 0.07, 0.05]])
CATEGORY_P_OTHER = np.array([[0.12, 0.06, 0.08, 0.24, 0.22, 0.14, 0.08, 0.06]])


def make_complaints(rng, loader: Loader, frag: Fragments, accounts: Accounts, contacts: Contacts) -> None:
    n = accounts.n
    flagged_acct = np.bincount(contacts.acct[contacts.flagged], minlength=n) > 0
    p = COMPLAINT_P[accounts.strategy] + 0.04 * flagged_acct + 0.02 * accounts.vulnerable
    cnt = np.where(rng.random(n) < p, 1 + (rng.random(n) < 0.1), 0)
    acct = np.repeat(np.arange(n), cnt)
    m = len(acct)
    received = random_instant(rng, accounts, acct, 0.05, 1.0, hours=(8, 22))
    cat = choice(rng, np.where(flagged_acct[acct][:, None], CATEGORY_P_FLAGGED, CATEGORY_P_OTHER), m)
    desc = frag.pick_by("complaint", cat, rng.random(m))
    source = choice(rng, np.array([0.80, 0.12, 0.04, 0.02, 0.02]), m)
    # Resolution: median about 12 days, a tail beyond 8 weeks; some still open.
    res_s = (rng.lognormal(np.log(12), 1.0, m) * DAY).astype(np.int64) + rng.integers(3600, DAY, m)
    resolved = received + res_s
    open_ = (rng.random(m) < 0.06) | (resolved >= END_TS)
    outcome = choice(rng, np.array([0.25, 0.20, 0.45, 0.10]), m)
    redress = np.where(((outcome == 0) | (outcome == 1)) & (rng.random(m) < 0.6),
                       np.round(rng.uniform(25, 500, m)) * 100, -1).astype(np.int64)
    ok = received < END_TS
    loader.insert("complaints", pd.DataFrame({
        "num": loader.next_numbers("complaint", int(ok.sum())), "acct": accounts.num[acct][ok], "ts": received[ok],
        "source": pd.Categorical.from_codes(source[ok], COMPLAINT_SOURCES),
        "category": pd.Categorical.from_codes(cat[ok], T.COMPLAINT_CATEGORIES), "desc": desc[ok],
        "resolved": np.where(open_, -1, resolved)[ok],
        "outcome": pd.Categorical.from_codes(np.where(open_, -1, outcome)[ok], COMPLAINT_OUTCOMES),
        "redress": np.where(open_, -1, redress)[ok]}), """
        select printf('CP%08d', d.num), printf('A%07d', d.acct), to_timestamp(d.ts), d.source::varchar,
               d.category::varchar, f.text, case when d.resolved >= 0 then to_timestamp(d.resolved) end,
               d.outcome::varchar,
               case when d.redress >= 0 then round(d.redress / 100.0, 2)::decimal(18, 2) end,
               -- the CFPB export's columns (issue, sub_issue, company_response, timely_response, state,
               -- sent_to_company_date): the demo's complaints are the firm's own
               null, null, null, null, null, null
        from df as d
        left join demo_fragments as f on f.id = d.desc""")
