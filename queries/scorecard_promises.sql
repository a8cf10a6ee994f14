-- Promises to pay made, due and kept per month of the reporting zone (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Units: counts. Made: created_at in M; due: due_date in M; kept (of those due): the sum of all the
-- account's payment amounts (reversals included) with created_at date <= paid_at date <= due_date + 3
-- days (dates in zone $tz) is at least the promised amount. One payment may count for several promises.
with

months as (
    select cast(g.m as date) as month_start
    from generate_series(cast($first_month as timestamp), cast($last_month as timestamp), interval 1 month) as g (m)
),

promises as (
    select
        pr.promise_id,
        pr.account_id,
        pr.amount,
        pr.due_date,
        cast(timezone($tz, pr.created_at) as date) as created_date,
        cast(date_trunc('month', timezone($tz, pr.created_at)) as date) as created_month,
        cast(date_trunc('month', pr.due_date) as date) as due_month
    from promises as pr
),

payments as (
    select p.account_id, p.amount, cast(timezone($tz, p.paid_at) as date) as paid_date
    from payments as p
),

paid_in_window as (
    select
        pr.promise_id,
        any_value(pr.amount) as promised_amount,
        coalesce(sum(p.amount), 0) as paid_amount
    from promises as pr
    left join payments as p
        on p.account_id = pr.account_id
        and p.paid_date between pr.created_date and pr.due_date + 3
    group by pr.promise_id
),

made as (
    select created_month as month_start, count(*) as promises_made
    from promises
    group by created_month
),

due as (
    select
        pr.due_month as month_start,
        count(*) as promises_due,
        count(*) filter (where w.paid_amount >= w.promised_amount) as promises_kept
    from promises as pr
    inner join paid_in_window as w on pr.promise_id = w.promise_id
    group by pr.due_month
),

final as (
    select
        m.month_start,
        coalesce(md.promises_made, 0) as promises_made,
        coalesce(d.promises_due, 0) as promises_due,
        coalesce(d.promises_kept, 0) as promises_kept
    from months as m
    left join made as md on m.month_start = md.month_start
    left join due as d on m.month_start = d.month_start
)

select * from final
order by month_start
