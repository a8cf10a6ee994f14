"""The simulated dialer's checks, read from the rule set instead of restated.

The demo does not decide which contacts are breaches: the rule engine does, after the build
(`analysis.pipeline.refresh` runs the audit on the finished tables). What the demo simulates is a
collections dialer that knows the firm's contact rules and holds back most contacts that would
break one, imperfectly (the challenger's checks are looser: `contacts.KEEP_IF`). That is how a
realistic, strategy-dependent share of breaches gets into the data, and why the generator needs
the rules' parameters at all. They come from the rule configuration
(`analysis.compliance.rules.load_rules()`, i.e. `config/rules.toml`): quiet hours' start, end,
zones and reply exemption; the opt-outs' channels; the cooldown's event, counted contacts and
window; the cap every account is under (the dialer's retry bursts break it) and the accounts that
stricter caps single out (the dialer slows down for them, and the population makes sure they exist).

The dialer checks only rules that apply to every account (no `accounts` filter), and its check
is simpler than the engine's (no consent windows, contact order by sorted time), as a real
dialer's would be; the engine's findings are the ones the product shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.compliance.rules import AccountFilter, CooldownAfterEvent, OptOut, QuietHours, RuleSet, WindowedCap
from analysis.demo.world import CHANNELS, DAY, OUTCOMES, STATE_CODES, to_local

# The checks in the order their keep probabilities are applied (contacts.KEEP_IF has one per check).
CHECKS = ("quiet_hours", "opt_out_channel", "opt_out_all", "cooldown")


def _codes(names, universe) -> np.ndarray:
    """Codes of the names that are in `universe` (channels or outcomes); others match nothing."""
    return np.array([universe.index(x) for x in names if x in universe], dtype=np.int64)


def _seconds(hhmmss: str) -> int:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return h * 3600 + m * 60 + s


def _in_directions(directions: tuple[str, ...], inbound: np.ndarray) -> np.ndarray:
    return np.where(inbound, "inbound" in directions, "outbound" in directions)


@dataclass(frozen=True)
class Dialer:
    quiet_hours: tuple[QuietHours, ...] = ()
    opt_outs: tuple[OptOut, ...] = ()
    cooldowns: tuple[CooldownAfterEvent, ...] = ()
    cap: WindowedCap | None = None  # the call cap every account is under
    tight_vulnerable: bool = False  # a stricter call cap for vulnerable accounts
    tight_states: tuple[str, ...] = ()  # stricter call caps by state (of the demo's states)

    @classmethod
    def from_rules(cls, rules: RuleSet) -> "Dialer":
        everyone = [r.params for r in rules.rules if r.params.accounts == AccountFilter()]
        call_caps = [r.params for r in rules.rules
                     if isinstance(r.params, WindowedCap) and "call" in r.params.channels
                     and "outbound" in r.params.directions]
        filtered = [p.accounts for p in call_caps if p.accounts != AccountFilter()]
        states = dict.fromkeys(s for f in filtered for s in f.state if s in STATE_CODES)
        return cls(
            quiet_hours=tuple(p for p in everyone if isinstance(p, QuietHours)),
            opt_outs=tuple(p for p in everyone if isinstance(p, OptOut)),
            cooldowns=tuple(p for p in everyone if isinstance(p, CooldownAfterEvent)),
            cap=next((p for p in call_caps if p.accounts == AccountFilter()), None),
            tight_vulnerable=any(f.vulnerable for f in filtered),
            tight_states=tuple(states),
        )

    def tight(self, vulnerable: np.ndarray, state: np.ndarray) -> np.ndarray:
        """Accounts under a stricter call cap than everyone's."""
        out = vulnerable.copy() if self.tight_vulnerable else np.zeros(len(state), dtype=bool)
        for code in self.tight_states:
            out |= state == STATE_CODES.index(code)
        return out

    def checks(self, c, zone: np.ndarray, phone_zone: np.ndarray, opt: np.ndarray, cease: np.ndarray) -> dict:
        """Which drafted contacts `c` (sorted by account, then time) would break a rule, per check
        of CHECKS. The dialer's retry bursts skip the quiet-hours and cooldown checks; replies
        within a quiet-hours rule's exemption are exempt from it as the rule says."""
        k = len(c.acct)
        flags = {name: np.zeros(k, dtype=bool) for name in CHECKS}
        for p in self.quiet_hours:
            start, end = _seconds(p.start), _seconds(p.end)
            exempt = c.is_burst.copy()
            if p.reply_exemption_hours > 0:
                exempt |= (c.reply_delay >= 0) & (c.reply_delay <= p.reply_exemption_hours * 3600)
            outside = np.zeros(k, dtype=bool)
            if "timezone" in p.zones:
                second = c.local % DAY
                outside |= (second < start) | (second >= end)
            if "phone_timezone" in p.zones:
                pz = phone_zone[c.acct]
                diff = (pz >= 0) & (pz != zone[c.acct])
                if diff.any():
                    second = to_local(c.utc[diff], pz[diff]) % DAY
                    outside[diff] |= (second < start) | (second >= end)
            flags["quiet_hours"] |= (_in_directions(p.directions, c.inbound) & np.isin(c.chan, _codes(p.channels, CHANNELS))
                                     & outside & ~exempt)
        for p in self.opt_outs:
            applies = _in_directions(p.directions, c.inbound) & np.isin(c.chan, _codes(p.channels, CHANNELS))
            if p.scope == "channel":
                flags["opt_out_channel"] |= applies & (c.utc > opt[c.acct, c.chan])
            else:
                flags["opt_out_all"] |= applies & (c.utc > cease[c.acct])
        lday = c.local // DAY
        for p in self.cooldowns:
            ev = p.event
            event = (np.isin(c.chan, _codes(ev.channels, CHANNELS)) & np.isin(c.outcome, _codes(ev.outcomes, OUTCOMES))
                     & _in_directions(ev.directions, c.inbound))
            counted = (np.isin(c.chan, _codes(p.channels, CHANNELS)) & _in_directions(p.directions, c.inbound)
                       & ~np.isin(c.outcome, _codes(p.outcomes_excluded, OUTCOMES)))
            last = _last_event_day(c.acct, lday, event)
            flags["cooldown"] |= counted & ~c.is_burst & (last >= 0) & (lday <= last + p.window_days - 1)
        return flags


def _last_event_day(acct: np.ndarray, lday: np.ndarray, event: np.ndarray) -> np.ndarray:
    """The local day of the account's latest event on an earlier row (rows sorted by account,
    then time), -1 if none: a running maximum per account."""
    big = np.int64(1) << 32
    base = acct.astype(np.int64) * big
    run = np.maximum.accumulate(base + np.where(event, lday + 1, 0)) - base - 1
    prev = np.concatenate([[-1], run[:-1]])
    first_of_acct = np.concatenate([[True], acct[1:] != acct[:-1]])
    prev[first_of_acct] = -1
    return prev
