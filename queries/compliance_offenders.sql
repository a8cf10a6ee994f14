-- Breaches and placed calls per agent and per team, for "worst offenders" (breaches per 1,000 calls).
-- Grain: one row per level x name; level is 'agent' (the contact's agent_id) or 'team' (the
--   account's team, else the agent's team). Rows with no placed call keep placed_calls 0 (Python
--   gives them an empty rate, not 0).
-- Parameters: the shared filters $start, $end (inclusive UTC dates of ts), $portfolios, $teams,
--   $strategies (account attributes), $channels (applies to the breach contacts only: the
--   denominator is always placed calls); empty list = all.
-- Units: breaches = (contact, rule) pairs on any channel; placed_calls = outbound calls, any outcome.
with

breaches as (
    select contact_id, count(*) as breaches
    from breaches
    group by contact_id
),

contacts as (
    select contact_id, account_id, ts, channel, direction, agent_id
    from contacts
    where utc_day_between(ts, $start, $end)
),

accounts as (
    select account_id, team
    from accounts
    where chosen($portfolios, portfolio)
        and chosen($teams, team)
        and chosen($strategies, strategy)
),

agents as (
    select agent_id, team
    from agents
),

attributed as (
    select
        c.contact_id,
        c.channel,
        is_placed_call(c.channel, c.direction) as is_placed_call,
        coalesce(c.agent_id, '(none)') as agent,
        coalesce(a.team, ag.team, '(none)') as team
    from contacts as c
    inner join accounts as a on a.account_id = c.account_id
    left join agents as ag on ag.agent_id = c.agent_id
),

per_contact as (
    select
        t.agent,
        t.team,
        t.is_placed_call,
        case when chosen($channels, t.channel) then coalesce(b.breaches, 0) else 0 end
            as breaches
    from attributed as t
    left join breaches as b on b.contact_id = t.contact_id
),

final as (
    select
        case when grouping(agent) = 0 then 'agent' else 'team' end as level,
        coalesce(agent, team) as name,
        sum(breaches) as breaches,
        count(*) filter (where is_placed_call) as placed_calls
    from per_contact
    group by grouping sets ((agent), (team))
)

select * from final
order by level, name
