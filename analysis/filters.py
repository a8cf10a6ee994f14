"""The dashboard's shared filters, as a plain value every analysis function accepts.

An empty tuple means "all". `params()` gives the bound parameters that the query files use as
`$start`, `$end`, `$portfolios`, `$teams`, `$channels`, `$strategies`, through the semantic layer's
`chosen($teams, a.team)` and `account_chosen($portfolios, $teams, $strategies, ...)`
(queries/semantic/macros.sql); a query binds only those it uses (analysis.db.bind).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Filters:
    start: date | None = None  # inclusive, UTC calendar date of the event
    end: date | None = None  # inclusive
    portfolios: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()

    def params(self) -> dict:
        return {
            "start": self.start or date(1900, 1, 1),
            "end": self.end or date(9999, 12, 31),
            "portfolios": list(self.portfolios),
            "teams": list(self.teams),
            "channels": list(self.channels),
            "strategies": list(self.strategies),
        }


ALL = Filters()
