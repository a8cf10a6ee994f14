-- Recovery against experience per team or strategy: balance_groups.sql's rows, the range's whole UTC months read
-- from the aggregate balance_months (one row per account and month) and its part months at either end from the
-- events (outbound_facts, payments, complaints, surveys, conversation_sentiment) of those days only.
-- Grain: one row per group ($by: team | strategy, the account's; the agent grouping is balance_groups_agg.sql).
-- Parameters: $by, shared filters $start $end (UTC dates of each event) $portfolios $teams $strategies.
-- Inputs: the aggregate tables balance_months and outbound_facts (analysis/aggregates.py), accounts, payments,
-- complaints, surveys and the derived table conversation_sentiment.
-- Units: currency for amounts; counts otherwise; *_sq and *_x_* are per-account sums of squares and
-- products, for the ratio estimators' standard errors (Python).
with

accounts as (
    select
        a.account_id,
        a.placed_balance,
        coalesce(case $by when 'team' then a.team else a.strategy end, '(none)') as grp
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and a.placed_date <= $end
),

whole as (
    select
        m.account_id,
        sum(m.contacts) as contacts,
        sum(m.breach_contacts) as breach_contacts,
        sum(m.collected) as collected,
        sum(m.complaints) as complaints,
        sum(m.promoters) as promoters,
        sum(m.passives) as passives,
        sum(m.detractors) as detractors,
        sum(m.conversations_scored) as conversations_scored,
        sum(m.conversations_negative) as conversations_negative
    from balance_months as m
    where in_whole_months(m.month_start, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, m.portfolio, m.team, m.strategy)
    group by m.account_id
),

events as (
    select o.account_id, 'contact' as kind, o.breached, null as amount, null as nps, null as label
    from outbound_facts as o
    where part_month_day(o.day, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, o.portfolio, o.team, o.strategy)
    union all
    select p.account_id, 'payment' as kind, false as breached, p.amount, null as nps, null as label
    from payments as p
    where utc_part_month_day(p.paid_at, $start, $end)
    union all
    select k.account_id, 'complaint' as kind, false as breached, null as amount, null as nps, null as label
    from complaints as k
    where utc_part_month_day(k.received_at, $start, $end)
    union all
    select s.account_id, 'survey' as kind, false as breached, null as amount, s.nps, null as label
    from surveys as s
    where utc_part_month_day(s.responded_at, $start, $end) and s.nps is not null
    union all
    select v.account_id, 'conversation' as kind, false as breached, null as amount, null as nps, v.label
    from conversation_sentiment as v
    where utc_part_month_day(v.started_at, $start, $end) and v.label is not null
),

part as (
    select
        e.account_id,
        count(*) filter (where e.kind = 'contact') as contacts,
        count(*) filter (where e.kind = 'contact' and e.breached) as breach_contacts,
        coalesce(sum(e.amount) filter (where e.kind = 'payment'), 0) as collected,
        count(*) filter (where e.kind = 'complaint') as complaints,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'promoter') as promoters,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'passive') as passives,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'detractor') as detractors,
        count(*) filter (where e.kind = 'conversation') as conversations_scored,
        count(*) filter (where e.kind = 'conversation' and e.label = 'negative') as conversations_negative
    from events as e
    group by e.account_id
),

per_account as (
    select
        a.grp,
        a.account_id,
        a.placed_balance,
        coalesce(w.collected, 0) + coalesce(p.collected, 0) as collected,
        cast(coalesce(w.contacts, 0) + coalesce(p.contacts, 0) as bigint) as contacts,
        cast(coalesce(w.breach_contacts, 0) + coalesce(p.breach_contacts, 0) as bigint) as breach_contacts,
        cast(coalesce(w.complaints, 0) + coalesce(p.complaints, 0) as bigint) as complaints,
        cast(coalesce(w.promoters, 0) + coalesce(p.promoters, 0) as bigint) as promoters,
        cast(coalesce(w.passives, 0) + coalesce(p.passives, 0) as bigint) as passives,
        cast(coalesce(w.detractors, 0) + coalesce(p.detractors, 0) as bigint) as detractors,
        cast(coalesce(w.conversations_scored, 0) + coalesce(p.conversations_scored, 0) as bigint)
            as conversations_scored,
        cast(coalesce(w.conversations_negative, 0) + coalesce(p.conversations_negative, 0) as bigint)
            as conversations_negative
    from accounts as a
    left join whole as w on a.account_id = w.account_id
    left join part as p on a.account_id = p.account_id
),

final as (
    select
        grp as group_name,
        count(*) as accounts,
        sum(placed_balance) as placed_balance,
        sum(collected) as collected_amount,
        sum(contacts) as contacts_made,
        sum(breach_contacts) as breach_contacts,
        sum(complaints) as complaints,
        sum(cast(placed_balance as double) ^ 2) as placed_sq,
        sum(cast(collected as double) ^ 2) as collected_sq,
        sum(cast(collected as double) * cast(placed_balance as double)) as collected_x_placed,
        sum(cast(contacts as double) ^ 2) as contacts_sq,
        sum(cast(collected as double) * contacts) as collected_x_contacts,
        sum(promoters) as promoters,
        sum(passives) as passives,
        sum(detractors) as detractors,
        sum(conversations_scored) as conversations_scored,
        sum(conversations_negative) as conversations_negative
    from per_account
    group by grp
)

select * from final
order by group_name
