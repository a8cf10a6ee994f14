-- Money collected per month and segment; a payment's channel is that of the account's last contact before it.
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

payments as (
    select p.payment_id, p.account_id, p.paid_at, p.amount
    from payments as p
    where utc_day_between(p.paid_at, $start, $end)
),

contacts as (
    select c.account_id, c.ts, c.channel
    from contacts as c
),

attributed as (
    select
        p.payment_id,
        p.account_id,
        p.amount,
        cast(date_trunc('month', utc_timestamp(p.paid_at)) as date) as month_start,
        coalesce(c.channel, 'no prior contact') as last_channel
    from payments as p
    asof left join contacts as c
        on p.account_id = c.account_id
        and p.paid_at > c.ts
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
    from attributed as t
    inner join accounts as a on t.account_id = a.account_id
    where chosen($channels, t.last_channel)
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
