-- Payer retention: accounts that paid in the previous month and pay again in this one.
-- Grain: one row per UTC calendar month with a payer, for months in $start..$end.
-- Parameters: shared filters $start $end (UTC dates; the previous month may lie before $start)
-- $portfolios $teams $strategies. Units: account counts; a payer has a payment of amount > 0 in the month.
-- retention_pct = 100 * paid_both / paid_previous_month, in Python.
with

accounts as (
    select a.account_id
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

payer_months as (
    select distinct
        p.account_id,
        cast(date_trunc('month', utc_timestamp(p.paid_at)) as date) as month_start
    from payments as p
    inner join accounts as a on p.account_id = a.account_id
    where p.amount > 0
),

per_month as (
    select month_start, count(*) as paying_accounts
    from payer_months
    group by month_start
),

previous as (
    select
        cast(pm.month_start + interval 1 month as date) as month_start,
        count(*) as paid_previous_month,
        count(nx.account_id) as paid_both
    from payer_months as pm
    left join payer_months as nx
        on pm.account_id = nx.account_id
        and nx.month_start = cast(pm.month_start + interval 1 month as date)
    group by all
),

final as (
    select
        m.month_start,
        m.paying_accounts,
        coalesce(p.paid_previous_month, 0) as paid_previous_month,
        coalesce(p.paid_both, 0) as paid_both
    from per_month as m
    left join previous as p on m.month_start = p.month_start
    where m.month_start between date_trunc('month', cast($start as date)) and $end
)

select * from final
order by month_start
