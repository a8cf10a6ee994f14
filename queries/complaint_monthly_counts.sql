-- Complaint handling by month: one row per calendar month of the reporting zone $tz, from the first
-- to the last month in which a complaint was received or resolved (within the filter range); months
-- in between without events are listed with zero counts and empty medians.
-- Grain: one row per month (month: first day of the calendar month in $tz), first to last event month, gaps included.
-- Parameters: $tz; shared filters $start, $end (dates in $tz, inclusive), $portfolios, $teams,
--   $strategies (of the complaint's account; complaints without an account only pass when these are
--   empty); $channels is not used (complaints have no channel).
-- Units: counts of complaints and accounts; *_days in days of 86,400 s (fractional); redress in the
--   amount's currency. received: received in M; resolved: resolved in M (and its medians, 8-week and
--   3-business-day counts); open_end_of_month: received before the end of M and not resolved before it;
--   accounts_in_book: placed_date on or before the last day of M.
with complaints as (
    select * from complaints
),

accounts as (
    select account_id, placed_date, portfolio, team, strategy from accounts
),

book as (
    select *
    from accounts
    where (len($portfolios) = 0 or list_contains($portfolios, portfolio))
        and (len($teams) = 0 or list_contains($teams, team))
        and (len($strategies) = 0 or list_contains($strategies, strategy))
),

scoped as (
    select c.*
    from complaints as c
    left join accounts as a on a.account_id = c.account_id
    where (len($portfolios) = 0 or list_contains($portfolios, a.portfolio))
        and (len($teams) = 0 or list_contains($teams, a.team))
        and (len($strategies) = 0 or list_contains($strategies, a.strategy))
),

facts as (
    select
        complaint_id,
        received_at,
        resolved_at,
        redress_amount,
        cast(timezone($tz, received_at) as date) as received_date,
        cast(timezone($tz, resolved_at) as date) as resolved_date,
        cast(date_trunc('month', timezone($tz, received_at)) as date) as received_month,
        cast(date_trunc('month', timezone($tz, resolved_at)) as date) as resolved_month,
        (epoch_us(resolved_at) - epoch_us(received_at)) / 1e6 as resolution_s,
        -- DISP 1.5 summary resolution: by the end of the 3rd business day (Mon-Fri) after the day of receipt
        timezone($tz, cast(cast(timezone($tz, received_at) as date)
            + case isodow(cast(timezone($tz, received_at) as date))
                when 1 then 3 when 2 then 3 when 3 then 5 when 4 then 5 when 5 then 5 when 6 then 4 else 3
            end + 1 as timestamp)) as summary_deadline
    from scoped
),

event_months as (
    select received_month as month from facts where received_date between $start and $end
    union
    select resolved_month from facts where resolved_date between $start and $end
),

months as (
    select cast(unnest(generate_series(min(month), max(month), interval 1 month)) as date) as month
    from event_months
    having count(*) > 0
),

bounds as (
    select
        month,
        timezone($tz, cast(month + interval 1 month as timestamp)) as month_end
    from months
),

received as (
    select received_month as month, count(*) as received
    from facts
    where received_date between $start and $end
    group by received_month
),

resolved as (
    select
        resolved_month as month,
        count(*) as resolved,
        count(*) filter (where resolution_s <= 56 * 86400) as resolved_within_8_weeks,
        count(*) filter (where resolved_at < summary_deadline) as resolved_within_3_business_days,
        median(resolution_s / 86400) as median_resolution_days,
        quantile_cont(resolution_s / 86400, 0.9) as p90_resolution_days,
        sum(redress_amount) as redress_paid
    from facts
    where resolved_date between $start and $end
    group by resolved_month
),

open_end as (
    select b.month, count(f.complaint_id) as open_end_of_month
    from bounds as b
    left join facts as f
        on f.received_at < b.month_end
        and (f.resolved_at is null or f.resolved_at >= b.month_end)
    group by b.month
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
    left join received as rc on rc.month = m.month
    left join resolved as rs on rs.month = m.month
    left join open_end as oe on oe.month = m.month
    left join in_book as ib on ib.month = m.month
)

select * from final
order by month
