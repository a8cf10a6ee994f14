-- Macro: plan_bound_quiet_hours(p_rule_id, p_channels, p_directions, p_start, p_end, p_zones, p_reply_exemption_hours, p_vulnerable, p_states, p_portfolios, p_products, p_teams, p_strategies, p_new_channels)
-- The contact plan's bounds from one quiet_hours rule: one more outbound contact is allowed when its
-- wall time is at or after p_start and before p_end in the account's timezone and, when p_zones has it
-- and it is given, in its phone_timezone. In the account's zone that is one span of the plan's date;
-- the phone zone's allowed spans (on its dates D - 1, D and D + 1) cut it, and the earliest piece left
-- is the window (the other rules only ever end a window, so the earliest piece is the one that
-- survives them whenever any does). No piece left: an empty window (lo after hi).
-- The reply exemption is not used: a planned contact is not a reply.
-- Grain: one row per (selected account, channel in p_new_channels). The spans are computed once per
--   pair of zones (a few), not per account.
-- Reads: temp table plan_accounts (queries/plan_accounts.sql).
-- Parameters: as rule_quiet_hours's (p_channels, p_directions and p_reply_exemption_hours are not used
--   here); p_new_channels: the plan's channels the rule covers for an outbound contact.
-- Columns: lo (first allowed whole second), hi (last allowed whole second), left_at_start and
--   cooldown_ends (null).
with

accounts as (
    select account_key, timezone, phone_timezone, day_number, day_start, day_last
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

shifts as (
    select unnest([-1, 0, 1]) as shift
),

zone_pairs as (
    select distinct timezone, phone_timezone, day_number, day_start, day_last
    from accounts
),

own_zone as (
    select
        timezone,
        phone_timezone,
        day_number,
        case
            when list_contains(cast(p_zones as varchar[]), 'timezone')
                then timezone(timezone, (date '1970-01-01' + day_number) + cast(p_start as time))
            else day_start
        end as lo,
        case
            when list_contains(cast(p_zones as varchar[]), 'timezone')
                then timezone(timezone, (date '1970-01-01' + day_number) + cast(p_end as time)) - interval 1 second
            else day_last
        end as hi
    from zone_pairs
),

phone_pieces as (
    select
        o.timezone,
        o.phone_timezone,
        greatest(o.lo, timezone(o.phone_timezone, (date '1970-01-01' + o.day_number + k.shift) + cast(p_start as time)))
            as lo,
        least(
            o.hi,
            timezone(o.phone_timezone, (date '1970-01-01' + o.day_number + k.shift) + cast(p_end as time))
            - interval 1 second
        ) as hi
    from own_zone as o
    cross join shifts as k
    where list_contains(cast(p_zones as varchar[]), 'phone_timezone') and o.phone_timezone is not null
),

phone_window as (
    select
        timezone,
        phone_timezone,
        min(lo) filter (where lo <= hi) as lo,
        arg_min(hi, lo) filter (where lo <= hi) as hi
    from phone_pieces
    group by timezone, phone_timezone
),

windows as (
    select
        o.timezone,
        o.phone_timezone,
        case
            when not list_contains(cast(p_zones as varchar[]), 'phone_timezone') or o.phone_timezone is null then o.lo
            else coalesce(p.lo, o.lo)
        end as lo,
        case
            when not list_contains(cast(p_zones as varchar[]), 'phone_timezone') or o.phone_timezone is null then o.hi
            else coalesce(p.hi, o.lo - interval 1 second)
        end as hi
    from own_zone as o
    left join phone_window as p on o.timezone = p.timezone and o.phone_timezone = p.phone_timezone
),

final as (
    select
        a.account_key,
        n.channel,
        p_rule_id as rule_id,
        w.lo,
        w.hi,
        cast(null as bigint) as left_at_start,
        cast(null as timestamptz) as cooldown_ends
    from accounts as a
    inner join windows as w on a.timezone = w.timezone and a.phone_timezone is not distinct from w.phone_timezone
    cross join new_channels as n
)

select * from final
