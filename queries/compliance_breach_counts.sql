-- Presumed breaches counted by one dimension at a time (the Compliance page's "by ..." views).
-- Grain: one row per dimension x value; dimension is one of rule, team, agent, strategy, month.
--   team: the account's team, else the agent's; agent: the contact's agent_id; month: UTC calendar
--   month of the contact's ts as YYYY-MM; a missing value reads '(none)'.
-- Parameters: the shared filters $start, $end (inclusive UTC dates of the contact's ts), $portfolios,
--   $teams, $strategies (account attributes), $channels (the contact's channel); empty list = all.
-- Units: breaches = (contact, rule) pairs; contacts and accounts = distinct counts among them.
with

breaches as (
    select contact_id, account_id, rule_id, ts
    from breaches
),

contacts as (
    select contact_id, channel, agent_id
    from contacts
),

accounts as (
    select account_id, portfolio, team, strategy
    from accounts
),

agents as (
    select agent_id, team
    from agents
),

filtered as (
    select
        b.contact_id,
        b.account_id,
        b.rule_id,
        coalesce(a.team, ag.team, '(none)') as team,
        coalesce(c.agent_id, '(none)') as agent,
        coalesce(a.strategy, '(none)') as strategy,
        strftime(utc_timestamp(b.ts), '%Y-%m') as month
    from breaches as b
    inner join contacts as c on c.contact_id = b.contact_id
    inner join accounts as a on a.account_id = b.account_id
    left join agents as ag on ag.agent_id = c.agent_id
    where utc_day_between(b.ts, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and chosen($channels, c.channel)
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
