-- Macro: complaint_months(tz, first_month, last_month, f_start, f_end, portfolios, teams, strategies)
-- Complaint handling per month, defined once for the Complaints page and the Scorecard (SPEC
-- section 3): received in M; resolved in M with its median and p90 resolution time, 8-week and
-- 3-business-day counts and redress; open at the end of M (received before the end of M and not
-- resolved before it); accounts in book (placed_date on or before the last day of M).
-- Grain: one row per month of zone tz from first_month to last_month (first days, inclusive).
-- Parameters: tz; f_start, f_end (dates in tz, inclusive) limit received and resolved counts;
--   portfolios, teams, strategies (lists, empty = all) limit complaints and the book by account.
-- Units: counts; *_days in days of 86,400 s (fractional); redress in the amount's currency.
with

months as (
    select
        cast(g.m as date) as month,
        timezone(tz, g.m + interval 1 month) as month_end
    from generate_series(cast(first_month as timestamp), cast(last_month as timestamp), interval 1 month) as g (m)
),

facts as (
    select *
    from complaint_facts(tz)
    where account_chosen(portfolios, teams, strategies, portfolio, team, strategy)
),

book as (
    select account_id, placed_date
    from accounts
    where account_chosen(portfolios, teams, strategies, portfolio, team, strategy)
),

received as (
    select received_month as month, count(*) as received
    from facts
    where received_date between f_start and f_end
    group by received_month
),

resolved as (
    select
        resolved_month as month,
        count(*) as resolved,
        count(*) filter (where resolved_within_8_weeks) as resolved_within_8_weeks,
        count(*) filter (where resolved_within_3_business_days) as resolved_within_3_business_days,
        median(resolution_days) as median_resolution_days,
        quantile_cont(resolution_days, 0.9) as p90_resolution_days,
        sum(redress_amount) as redress_paid
    from facts
    where resolved_date between f_start and f_end
    group by resolved_month
),

open_end as (
    select m.month, count(f.complaint_id) as open_end_of_month
    from months as m
    left join facts as f
        on f.received_at < m.month_end
        and (f.resolved_at is null or f.resolved_at >= m.month_end)
    group by m.month
),

in_book as (
    select m.month, count(k.account_id) as accounts_in_book
    from months as m
    left join book as k on k.placed_date <= cast(m.month + interval 1 month as date) - 1
    group by m.month
),

final as (
    select
        m.month,
        coalesce(rc.received, 0) as received,
        ib.accounts_in_book,
        coalesce(rs.resolved, 0) as resolved,
        coalesce(rs.resolved_within_8_weeks, 0) as resolved_within_8_weeks,
        coalesce(rs.resolved_within_3_business_days, 0) as resolved_within_3_business_days,
        rs.median_resolution_days,
        rs.p90_resolution_days,
        coalesce(rs.redress_paid, 0) as redress_paid,
        oe.open_end_of_month
    from months as m
    left join received as rc on m.month = rc.month
    left join resolved as rs on m.month = rs.month
    left join open_end as oe on m.month = oe.month
    left join in_book as ib on m.month = ib.month
)

select * from final
