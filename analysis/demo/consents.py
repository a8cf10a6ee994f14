"""Consents (direct prior consent to be called) and preferences (medium opt-outs, written
requests to cease communication)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo.accounts import Accounts
from analysis.demo.world import CALL, CHANNELS, EMAIL, NEVER, SMS, Loader, at_least, choice, random_instant


@dataclass(frozen=True)
class Preferences:
    opt: np.ndarray  # accounts x channels: when the account opted out of the channel (NEVER if not)
    cease: np.ndarray  # per account: when it asked to cease communication (NEVER if not)


def make_consents_and_preferences(rng, loader: Loader, accounts: Accounts) -> Preferences:
    n = accounts.n
    # Consents: direct prior consent to be called (opens a window of calls that do not count).
    c_acct = np.flatnonzero(at_least(rng, rng.random(n) < 0.05, 4))
    given = random_instant(rng, accounts, c_acct, 0.05, 0.9)
    loader.insert("consents", pd.DataFrame({"num": accounts.num[c_acct], "ts": given}),
                  "select printf('A%07d', num), to_timestamp(ts) from df")
    # Medium opt-outs (call/sms/email) and written requests to cease communication.
    opt = np.full((n, len(CHANNELS)), NEVER, dtype=np.int64)
    o_acct = np.flatnonzero(at_least(rng, rng.random(n) < 0.07, 8))
    o_chan = np.array([CALL, SMS, EMAIL])[choice(rng, np.array([0.3, 0.45, 0.25]), len(o_acct))]
    o_ts = random_instant(rng, accounts, o_acct, 0.0, 0.8)
    opt[o_acct, o_chan] = o_ts
    cease = np.full(n, NEVER, dtype=np.int64)
    x_acct = np.flatnonzero(at_least(rng, rng.random(n) < 0.015, 5))
    x_ts = random_instant(rng, accounts, x_acct, 0.1, 0.8)
    cease[x_acct] = x_ts
    pref = pd.DataFrame({
        "num": np.concatenate([accounts.num[o_acct], accounts.num[x_acct]]),
        "channel": pd.Categorical.from_codes(
            np.concatenate([o_chan, np.full(len(x_acct), len(CHANNELS))]), CHANNELS + ("all",)),
        "ts": np.concatenate([o_ts, x_ts]),
    })
    loader.insert("preferences", pref, "select printf('A%07d', num), channel::varchar, to_timestamp(ts) from df")
    return Preferences(opt=opt, cease=cease)
