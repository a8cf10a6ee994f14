"""Agents: about one per 280 accounts, in teams over their sites, with names from the text pools."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo import text as T
from analysis.demo.world import TEAMS, Loader


@dataclass(frozen=True)
class Agents:
    team_size: np.ndarray  # agents per team
    team_off: np.ndarray  # number of each team's first agent
    first_name: np.ndarray  # index into text.AGENT_FIRST_NAMES, per agent

    def pick(self, rng, team: np.ndarray) -> np.ndarray:
        """A random agent of each row's team."""
        return self.team_off[team] + np.minimum((rng.random(len(team)) * self.team_size[team]).astype(np.int64),
                                                self.team_size[team] - 1)


def make_agents(rng, loader: Loader, n_accounts: int) -> Agents:
    shares = np.array([t[2] for t in TEAMS])
    sizes = np.maximum(3, np.round(n_accounts * shares / 280)).astype(np.int64)
    n = int(sizes.sum())
    team = np.repeat(np.arange(len(TEAMS)), sizes)
    site_choice = rng.random(n)
    unique_sites = list(dict.fromkeys(s for t in TEAMS for s in t[1]))
    team_sites = np.array([unique_sites.index(s) for t in TEAMS for s in t[1]])
    site_n = np.array([len(t[1]) for t in TEAMS])
    site_off = np.cumsum(site_n) - site_n
    site = team_sites[site_off[team] + np.minimum((site_choice * site_n[team]).astype(np.int64), site_n[team] - 1)]
    first = rng.integers(0, len(T.AGENT_FIRST_NAMES), n)
    last = rng.integers(0, len(T.AGENT_LAST_NAMES), n)
    names = [f"{T.AGENT_FIRST_NAMES[a]} {T.AGENT_LAST_NAMES[b]}" for a, b in zip(first, last)]
    df = pd.DataFrame({
        "num": np.arange(n),
        "team": pd.Categorical.from_codes(team, [t[0] for t in TEAMS]),
        "site": pd.Categorical.from_codes(site, unique_sites),
        "name": names,
    })
    loader.insert("agents", df, "select printf('AG%05d', num), team::varchar, site::varchar, name from df")
    return Agents(team_size=sizes, team_off=np.cumsum(sizes) - sizes, first_name=first)
