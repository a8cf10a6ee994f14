-- Presumed breaches per month and rule, with the month's placed calls: compliance_breach_trend.sql's rows,
-- read from the aggregate tables breach_facts and contact_daily (analysis/aggregates.py).
-- Grain: one row per month x rule_id, for months that have a placed call or a breach; a month
--   with calls and no breach has one row with rule_id null and breaches 0.
-- Parameters: the shared filters $start, $end (inclusive UTC dates), $portfolios, $teams,
--   $strategies (account attributes), $channels (the breach contact's channel); empty list = all.
-- Units: month = first day of the UTC calendar month; breaches = (contact, rule) pairs;
--   placed_calls = outbound calls of the filtered accounts in the month (any outcome).
with

calls as (
    select
        cast(date_trunc('month', d.day) as date) as month,
        cast(sum(d.contacts) as bigint) as placed_calls
    from contact_daily as d
    where is_placed_call(d.channel, d.direction)
        and d.day between $start and $end
        and chosen($portfolios, d.portfolio)
        and chosen($teams, d.team)
        and chosen($strategies, d.strategy)
    group by all
),

breach_months as (
    select
        cast(date_trunc('month', b.day) as date) as month,
        b.rule_id,
        count(*) as breaches,
        count(distinct b.account_id) as accounts
    from breach_facts as b
    where b.day between $start and $end
        and chosen($portfolios, b.portfolio)
        and chosen($teams, b.team)
        and chosen($strategies, b.strategy)
        and chosen($channels, b.channel)
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
