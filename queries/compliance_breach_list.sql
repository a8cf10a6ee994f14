-- The list of presumed breaches with the contact's and the account's attributes.
-- Grain: one row per breach = (contact_id, rule_id).
-- Parameters: the shared filters $start, $end (inclusive UTC dates of the contact's ts),
--   $portfolios, $teams, $strategies (account attributes), $channels (the contact's channel);
--   $rules (rule_ids); every empty list = all; $contact_id (one breach contact, null = all).
-- Units: ts is the instant (TIMESTAMPTZ); local_time is the wall time in the account's timezone
--   (text, YYYY-MM-DD HH:MM:SS); duration_s in seconds.
with

breaches as (
    select contact_id, account_id, rule_id, ts, evidence, explanation
    from breaches
    where chosen($rules, rule_id)
        and ($contact_id is null or contact_id = $contact_id)
),

contacts as (
    select contact_id, channel, direction, outcome, agent_id, duration_s
    from contacts
),

accounts as (
    select account_id, consumer_id, timezone, state, portfolio, team, strategy, vulnerable
    from accounts
),

final as (
    select
        b.contact_id,
        b.rule_id,
        b.account_id,
        a.consumer_id,
        b.ts,
        strftime(timezone(a.timezone, b.ts), '%Y-%m-%d %H:%M:%S') as local_time,
        a.timezone,
        c.channel,
        c.direction,
        c.outcome,
        c.agent_id,
        a.team,
        a.strategy,
        a.portfolio,
        a.state,
        coalesce(a.vulnerable, false) as vulnerable,
        b.explanation,
        b.evidence
    from breaches as b
    inner join contacts as c on c.contact_id = b.contact_id
    inner join accounts as a on a.account_id = b.account_id
    where utc_day_between(b.ts, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and chosen($channels, c.channel)
)

select * from final
order by ts desc, contact_id asc, rule_id asc
