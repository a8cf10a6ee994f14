-- Breaches and placed calls per agent and per team: compliance_offenders.sql's rows, read from the
-- aggregate table contact_daily (analysis/aggregates.py).
-- Grain: one row per level x name; level is 'agent' (the contact's agent_id) or 'team' (the
--   account's team, else the agent's team). Rows with no placed call keep placed_calls 0 (Python
--   gives them an empty rate, not 0).
-- Parameters: the shared filters $start, $end (inclusive UTC dates of ts), $portfolios, $teams,
--   $strategies (account attributes), $channels (applies to the breach contacts only: the
--   denominator is always placed calls); empty list = all.
-- Units: breaches = (contact, rule) pairs on any channel; placed_calls = outbound calls, any outcome.
with

per_group as (
    select
        coalesce(d.agent_id, '(none)') as agent,
        coalesce(d.team, d.agent_team, '(none)') as team,
        case when chosen($channels, d.channel) then d.breaches else 0 end as breaches,
        case when is_placed_call(d.channel, d.direction) then d.contacts else 0 end as placed_calls
    from contact_daily as d
    where d.day between $start and $end
        and chosen($portfolios, d.portfolio)
        and chosen($teams, d.team)
        and chosen($strategies, d.strategy)
),

final as (
    select
        case when grouping(agent) = 0 then 'agent' else 'team' end as level,
        coalesce(agent, team) as name,
        sum(breaches) as breaches,
        cast(sum(placed_calls) as bigint) as placed_calls
    from per_group
    group by grouping sets ((agent), (team))
)

select * from final
order by level, name
