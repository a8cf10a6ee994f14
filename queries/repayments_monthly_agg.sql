-- Money collected per month and segment: repayments_monthly.sql's rows, each payment's channel of last
-- contact read from the aggregate table payment_facts (analysis/aggregates.py).
-- Grain: one row per month (UTC calendar month of paid_at) x segment.
-- Parameters: $by (portfolio | team | strategy | channel), the shared filters $start $end (UTC dates of
-- paid_at, inclusive) $portfolios $teams $strategies $channels (channel of the last contact).
-- Units: collected_amount in currency (reversals included); payments and paying_accounts (amount > 0) counts.
with

accounts as (
    select a.account_id, a.portfolio, a.team, a.strategy
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

segmented as (
    select
        t.month_start,
        t.account_id,
        t.amount,
        coalesce(case $by
            when 'portfolio' then a.portfolio
            when 'team' then a.team
            when 'strategy' then a.strategy
            else t.last_channel
        end, '(none)') as segment
    from payment_facts as t
    inner join accounts as a on t.account_id = a.account_id
    where t.day between $start and $end
        and chosen($channels, t.last_channel)
),

final as (
    select
        month_start,
        segment,
        sum(amount) as collected_amount,
        count(*) as payments,
        count(distinct account_id) filter (where amount > 0) as paying_accounts
    from segmented
    group by month_start, segment
)

select * from final
order by month_start, segment
