-- Macro: plan_bound_cooldown_after_event(p_rule_id, p_window_days, p_noun, p_event_channels, p_event_directions, p_event_outcomes, p_event_noun, p_vulnerable, p_states, p_portfolios, p_products, p_teams, p_strategies, p_new_channels)
-- The contact plan's bound from one cooldown_after_event rule: one more counted contact at instant t on
-- the plan's local date D breaches when an event v of the account has v.ts < t and D <= d(v) +
-- p_window_days - 1. So with events dated in [D - p_window_days + 1, D], the bound is an end: the
-- earliest such event's instant (t = v.ts is not after it), to the whole second.
-- Grain: one row per (account with such an event, channel in p_new_channels).
-- Reads: temp tables plan_accounts, plan_contacts (queries/plan_*.sql).
-- Parameters: as rule_cooldown_after_event's (p_noun and p_event_noun are not used here); p_new_channels:
--   the plan's channels on which the new contact is one this rule counts.
-- Columns: lo (null), hi, left_at_start (null), cooldown_ends (the instant the latest event's cooldown
--   ends: local midnight after its last day).
with

accounts as (
    select account_key, timezone, day_number
    from plan_accounts
    where rule_selects(
            p_vulnerable, cast(p_states as varchar[]), cast(p_portfolios as varchar[]),
            cast(p_products as varchar[]), cast(p_teams as varchar[]), cast(p_strategies as varchar[]),
            vulnerable, state_code, portfolio, product, team, strategy
        )
),

new_channels as (
    select unnest(cast(p_new_channels as varchar[])) as channel
),

events as (
    select
        c.account_key,
        min(c.ts) as first_ts,
        max(c.day_number) as last_day
    from plan_contacts as c
    inner join accounts as a on c.account_key = a.account_key
    where list_contains(cast(p_event_channels as varchar[]), c.channel)
        and list_contains(cast(p_event_directions as varchar[]), c.direction)
        and list_contains(cast(p_event_outcomes as varchar[]), c.outcome)
        and c.day_number between a.day_number - p_window_days + 1 and a.day_number
    group by c.account_key
),

final as (
    select
        e.account_key,
        n.channel,
        p_rule_id as rule_id,
        cast(null as timestamptz) as lo,
        floor_second(e.first_ts) as hi,
        cast(null as bigint) as left_at_start,
        timezone(a.timezone, cast(date '1970-01-01' + e.last_day + p_window_days as timestamp)) as cooldown_ends
    from events as e
    inner join accounts as a on e.account_key = a.account_key
    cross join new_channels as n
)

select * from final
