"""Survey responses after conversations: NPS and CSAT around the conversation's tone (lower under
the challenger), comments by theme."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.demo.accounts import Accounts
from analysis.demo.conversations import Conversations
from analysis.demo.world import (
    DAY, END_TS, SURVEY_CHANNELS, TH_BAD_TIME, TH_BALANCE, TH_EASY, TH_HELPFUL, TH_PLAN, TH_RUDE, TH_TOO_MANY,
    Fragments, Loader, choice,
)


def make_surveys(rng, loader: Loader, frag: Fragments, accounts: Accounts, conv: Conversations) -> None:
    s = np.flatnonzero(rng.random(len(conv.acct)) < 0.11)
    delay = rng.integers(3600, 3 * DAY, len(s))
    s, delay = s[conv.utc[s] + delay < END_TS], delay[conv.utc[s] + delay < END_TS]
    m = len(s)
    tone = conv.tone[s]
    strat = conv.strat[s]
    ts = conv.utc[s] + delay
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
    comment = frag.pick_by("theme", theme, rng.random(m))
    comment = np.where(rng.random(m) < 0.55, comment, -1)
    loader.insert("surveys", pd.DataFrame({
        "num": loader.next_numbers("response", m), "acct": accounts.num[conv.acct[s]], "ts": ts,
        "nps": np.where(has_nps, nps, -1), "csat": np.where(has_csat, csat, -1), "comment": comment,
        "channel": pd.Categorical.from_codes(choice(rng, np.array([0.5, 0.35, 0.15]), m), SURVEY_CHANNELS),
        "agent": conv.agent[s]}), """
        select printf('S%09d', d.num), printf('A%07d', d.acct), to_timestamp(d.ts), nullif(d.nps, -1),
               nullif(d.csat, -1), f.text, d.channel::varchar,
               case when d.agent >= 0 then printf('AG%05d', d.agent) end
        from df as d
        left join demo_fragments as f on f.id = d.comment""")
