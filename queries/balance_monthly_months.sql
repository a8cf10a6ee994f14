-- The balance over time: balance_monthly.sql's rows, the range's whole UTC months read from the aggregate
-- balance_months (one row per account and month) and its part months at either end from the events
-- (outbound_facts, payments, complaints, surveys, conversation_sentiment) of those days only.
-- Grain: one row per month (UTC calendar month) x group ($by: team | strategy, the account's), for months
-- with any payment, contact, survey, complaint or scored conversation in $start..$end.
-- Parameters: $by, shared filters $start $end $portfolios $teams $strategies.
-- Inputs: the aggregate tables balance_months and outbound_facts (analysis/aggregates.py), accounts, payments,
-- complaints, surveys and the derived table conversation_sentiment.
-- Units: placed_balance_in_book (accounts placed by the month's end) and collected_amount (paid in the
-- month) in currency; counts otherwise. monthly recovery % = collected / placed in book, in Python.
with

accounts as (
    select
        a.account_id,
        a.placed_balance,
        a.placed_date,
        coalesce(case $by when 'team' then a.team else a.strategy end, '(none)') as grp
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

whole as (
    select
        m.month_start,
        a.grp,
        sum(m.collected) as collected_amount,
        cast(sum(m.contacts) as bigint) as contacts_made,
        cast(sum(m.breach_contacts) as bigint) as breach_contacts,
        cast(sum(m.complaints) as bigint) as complaints,
        cast(sum(m.promoters) as bigint) as promoters,
        cast(sum(m.passives) as bigint) as passives,
        cast(sum(m.detractors) as bigint) as detractors,
        cast(sum(m.conversations_scored) as bigint) as conversations_scored,
        cast(sum(m.conversations_negative) as bigint) as conversations_negative
    from balance_months as m
    inner join accounts as a on m.account_id = a.account_id
    where in_whole_months(m.month_start, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, m.portfolio, m.team, m.strategy)
    group by all
),

events as (
    select
        p.account_id, cast(utc_timestamp(p.paid_at) as date) as day, 'payment' as kind, p.amount, null as nps,
        null as label, false as breached
    from payments as p
    where utc_part_month_day(p.paid_at, $start, $end)
    union all
    select o.account_id, o.day, 'contact' as kind, null as amount, null as nps, null as label, o.breached
    from outbound_facts as o
    where part_month_day(o.day, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, o.portfolio, o.team, o.strategy)
    union all
    select
        s.account_id, cast(utc_timestamp(s.responded_at) as date) as day, 'survey' as kind, null as amount, s.nps,
        null as label, false as breached
    from surveys as s
    where utc_part_month_day(s.responded_at, $start, $end) and s.nps is not null
    union all
    select
        k.account_id, cast(utc_timestamp(k.received_at) as date) as day, 'complaint' as kind, null as amount,
        null as nps, null as label, false as breached
    from complaints as k
    where utc_part_month_day(k.received_at, $start, $end)
    union all
    select
        v.account_id, cast(utc_timestamp(v.started_at) as date) as day, 'conversation' as kind,
        null as amount, null as nps, v.label, false as breached
    from conversation_sentiment as v
    where utc_part_month_day(v.started_at, $start, $end) and v.label is not null
),

part as (
    select
        cast(date_trunc('month', e.day) as date) as month_start,
        a.grp,
        coalesce(sum(e.amount) filter (where e.kind = 'payment'), 0) as collected_amount,
        count(*) filter (where e.kind = 'contact') as contacts_made,
        count(*) filter (where e.kind = 'contact' and e.breached) as breach_contacts,
        count(*) filter (where e.kind = 'complaint') as complaints,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'promoter') as promoters,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'passive') as passives,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'detractor') as detractors,
        count(*) filter (where e.kind = 'conversation') as conversations_scored,
        count(*) filter (where e.kind = 'conversation' and e.label = 'negative') as conversations_negative
    from events as e
    inner join accounts as a on e.account_id = a.account_id
    group by all
),

monthly as (
    select * from whole
    union all by name
    select * from part
),

book as (
    select
        m.month_start,
        a.grp,
        count(*) as accounts_in_book,
        sum(a.placed_balance) as placed_balance_in_book
    from (select distinct month_start from monthly) as m
    inner join accounts as a on a.placed_date < m.month_start + interval 1 month
    group by all
),

final as (
    select
        m.*,
        coalesce(b.accounts_in_book, 0) as accounts_in_book,
        coalesce(b.placed_balance_in_book, 0) as placed_balance_in_book
    from monthly as m
    left join book as b on m.month_start = b.month_start and m.grp = b.grp
)

select * from final
order by month_start, grp
