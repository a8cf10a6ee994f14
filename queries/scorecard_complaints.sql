-- Complaints received, resolved and open per month of the reporting zone (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Units: counts; resolution_days_median in days of 86,400 s (fractional, interpolated median);
-- resolved_within_8_weeks counts resolutions with resolved_at - received_at <= 56 * 86,400 s.
-- Open at the end of M: received before the end of M and not resolved before it.
with

months as (
    select
        cast(g.m as date) as month_start,
        timezone($tz, g.m + interval 1 month) as month_end_at
    from generate_series(cast($first_month as timestamp), cast($last_month as timestamp), interval 1 month) as g (m)
),

complaints as (
    select
        c.complaint_id,
        c.received_at,
        c.resolved_at,
        cast(date_trunc('month', timezone($tz, c.received_at)) as date) as received_month,
        cast(date_trunc('month', timezone($tz, c.resolved_at)) as date) as resolved_month,
        (epoch(c.resolved_at) - epoch(c.received_at)) / 86400.0 as resolution_days
    from complaints as c
),

received as (
    select received_month as month_start, count(*) as complaints_received
    from complaints
    group by received_month
),

resolved as (
    select
        resolved_month as month_start,
        count(*) as complaints_resolved,
        median(resolution_days) as resolution_days_median,
        count(*) filter (where resolution_days <= 56) as resolved_within_8_weeks
    from complaints
    where resolved_at is not null
    group by resolved_month
),

still_open as (
    select m.month_start, count(c.complaint_id) as complaints_open_end_of_month
    from months as m
    inner join complaints as c
        on c.received_at < m.month_end_at
        and (c.resolved_at is null or c.resolved_at >= m.month_end_at)
    group by m.month_start
),

final as (
    select
        m.month_start,
        coalesce(rc.complaints_received, 0) as complaints_received,
        coalesce(rs.complaints_resolved, 0) as complaints_resolved,
        rs.resolution_days_median,
        coalesce(rs.resolved_within_8_weeks, 0) as resolved_within_8_weeks,
        coalesce(o.complaints_open_end_of_month, 0) as complaints_open_end_of_month
    from months as m
    left join received as rc on m.month_start = rc.month_start
    left join resolved as rs on m.month_start = rs.month_start
    left join still_open as o on m.month_start = o.month_start
)

select * from final
order by month_start
