-- Presumed breaches counted by one dimension at a time: compliance_breach_counts.sql's rows, read from
-- the aggregate table breach_facts (analysis/aggregates.py).
-- Grain: one row per dimension x value; dimension is one of rule, team, agent, strategy, month.
--   team: the account's team, else the agent's; agent: the contact's agent_id; month: UTC calendar
--   month of the contact's ts as YYYY-MM; a missing value reads '(none)'.
-- Parameters: the shared filters $start, $end (inclusive UTC dates of the contact's ts), $portfolios,
--   $teams, $strategies (account attributes), $channels (the contact's channel); empty list = all.
-- Units: breaches = (contact, rule) pairs; contacts and accounts = distinct counts among them.
with

filtered as (
    select
        b.contact_id,
        b.account_id,
        b.rule_id,
        coalesce(b.team, b.agent_team, '(none)') as team,
        coalesce(b.agent_id, '(none)') as agent,
        coalesce(b.strategy, '(none)') as strategy,
        strftime(b.day, '%Y-%m') as month
    from breach_facts as b
    where b.day between $start and $end
        and account_chosen($portfolios, $teams, $strategies, b.portfolio, b.team, b.strategy)
        and chosen($channels, b.channel)
),

final as (
    select
        case
            when grouping(rule_id) = 0 then 'rule'
            when grouping(team) = 0 then 'team'
            when grouping(agent) = 0 then 'agent'
            when grouping(strategy) = 0 then 'strategy'
            else 'month'
        end as dimension,
        coalesce(rule_id, team, agent, strategy, month) as value,
        count(*) as breaches,
        count(distinct contact_id) as contacts,
        count(distinct account_id) as accounts
    from filtered
    group by grouping sets ((rule_id), (team), (agent), (strategy), (month))
)

select * from final
order by dimension asc, breaches desc, value asc
