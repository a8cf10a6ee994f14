-- The balance over time: recovery and experience per UTC month and group.
-- Grain: one row per month (UTC calendar month) x group ($by: team | strategy, the account's), for months
-- with any payment, contact, survey, complaint or scored conversation in $start..$end.
-- Parameters: $by, shared filters $start $end $portfolios $teams $strategies. Inputs: relations
-- the derived tables breaches and conversation_sentiment, as in balance_groups.sql.
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

events as (
    select p.account_id, p.paid_at as ts, 'payment' as kind, p.amount, null as nps, null as label, null as contact_id
    from payments as p
    union all
    select c.account_id, c.ts, 'contact' as kind, null as amount, null as nps, null as label, c.contact_id
    from contacts as c
    where c.direction = 'outbound'
    union all
    select
        s.account_id, s.responded_at as ts, 'survey' as kind, null as amount, s.nps, null as label,
        null as contact_id
    from surveys as s
    where s.nps is not null
    union all
    select
        k.account_id, k.received_at as ts, 'complaint' as kind, null as amount, null as nps, null as label,
        null as contact_id
    from complaints as k
    union all
    select
        v.account_id, cast(v.started_at as timestamptz) as ts, 'conversation' as kind, null as amount,
        null as nps, v.label, null as contact_id
    from conversation_sentiment as v
    where v.label is not null
),

monthly as (
    select
        cast(date_trunc('month', utc_timestamp(e.ts)) as date) as month_start,
        a.grp,
        coalesce(sum(e.amount) filter (where e.kind = 'payment'), 0) as collected_amount,
        count(*) filter (where e.kind = 'contact') as contacts_made,
        count(*) filter (where e.kind = 'contact' and e.contact_id in (select b.contact_id from breaches as b))
            as breach_contacts,
        count(*) filter (where e.kind = 'complaint') as complaints,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'promoter') as promoters,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'passive') as passives,
        count(*) filter (where e.kind = 'survey' and nps_band(e.nps) = 'detractor') as detractors,
        count(*) filter (where e.kind = 'conversation') as conversations_scored,
        count(*) filter (where e.kind = 'conversation' and e.label = 'negative') as conversations_negative
    from events as e
    inner join accounts as a on e.account_id = a.account_id
    where utc_day_between(e.ts, $start, $end)
    group by all
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
