-- The periods drawn on one account's timeline: consent windows, post-conversation cooldowns, opt-outs.
-- Grain: one row per span of account $account_id (kind, start_local, end_local, label, source_id).
--   consent_window: from the consent's instant to the end of local day d(G) + $consent_window_days - 1
--     (SPEC section 2: placed calls with ts >= G and d(c) <= d(G) + 6 when it is 7).
--   cooldown: from an event of the cooldown rule (by default a telephone conversation: channel
--     call, outcome conversation, either direction) to the end of local day d(v) + $cooldown_days - 1
--     (the event's local date is day 1).
--   opt_out / cease: from a preferences row's opted_out_at, open-ended (end_local null); label
--     names the channel ('all' = cease communication).
-- Parameters: $account_id; $consent_window_days, $cooldown_days (days, from the rule set, 7 by
--   default); $event_channels, $event_outcomes, $event_directions (lists: the cooldown's event).
-- Units: start_local and end_local are wall times in the account's timezone (TIMESTAMP, no zone).
with

accounts as (
    select account_id, timezone
    from accounts
    where account_id = $account_id
),

consents as (
    select account_id, given_at
    from consents
    where account_id = $account_id
),

conversations as (
    select contact_id, account_id, ts, direction, outcome
    from contacts
    where account_id = $account_id
        and list_contains($event_channels, channel)
        and list_contains($event_outcomes, outcome)
        and list_contains($event_directions, direction)
),

preferences as (
    select account_id, channel, opted_out_at
    from preferences
    where account_id = $account_id
),

consent_windows as (
    select
        'consent_window' as kind,
        timezone(a.timezone, g.given_at) as start_local,
        cast(cast(timezone(a.timezone, g.given_at) as date) + cast($consent_window_days as integer) as timestamp)
            as end_local,
        'consent given ' || strftime(timezone(a.timezone, g.given_at), '%Y-%m-%d %H:%M') as label,
        null as source_id
    from consents as g
    inner join accounts as a on a.account_id = g.account_id
),

cooldowns as (
    select
        'cooldown' as kind,
        timezone(a.timezone, v.ts) as start_local,
        cast(cast(timezone(a.timezone, v.ts) as date) + cast($cooldown_days as integer) as timestamp) as end_local,
        v.direction || ' ' || v.outcome || ' ' || v.contact_id as label,
        v.contact_id as source_id
    from conversations as v
    inner join accounts as a on a.account_id = v.account_id
),

opt_outs as (
    select
        case when p.channel = 'all' then 'cease' else 'opt_out' end as kind,
        timezone(a.timezone, p.opted_out_at) as start_local,
        cast(null as timestamp) as end_local,
        case when p.channel = 'all' then 'cease communication' else 'opted out of ' || p.channel end as label,
        null as source_id
    from preferences as p
    inner join accounts as a on a.account_id = p.account_id
),

final as (
    select * from consent_windows
    union all
    select * from cooldowns
    union all
    select * from opt_outs
)

select * from final
order by start_local, kind
