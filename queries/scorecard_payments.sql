-- Money collected and paying accounts per month of the reporting zone (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Units: collected_amount in currency (sum of all payment amounts, reversals included);
-- paying_accounts: distinct accounts with a payment of amount > 0 in the month.
with

months as (
    select cast(g.m as date) as month_start
    from generate_series(cast($first_month as timestamp), cast($last_month as timestamp), interval 1 month) as g (m)
),

payments as (
    select
        p.account_id,
        p.amount,
        cast(date_trunc('month', timezone($tz, p.paid_at)) as date) as month_start
    from payments as p
),

per_month as (
    select
        month_start,
        sum(amount) as collected_amount,
        count(distinct account_id) filter (where amount > 0) as paying_accounts
    from payments
    group by month_start
),

final as (
    select
        m.month_start,
        coalesce(p.collected_amount, 0) as collected_amount,
        coalesce(p.paying_accounts, 0) as paying_accounts
    from months as m
    left join per_month as p on m.month_start = p.month_start
)

select * from final
order by month_start
