-- The book at the end of each month of the reporting zone, and what it has paid so far (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Units: accounts_in_book: accounts with placed_date <= last day of M; placed_balance_in_book and
-- paid_to_date_in_book: currency (sum of payment amounts, reversals included, paid before the end
-- of M by accounts in book). recovery_rate_pct = 100 * paid / placed, in Python.
with

months as (
    select cast(g.m as date) as month_start
    from generate_series(cast($first_month as timestamp), cast($last_month as timestamp), interval 1 month) as g (m)
),

accounts as (
    select a.account_id, a.placed_date, a.placed_balance
    from accounts as a
),

payments_by_month as (
    select
        p.account_id,
        cast(date_trunc('month', timezone($tz, p.paid_at)) as date) as paid_month,
        sum(p.amount) as amount
    from payments as p
    group by all
),

book as (
    select
        m.month_start,
        count(a.account_id) as accounts_in_book,
        sum(a.placed_balance) as placed_balance_in_book
    from months as m
    inner join accounts as a on a.placed_date < m.month_start + interval 1 month
    group by m.month_start
),

paid as (
    select
        m.month_start,
        sum(p.amount) as paid_to_date_in_book
    from months as m
    inner join payments_by_month as p on p.paid_month <= m.month_start
    inner join accounts as a
        on p.account_id = a.account_id
        and a.placed_date < m.month_start + interval 1 month
    group by m.month_start
),

final as (
    select
        m.month_start,
        coalesce(b.accounts_in_book, 0) as accounts_in_book,
        coalesce(b.placed_balance_in_book, 0) as placed_balance_in_book,
        coalesce(p.paid_to_date_in_book, 0) as paid_to_date_in_book
    from months as m
    left join book as b on m.month_start = b.month_start
    left join paid as p on m.month_start = p.month_start
)

select * from final
order by month_start
