-- One account's contacts for its timeline, with the rules each contact presumably breaches.
-- Grain: one row per contact of account $account_id, in contact order (ts, then contact_id).
-- Parameters: $account_id.
-- Units: ts is the instant; local_ts is the wall time in the account's timezone (TIMESTAMP, no
--   zone); duration_s in seconds; rules_breached is a comma-separated list of rule_ids or ''.
with

accounts as (
    select account_id, timezone
    from accounts
    where account_id = $account_id
),

contacts as (
    select contact_id, account_id, ts, channel, direction, outcome, agent_id, duration_s
    from contacts
    where account_id = $account_id
),

breaches as (
    select contact_id, string_agg(rule_id, ', ' order by rule_id) as rules_breached
    from breaches
    where account_id = $account_id
    group by contact_id
),

final as (
    select
        c.contact_id,
        c.ts,
        timezone(a.timezone, c.ts) as local_ts,
        c.channel,
        c.direction,
        c.outcome,
        c.agent_id,
        c.duration_s,
        coalesce(b.rules_breached, '') as rules_breached
    from contacts as c
    inner join accounts as a on a.account_id = c.account_id
    left join breaches as b on b.contact_id = c.contact_id
)

select * from final
order by ts, contact_id
