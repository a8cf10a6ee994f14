"""The dashboard's shared filters, as a plain value every analysis function accepts.

An empty tuple means "all". `params()` gives the bound parameters that the query files use as
`$start`, `$end`, `$portfolios`, `$teams`, `$channels`, `$strategies`, through the semantic layer's
`chosen($teams, a.team)` and `account_chosen($portfolios, $teams, $strategies, ...)`
(queries/semantic/macros.sql); a query binds only those it uses (analysis.db.bind).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analysis.errors import UserError


def check_tz(tz: str) -> str:
    """A reporting time zone, validated: an IANA name such as UTC or America/Chicago."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"time zone {tz!r} is unknown: give an IANA zone name such as UTC or America/Chicago") from None
    return tz


@dataclass(frozen=True)
class Filters:
    start: date | None = None  # inclusive, UTC calendar date of the event
    end: date | None = None  # inclusive
    portfolios: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()

    def params(self, tz: str | None = None, **extra) -> dict:
        """The bound parameters of the queries: the filters, the reporting zone `$tz` (validated)
        when given, and any `extra` ones. A query binds only those it uses (analysis.db.bind)."""
        return {
            "start": self.start or date(1900, 1, 1),
            "end": self.end or date(9999, 12, 31),
            "portfolios": list(self.portfolios),
            "teams": list(self.teams),
            "channels": list(self.channels),
            "strategies": list(self.strategies),
            **({} if tz is None else {"tz": check_tz(tz)}),
            **extra,
        }


ALL = Filters()
