-- Lifetime collected per account, rolled up by segment: every payment up to $end, whenever placed.
-- Grain: one row per segment.
-- Parameters: $by (portfolio | team | strategy | product | state), $end (UTC date, inclusive), $portfolios
-- $teams $strategies. Units: accounts, paying_accounts (net collected > 0) counts; placed_balance,
-- collected_amount, median_collected_per_account in currency. Ratios are divided in Python.
with

accounts as (
    select
        a.account_id,
        a.placed_balance,
        coalesce(case $by
            when 'portfolio' then a.portfolio
            when 'team' then a.team
            when 'strategy' then a.strategy
            when 'product' then a.product
            else a.state
        end, '(none)') as segment
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and a.placed_date <= $end
),

paid as (
    select p.account_id, sum(p.amount) as collected_amount
    from payments as p
    where cast(utc_timestamp(p.paid_at) as date) <= $end
    group by p.account_id
),

per_account as (
    select a.segment, a.account_id, a.placed_balance, coalesce(p.collected_amount, 0) as collected_amount
    from accounts as a
    left join paid as p on a.account_id = p.account_id
),

final as (
    select
        segment,
        count(*) as accounts,
        count(*) filter (where collected_amount > 0) as paying_accounts,
        sum(placed_balance) as placed_balance,
        sum(collected_amount) as collected_amount,
        median(collected_amount) as median_collected_per_account
    from per_account
    group by segment
)

select * from final
order by segment
