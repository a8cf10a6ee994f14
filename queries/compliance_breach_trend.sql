-- Presumed breaches per month and rule, with the month's placed calls as a denominator.
-- Grain: one row per month x rule_id, for months that have a placed call or a breach; a month
--   with calls and no breach has one row with rule_id null and breaches 0.
-- Parameters: the shared filters $start, $end (inclusive UTC dates), $portfolios, $teams,
--   $strategies (account attributes), $channels (the breach contact's channel); empty list = all.
-- Units: month = first day of the UTC calendar month; breaches = (contact, rule) pairs;
--   placed_calls = outbound calls of the filtered accounts in the month (any outcome).
with

breaches as (
    select contact_id, account_id, rule_id, ts
    from breaches
),

contacts as (
    select contact_id, account_id, ts, channel, direction
    from contacts
),

accounts as (
    select account_id, portfolio, team, strategy
    from accounts
    where chosen($portfolios, portfolio)
        and chosen($teams, team)
        and chosen($strategies, strategy)
),

calls as (
    select
        cast(date_trunc('month', utc_timestamp(c.ts)) as date) as month,
        count(*) as placed_calls
    from contacts as c
    inner join accounts as a on a.account_id = c.account_id
    where is_placed_call(c.channel, c.direction)
        and utc_day_between(c.ts, $start, $end)
    group by all
),

breach_months as (
    select
        cast(date_trunc('month', utc_timestamp(b.ts)) as date) as month,
        b.rule_id,
        count(*) as breaches,
        count(distinct b.account_id) as accounts
    from breaches as b
    inner join accounts as a on a.account_id = b.account_id
    inner join contacts as c on c.contact_id = b.contact_id
    where utc_day_between(b.ts, $start, $end)
        and chosen($channels, c.channel)
    group by all
),

final as (
    select
        coalesce(bm.month, ca.month) as month,
        bm.rule_id,
        coalesce(bm.breaches, 0) as breaches,
        coalesce(bm.accounts, 0) as accounts,
        coalesce(ca.placed_calls, 0) as placed_calls
    from breach_months as bm
    full outer join calls as ca on ca.month = bm.month
)

select * from final
order by month, rule_id
