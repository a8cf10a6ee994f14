-- Presumed contact-rule breaches per month of the reporting zone (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Input: table breaches (contact_id, account_id, rule_id, ts): the stored audit, or, for the command's
-- default-rules figures when another rule set produced it, the caller's temporary table of the engine's
-- breaches, which hides it on that cursor. Units: counts; a breach is a (contact, rule) pair.
with

months as (
    select cast(g.m as date) as month_start
    from generate_series(cast($first_month as timestamp), cast($last_month as timestamp), interval 1 month) as g (m)
),

pairs as (
    select distinct
        b.contact_id,
        b.rule_id,
        b.account_id,
        cast(date_trunc('month', timezone($tz, cast(b.ts as timestamptz))) as date) as month_start
    from breaches as b
),

per_month as (
    select
        month_start,
        count(*) as contact_breaches,
        count(distinct account_id) as accounts_with_breach
    from pairs
    group by month_start
),

final as (
    select
        m.month_start,
        coalesce(p.contact_breaches, 0) as contact_breaches,
        coalesce(p.accounts_with_breach, 0) as accounts_with_breach
    from months as m
    left join per_month as p on m.month_start = p.month_start
)

select * from final
order by month_start
