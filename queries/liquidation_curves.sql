-- Liquidation curves: what each placement vintage has paid, by months since placement.
-- Grain: one row per vintage (UTC month of placed_date) x months_since_placement (0 = the placement month),
-- up to the month of the data's last payment. Parameters: $portfolios $teams $strategies.
-- Units: placed_balance (the vintage's, repeated on each row) and collected_amount (paid in that month,
-- reversals included) in currency; accounts count. Cumulative shares are computed in Python.
with

accounts as (
    select a.account_id, a.placed_balance, cast(date_trunc('month', a.placed_date) as date) as vintage
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

vintages as (
    select vintage, count(*) as accounts, sum(placed_balance) as placed_balance
    from accounts
    group by vintage
),

last_month as (
    select cast(date_trunc('month', timezone('UTC', max(p.paid_at))) as date) as month_start
    from payments as p
),

spine as (
    select v.vintage, g.k as months_since_placement
    from vintages as v
    cross join last_month as lm
    cross join range(0, greatest(date_diff('month', v.vintage, lm.month_start), -1) + 1) as g (k)
),

paid as (
    select
        a.vintage,
        date_diff('month', a.vintage, cast(date_trunc('month', utc_timestamp(p.paid_at)) as date))
            as months_since_placement,
        sum(p.amount) as collected_amount
    from payments as p
    inner join accounts as a on p.account_id = a.account_id
    group by all
),

final as (
    select
        s.vintage,
        s.months_since_placement,
        v.accounts,
        v.placed_balance,
        coalesce(p.collected_amount, 0) as collected_amount
    from spine as s
    inner join vintages as v on s.vintage = v.vintage
    left join paid as p
        on s.vintage = p.vintage
        and s.months_since_placement = p.months_since_placement
)

select * from final
order by vintage, months_since_placement
